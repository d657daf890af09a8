"""`maintbook tick`: what the calendar decides, for every maintenance, once (cron, CI).

Each tick: recover runs that crashed (their holder is gone), then send the calendar's
notices of every maintenance — announce (and the page entry), reminders, rescheduled,
missed — in this process. Runs are never announced as started or completed from here: only
a run says what happened (SPEC §10).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import click

from maintbook.context import build_context
from maintbook.project import load_runbooks, require_config, select_occurrence
from maintbook.runtime import changes
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


def run_tick(*, paths: Sequence[Path], config_path: Path | None, now: datetime | None,
             fmt: str) -> int:
    config = require_config(config_path, fmt)
    moment = now or utc_now()
    store = Store.open(config.state, verify=True)
    try:
        for line in recover_crashed(store, moment):
            click.echo(line)
        folders = list(paths) or [config.root / "runbooks"]
        for item in load_runbooks(folders, config):
            if item.runbook is None:
                continue
            runbook = select_occurrence(item.runbook, config, moment)
            ctx = build_context(runbook, config)
            for due, sent in changes.tick_one(store, ctx, moment):
                for delivery in sent.deliveries:
                    if delivery.status != "skipped":
                        click.echo(f"{runbook.maintenance_id} {due.kind} -> {delivery.channel}: "
                                   f"{delivery.status}"
                                   + (f" ({delivery.error})" if delivery.error else ""))
                if not sent.deliveries:
                    click.echo(f"{runbook.maintenance_id} {due.kind}")
    finally:
        store.close()
    return 0
