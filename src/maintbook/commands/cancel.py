"""`maintbook cancel RUNBOOK[@OCCURRENCE] --reason TEXT`: a maintenance that will not take
place: cancelled notice, page entry cancelled, and a later run refused."""

from __future__ import annotations

from pathlib import Path

import click

from maintbook.context import build_context
from maintbook.project import load_concrete, require_config
from maintbook.runtime import changes
from maintbook.store import Store
from maintbook.timeparse import utc_now


def run_cancel(*, target: str, reason: str, config_path: Path | None, fmt: str) -> int:
    config = require_config(config_path, fmt)
    runbook = load_concrete(target, config, utc_now())
    store = Store.open(config.state, verify=True)
    try:
        sent = changes.cancel(store, build_context(runbook, config), reason, utc_now())
    finally:
        store.close()
    click.echo(f"{runbook.maintenance_id}: cancelled")
    for line in sent.lines("  cancelled"):
        click.echo(line)
    return 0
