"""`maintbook tick`: what the calendar decides, for every maintenance, once (cron, CI).

Each tick: recover runs that crashed (their holder is gone); send the calendar's notices of
every one-off maintenance — announce (and the page entry), reminders, rescheduled, missed —
and of every recurring runbook (its series announce, moved, skipped and missed occurrences,
see maintbook.runtime.series_tick); then start the `run: auto` occurrences whose window is
open, one after the other, through the same gate and lifecycle as `maintbook run`.
A run is never announced as started or completed from here: only a run says what happened.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import click

from maintbook import shared
from maintbook.config import Config
from maintbook.context import build_context
from maintbook.errors import MaintbookError
from maintbook.model import Runbook
from maintbook.project import load_runbooks, require_config
from maintbook.runtime import changes
from maintbook.runtime.launch import RunOptions, run_runbook
from maintbook.runtime.series_tick import tick_series
from maintbook.store import Store, leases
from maintbook.timeparse import utc_now


def recover_crashed(store: Store, now: datetime) -> list[str]:
    lines = []
    with store.read() as tx:
        held = leases.live(tx)
    for lease in held:
        if leases.holder_state(lease, now) == "crashed":
            errors = changes.recover(store, lease, now)
            lines.append(f"{lease.maintenance} run {lease.run_id}: crashed, recovered"
                         + (f" (still open: {'; '.join(errors)})" if errors else ""))
    return lines


def _one_off(store: Store, runbook: Runbook, config: Config, moment: datetime) -> None:
    ctx = build_context(runbook, config)
    for due, sent in changes.tick_one(store, ctx, moment):
        for line in sent.lines(f"{runbook.maintenance_id} {due.kind}"):
            click.echo(line)
        if not sent.deliveries:
            click.echo(f"{runbook.maintenance_id} {due.kind}")


def _start(target: str, config_path: Path | None, inventory: Path | None,
           moment: datetime) -> None:
    """Start one due occurrence like `maintbook run RUNBOOK@OCCURRENCE`."""
    options = RunOptions(Path(target), config_path, inventory, False, None, (), None, False,
                         "text", moment)
    try:
        code = run_runbook(options=options)
    except MaintbookError as exc:
        click.echo(f"{target}: not started: {exc}")
        return
    click.echo(f"{target}: run ended with exit {code}")


def run_tick(*, paths: Sequence[Path], config_path: Path | None,
             inventory: Path | None = None, now: datetime | None, fmt: str) -> int:
    config = require_config(config_path, fmt)
    moment = now or utc_now()
    store = Store.open(config.state, verify=True)
    due: list[str] = []
    try:
        for line in recover_crashed(store, moment):
            click.echo(line)
        folders = list(paths) or [config.root / "runbooks"]
        loaded = [item.runbook for item in load_runbooks(folders, config) if item.runbook]
        shared.book(store, config, loaded, moment, every=not paths)
        for runbook in loaded:
            if not runbook.is_series:
                _one_off(store, runbook, config, moment)
                continue
            others = [rb for rb in loaded if rb.id != runbook.id]
            for event in tick_series(store, runbook, config, moment, others):
                if event.what == "due":
                    if runbook.recurrence and runbook.recurrence.run == "auto":
                        due.append(f"{runbook.file}@{event.detail}")
                    continue
                click.echo(f"{event.maintenance} {event.what}"
                           + (f": {event.detail}" if event.detail else ""))
    finally:
        store.close()
    for target in due:
        _start(target, config_path, inventory, moment)
    return 0
