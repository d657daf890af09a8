"""`maintbook extend RUNBOOK --by DURATION --reason TEXT`: a running maintenance takes longer:
its window, deadline, lease, silence and page move together, and an extended notice goes out,
within its type's maximum duration."""

from __future__ import annotations

from pathlib import Path

import click

from maintbook.context import build_context
from maintbook.errors import UsageError
from maintbook.project import load_concrete, require_config
from maintbook.runtime import changes
from maintbook.store import Store
from maintbook.timeparse import format_utc, parse_duration, utc_now


def run_extend(*, target: str, by: str, reason: str, config_path: Path | None, fmt: str) -> int:
    try:
        delta = parse_duration(by)
    except ValueError as exc:
        raise UsageError(f"--by {exc}") from None
    config = require_config(config_path, fmt)
    runbook = load_concrete(target, config, utc_now())
    rule = config.policy.types.get(runbook.type)
    store = Store.open(config.state, verify=True)
    try:
        end, sent = changes.extend(store, build_context(runbook, config), delta, reason,
                                   rule.max_duration if rule else None, utc_now())
    finally:
        store.close()
    click.echo(f"{runbook.maintenance_id}: extended until {format_utc(end)}")
    for line in sent.lines("  extended"):
        click.echo(line)
    return 0
