"""Run rows: every `maintbook run` (and every plain ansible-playbook run of a compiled
runbook) leaves one, from its start to its outcome."""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from maintbook.store.db import Tx
from maintbook.timeparse import format_utc

_COLUMNS = (
    "run_id, maintenance, runbook, occurrence, type, started_at, ended_at, operator, outcome, "
    "check_run, retry, forced, folder, summary, recovered_at"
)


@dataclass(frozen=True)
class Run:
    run_id: str
    maintenance: str
    runbook: str
    occurrence: str | None
    type: str
    started_at: str
    ended_at: str | None
    operator: str | None
    outcome: str | None
    check_run: bool
    retry: bool
    forced: dict[str, str] | None
    folder: str | None
    summary: dict[str, Any]
    recovered_at: str | None


assert ", ".join(f.name for f in fields(Run)) == _COLUMNS


def _run(row: tuple[Any, ...]) -> Run:
    values = list(row)
    values[9], values[10] = bool(values[9]), bool(values[10])
    values[11] = json.loads(values[11]) if values[11] else None
    values[13] = json.loads(values[13] or "{}")
    return Run(*values)


def start(tx: Tx, run: Run) -> None:
    values: list[Any] = [getattr(run, f.name) for f in fields(Run)]
    values[9], values[10] = int(run.check_run), int(run.retry)
    values[11] = json.dumps(run.forced) if run.forced else None
    values[13] = json.dumps(run.summary, sort_keys=True)
    tx.execute(
        f"INSERT INTO runs ({_COLUMNS}) VALUES ({', '.join('?' * len(values))}) "
        "ON CONFLICT (run_id) DO NOTHING",
        values,
    )


def finish(
    tx: Tx,
    run_id: str,
    outcome: str,
    ended: datetime,
    summary: dict[str, Any],
    *,
    recovered: bool = False,
) -> None:
    """Record the outcome; a summary merges into what earlier calls recorded."""
    current = get(tx, run_id)
    merged = {**(current.summary if current else {}), **summary}
    tx.execute(
        "UPDATE runs SET outcome = ?, ended_at = ?, summary = ?, "
        "recovered_at = CASE WHEN ? = 1 THEN ? ELSE recovered_at END WHERE run_id = ?",
        (
            outcome,
            format_utc(ended),
            json.dumps(merged, sort_keys=True),
            int(recovered),
            format_utc(ended),
            run_id,
        ),
    )


def update_summary(tx: Tx, run_id: str, summary: dict[str, Any]) -> None:
    current = get(tx, run_id)
    if current is None:
        return
    merged = {**current.summary, **summary}
    tx.execute(
        "UPDATE runs SET summary = ? WHERE run_id = ?",
        (json.dumps(merged, sort_keys=True), run_id),
    )


def set_folder(tx: Tx, run_id: str, folder: str) -> None:
    tx.execute("UPDATE runs SET folder = ? WHERE run_id = ?", (folder, run_id))


def get(tx: Tx, run_id: str) -> Run | None:
    row = tx.one(f"SELECT {_COLUMNS} FROM runs WHERE run_id = ?", (run_id,))
    return None if row is None else _run(row)


def history(tx: Tx, runbook: str | None = None, last: int = 20) -> list[Run]:
    """The newest `last` runs (of one runbook, or all), newest first."""
    if runbook is None:
        rows = tx.all(f"SELECT {_COLUMNS} FROM runs ORDER BY started_at DESC, run_id DESC "
                      "LIMIT ?", (last,))
    else:
        rows = tx.all(
            f"SELECT {_COLUMNS} FROM runs WHERE runbook = ? OR maintenance = ? "
            "ORDER BY started_at DESC, run_id DESC LIMIT ?",
            (runbook, runbook, last),
        )
    return [_run(row) for row in rows]


def of_maintenance(tx: Tx, maintenance: str) -> list[Run]:
    rows = tx.all(
        f"SELECT {_COLUMNS} FROM runs WHERE maintenance = ? ORDER BY started_at", (maintenance,)
    )
    return [_run(row) for row in rows]
