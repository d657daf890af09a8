"""`maintbook report RUN_ID`: the post-maintenance review of a recorded run."""

from __future__ import annotations

import json
from pathlib import Path

import click

from maintbook import records, state
from maintbook.errors import UsageError
from maintbook.project import require_config


def find_record(run_id: str, root: Path, db: Path) -> Path:
    """record.json of a run: by the state database, else by its folder name."""
    folder = state.find_run(db, run_id)
    if folder and (Path(folder) / "record.json").is_file():
        return Path(folder) / "record.json"
    runbook, _, stamp = run_id.rpartition("-")
    candidate = root / ".maintbook" / "runs" / runbook / stamp / "record.json"
    if runbook and candidate.is_file():
        return candidate
    raise UsageError(
        f"no recorded run {run_id!r} (run ids look like MNT-2026-0042-20261206T020000Z)"
    )


def run_report(run_id: str, config_path: Path | None, fmt: str) -> int:
    config = require_config(config_path, "text")
    path = find_record(run_id, config.root, config.state)
    record = json.loads(path.read_text(encoding="utf-8"))
    click.echo(records.dump_json(record) if fmt == "json" else records.report(record), nl=False)
    return 0
