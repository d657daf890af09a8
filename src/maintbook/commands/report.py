"""`maintbook report RUN_ID|RUNBOOK_ID`: the post-maintenance review of a run (a runbook id
or a maintenance id means its latest run)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from maintbook import records, review
from maintbook.errors import UsageError
from maintbook.project import require_config
from maintbook.store import Store, ledger, runs
from maintbook.timeparse import parse_rfc3339


def find(store: Store, key: str) -> runs.Run:
    with store.read() as tx:
        run = runs.get(tx, key) or next(iter(runs.history(tx, key, 1)), None)
    if run is None:
        raise UsageError(f"no recorded run {key!r}: give a run id (maintbook runs lists them), "
                         "a runbook id or a maintenance id")
    return run


def record_of(store: Store, run: runs.Run) -> dict[str, object]:
    """record.json when the run wrote one; else the record the state database holds (a run
    of the compiled playbook outside maintbook, or one that crashed)."""
    if run.folder and (Path(run.folder) / "record.json").is_file():
        data: dict[str, object] = json.loads((Path(run.folder) / "record.json").read_text())
        return data
    with store.read() as tx:
        notices = ledger.of_run(tx, run.run_id)
    window = run.summary.get("window") or {}
    start = parse_rfc3339(str(window.get("start") or run.started_at))
    end = parse_rfc3339(str(window.get("end") or run.ended_at or run.started_at))
    return records.build_record(run, notices, [], (start, end), run.maintenance)


def run_report(*, key: str, config_path: Path | None, fmt: str) -> int:
    config = require_config(config_path, "text")
    store = Store.open(config.state, verify=True)
    try:
        record = record_of(store, find(store, key))
    finally:
        store.close()
    click.echo(records.dump_json(record) if fmt == "json" else review.report(record), nl=False)
    return 0
