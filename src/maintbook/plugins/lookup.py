"""Lookup plugin `maintbook_run`: may a new step start? (SPEC §10, §12)

`lookup('maintbook_run', run)` is true while the run's lease is live, holds no stop (an
interrupt, a cancel) and its deadline — window end minus the rollback reserve, moved by
`maintbook extend` — lies ahead. Reaching the deadline records it as the run's stop reason.
A check run (no lease) always goes on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase

from maintbook.plugins.base import plain
from maintbook.store import Location, StateError, Store, leases
from maintbook.timeparse import parse_rfc3339, utc_now


def may_go(run: dict[str, Any]) -> bool:
    if run.get("check") or run.get("status") == "check":
        return True
    state = run["state"]
    store = Store.open(Location(Path(state["path"]) if state.get("path") else None,
                                state.get("url"), state.get("password_env")))
    try:
        with store.read() as tx:
            lease = leases.get(tx, run["run_id"])
        if lease is None or lease.status != "live" or lease.stop:
            return False
        if parse_rfc3339(lease.deadline) <= utc_now():
            with store.write() as tx:
                leases.request_stop(tx, run["run_id"], "deadline")
            return False
        return True
    finally:
        store.close()


class LookupModule(LookupBase):  # type: ignore[misc]
    def run(self, terms: list[Any], variables: Any = None, **kwargs: Any) -> list[bool]:
        if len(terms) != 1 or not isinstance(terms[0], dict):
            raise AnsibleLookupError("maintbook_run takes one term: the run (maintbook_run)")
        try:
            return [may_go(plain(terms[0]))]
        except (StateError, OSError, KeyError) as exc:
            raise AnsibleLookupError(f"maintbook_run: {exc}") from exc
