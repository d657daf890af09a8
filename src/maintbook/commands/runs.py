"""`maintbook runs [RUNBOOK_ID] [--last N]`: the run history, crashed runs named as such."""

from __future__ import annotations

import json
from pathlib import Path

import click

from maintbook.project import require_config
from maintbook.store import Store, leases, runs
from maintbook.timeparse import utc_now


def run_state(store: Store, run: runs.Run) -> str:
    """The outcome, or `running` / `crashed` for a run that has not ended."""
    if run.outcome:
        return run.outcome
    with store.read() as tx:
        lease = leases.get(tx, run.run_id)
    if lease is None or lease.status != "live":
        return "unknown"
    return leases.holder_state(lease, utc_now())


def run_runs(*, runbook: str | None, last: int, config_path: Path | None, fmt: str) -> int:
    config = require_config(config_path, fmt)
    store = Store.open(config.state, verify=True)
    try:
        with store.read() as tx:
            found = runs.history(tx, runbook, last)
        rows = [{
            "run_id": r.run_id, "runbook": r.runbook, "maintenance": r.maintenance,
            "occurrence": r.occurrence, "started_at": r.started_at, "ended_at": r.ended_at,
            "outcome": run_state(store, r), "forced": r.forced is not None,
            "check": r.check_run, "retry": r.retry, "recovered_at": r.recovered_at,
        } for r in found]
    finally:
        store.close()
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2))
        return 0
    if not rows:
        click.echo("No runs recorded.")
    for row in rows:
        flags = [name for name in ("forced", "check", "retry") if row[name]]
        if row["recovered_at"]:
            flags.append(f"recovered {row['recovered_at']}")
        click.echo(f"{row['run_id']}  {row['outcome']:<15} {row['started_at']} .. "
                   f"{row['ended_at'] or '':<20} {' '.join(flags)}".rstrip())
    return 0
