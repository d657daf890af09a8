"""`maintbook recover [RUN_ID]`: close what crashed runs left open (SPEC §10).

A run is crashed when the process holding its lease is gone (same machine) or its heartbeat
went stale (another machine). Recovery closes the page (not as completed), expires the
silence, releases the window, sends an internal notice and records the run as interrupted,
with `recovered_at`. Maintenance mode and the hosts are left as they are, for a person.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import click

from maintbook.errors import UsageError
from maintbook.process import alive
from maintbook.project import require_config
from maintbook.runtime import changes
from maintbook.secrets import stale_folders
from maintbook.store import Store, leases
from maintbook.timeparse import utc_now


def _stale_sockets() -> int:
    """Socket folders a killed run left (they never hold a secret, only a dead socket)."""
    removed = 0
    for folder in stale_folders():
        owner = folder.name.removeprefix("maintbook-run-").split("-")[0]
        if not (owner.isdigit() and alive(int(owner), None)):
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    return removed


def run_recover(*, run_id: str | None, config_path: Path | None, fmt: str) -> int:
    config = require_config(config_path, fmt)
    now = utc_now()
    store = Store.open(config.state, verify=True)
    try:
        with store.read() as tx:
            held = [lease for lease in leases.live(tx) if run_id in (None, lease.run_id)]
        if run_id is not None and not held:
            raise UsageError(f"no live run {run_id!r} (maintbook runs lists them)")
        done = 0
        for lease in held:
            if leases.holder_state(lease, now) != "crashed":
                if run_id is not None:
                    raise UsageError(f"run {run_id} is still running (pid {lease.pid} on "
                                     f"{lease.hostname}); nothing to recover")
                continue
            errors = changes.recover(store, lease, now)
            done += 1
            click.echo(f"{lease.maintenance} run {lease.run_id}: recovered as interrupted"
                       + ("; still open: " + "; ".join(errors) if errors else ""))
    finally:
        store.close()
    _stale_sockets()
    if not done:
        click.echo("Nothing to recover.")
        return 1
    return 0
