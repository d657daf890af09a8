"""`maintbook tick`: send every notice of every scheduled runbook's timeline that is due, once.

Meant for cron or a CI schedule every few minutes. What is due comes from the pure
planner in maintbook.timeline and the notice ledger; the notices themselves go out
through the maintenance_notify module, all in one playbook run.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import click

from maintbook import state
from maintbook.calls import runbook_facts
from maintbook.config import Config
from maintbook.emit import Unsafe, emit
from maintbook.model import Runbook
from maintbook.project import load_runbooks, require_config
from maintbook.resources import shipped
from maintbook.runner import RunRequest, library_and_roles, run_playbook
from maintbook.secrets import env_names
from maintbook.timeline import TickRunbook, tick
from maintbook.timeparse import utc_now

# A runbook stays "scheduled" for tick until a day after its window ends.
GRACE = timedelta(days=1)


def scheduled(runbooks: Sequence[Runbook], config: Config, now: datetime) -> list[TickRunbook]:
    return [
        TickRunbook(
            runbook_facts(rb),
            rb.start,
            rb.end,
            list(config.policy.notices.get(rb.type, ())),
            list(rb.notify),
        )
        for rb in runbooks
        if rb.notify and rb.end + GRACE > now
    ]


def _literal(value: Any) -> Any:
    if isinstance(value, str):
        return Unsafe(value)
    if isinstance(value, dict):
        return {k: _literal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_literal(v) for v in value]
    return value


def notices_playbook(calls: Sequence[dict[str, Any]]) -> str:
    tasks = [
        {
            "name": f"Send {c['notice']} of {c['runbook']['id']} to {c['channel']}",
            "maintenance_notify": _literal(c),
            "ignore_errors": True,
            "register": f"maintbook_notice_{i}",
        }
        for i, c in enumerate(calls)
    ]
    play = {
        "name": "Send the due maintenance notices",
        "hosts": "localhost",
        "gather_facts": False,
        "vars": {"ansible_python_interpreter": "{{ ansible_playbook_python }}"},
        "tasks": tasks,
    }
    return emit([play], "Written by maintbook tick.")


def send_all(calls: Sequence[dict[str, Any]], config: Config) -> None:
    libraries, roles = library_and_roles(config.root, shipped("library"), shipped("roles"))
    with tempfile.TemporaryDirectory(prefix="maintbook-tick-") as folder:
        playbook = Path(folder) / "tick.yml"
        playbook.write_text(notices_playbook(calls), encoding="utf-8")
        inventory = Path(folder) / "inventory.yml"
        inventory.write_text("all:\n  hosts:\n    localhost:\n      ansible_connection: local\n")
        run_playbook(
            RunRequest(
                playbook=playbook,
                inventory=inventory,
                artifact_dir=Path(folder) / "artifacts",
                library_paths=libraries,
                role_paths=roles,
                extravars={},
                secret_names=tuple(sorted(set(env_names(config.raw)))),
            ),
            lambda event: None,
        )


def run_tick(
    paths: Sequence[Path], config_path: Path | None, now: datetime | None, fmt: str
) -> int:
    config = require_config(config_path, fmt)
    moment = now or utc_now()
    folders = list(paths) or [config.root / "runbooks"]
    runbooks = [item.runbook for item in load_runbooks(folders, config) if item.runbook]
    calls: list[dict[str, Any]] = []

    def collect(args: dict[str, Any]) -> bool:
        calls.append(args)
        return True

    tick(
        scheduled(runbooks, config, moment),
        {name: config.channel(name) for name in config.channels},
        config.state,
        moment,
        collect,
    )
    if calls:
        send_all(calls, config)
    sent = {
        (call["runbook"]["id"], row["notice"], row["channel"], row["status"])
        for call in calls
        for row in state.sent_notices(config.state, call["run_id"], call["runbook"]["id"])
        if row["channel"] == call["channel"]
    }
    for call in calls:
        ok = (call["runbook"]["id"], call["notice"], call["channel"], "sent") in sent
        click.echo(
            f"{call['runbook']['id']} {call['notice']} -> {call['channel']}: "
            f"{'sent' if ok else 'failed'}"
        )
    return 0
