"""The SQLite state database: window reservations and run records.

Notices keep their own ledger table (written by the maintenance_notify module).
Every function opens its own short connection: runs, modules and `tick` may share
the file from different processes.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from maintbook.policy import Reservation
from maintbook.timeparse import format_utc, parse_rfc3339

SCHEMA = """
CREATE TABLE IF NOT EXISTS reservations (
    runbook TEXT NOT NULL, run_id TEXT NOT NULL, systems TEXT NOT NULL, hosts TEXT NOT NULL,
    start TEXT NOT NULL, "end" TEXT NOT NULL, status TEXT NOT NULL, booked_at TEXT NOT NULL,
    released_at TEXT, outcome TEXT, forced_by TEXT, force_reason TEXT,
    PRIMARY KEY (runbook, run_id));
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY, runbook TEXT NOT NULL, type TEXT NOT NULL, started_at TEXT NOT NULL,
    ended_at TEXT, operator TEXT, outcome TEXT, forced TEXT, folder TEXT);
"""


@contextmanager
def connect(path: Path) -> Iterator[sqlite3.Connection]:
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path, timeout=30)
    try:
        connection.executescript(SCHEMA)
        with connection:
            yield connection
    finally:
        connection.close()


def live_reservations(path: Path, now: datetime) -> list[Reservation]:
    """Reservations of runs that have not released them and whose window has not ended."""
    if not path.exists():
        return []
    with connect(path) as db:
        rows = db.execute(
            "SELECT runbook, systems, hosts, start, \"end\" FROM reservations WHERE status = 'live'"
        ).fetchall()
    held = [
        Reservation(
            r[0],
            tuple(json.loads(r[1])),
            tuple(json.loads(r[2])),
            parse_rfc3339(r[3]),
            parse_rfc3339(r[4]),
        )
        for r in rows
    ]
    return [r for r in held if r.end > now]


def reservation_status(path: Path, runbook: str, run_id: str) -> str | None:
    if not path.exists():
        return None
    with connect(path) as db:
        row = db.execute(
            "SELECT status FROM reservations WHERE runbook = ? AND run_id = ?", (runbook, run_id)
        ).fetchone()
    return None if row is None else str(row[0])


def reserve(
    path: Path,
    held: Reservation,
    run_id: str,
    now: datetime,
    forced_by: str | None,
    force_reason: str | None,
) -> None:
    with connect(path) as db:
        db.execute(
            "INSERT OR IGNORE INTO reservations VALUES (?,?,?,?,?,?,'live',?,NULL,NULL,?,?)",
            (
                held.runbook_id,
                run_id,
                json.dumps(held.systems),
                json.dumps(held.hosts),
                format_utc(held.start),
                format_utc(held.end),
                format_utc(now),
                forced_by,
                force_reason,
            ),
        )


def release(path: Path, runbook: str, run_id: str, now: datetime, outcome: str | None) -> bool:
    """Release a live reservation; False when there was none to release."""
    with connect(path) as db:
        cursor = db.execute(
            "UPDATE reservations SET status = 'released', released_at = ?, "
            "outcome = ? WHERE runbook = ? AND run_id = ? AND status = 'live'",
            (format_utc(now), outcome, runbook, run_id),
        )
        return cursor.rowcount > 0


def save_run(path: Path, record: dict[str, Any], folder: str) -> None:
    with connect(path) as db:
        db.execute(
            "INSERT OR REPLACE INTO runs VALUES (?,?,?,?,?,?,?,?,?)",
            (
                record["run_id"],
                record["runbook"],
                record["type"],
                record["started_at"],
                record["ended_at"],
                record["operator"],
                record["outcome"],
                json.dumps(record["forced"]),
                folder,
            ),
        )


def find_run(path: Path, run_id: str) -> str | None:
    """The folder of a recorded run, by run id."""
    if not path.exists():
        return None
    with connect(path) as db:
        row = db.execute("SELECT folder FROM runs WHERE run_id = ?", (run_id,)).fetchone()
    return None if row is None else str(row[0])


def sent_notices(path: Path, run_id: str, runbook: str | None = None) -> list[dict[str, Any]]:
    """The notice ledger rows of one run (the table belongs to maintenance_notify)."""
    if not path.exists():
        return []
    with connect(path) as db:
        exists = db.execute("SELECT 1 FROM sqlite_master WHERE name = 'notices'").fetchone()
        if not exists:
            return []
        db.row_factory = sqlite3.Row
        rows = db.execute(
            "SELECT notice, channel, status, attempts, error, sent_at "
            "FROM notices WHERE run_id = ? AND (? IS NULL OR runbook = ?) "
            "ORDER BY rowid",
            (run_id, runbook, runbook),
        ).fetchall()
    return [dict(row) for row in rows]
