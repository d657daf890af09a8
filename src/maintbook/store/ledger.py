"""The notice ledger: which notice of which maintenance reached which channel.

A notice is sent once per maintenance, kind and channel (`key`); the notices a run sends
(start, progress, rollback, complete, ...) are keyed by run as well, so that a second run
of the same maintenance after a failure sends its own, marked as a retry.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from maintbook.store.db import Tx
from maintbook.timeparse import format_utc

_COLUMNS = (
    "maintenance, runbook, kind, channel, run_id, key, status, attempts, error, sent_at, "
    "thread_ts, retry"
)


@dataclass(frozen=True)
class Entry:
    maintenance: str
    runbook: str
    kind: str
    channel: str
    run_id: str | None
    key: str
    status: str
    attempts: int
    error: str | None
    sent_at: str
    thread_ts: str | None
    retry: bool

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(Entry)}


assert ", ".join(f.name for f in fields(Entry)) == _COLUMNS


def _entry(row: tuple[Any, ...]) -> Entry:
    values = list(row)
    values[11] = bool(values[11])
    return Entry(*values)


def sent(tx: Tx, maintenance: str, channel: str, key: str) -> Entry | None:
    row = tx.one(
        f"SELECT {_COLUMNS} FROM notices WHERE maintenance = ? AND channel = ? AND key = ? "
        "AND status = 'sent' ORDER BY id LIMIT 1",
        (maintenance, channel, key),
    )
    return None if row is None else _entry(row)


def record(tx: Tx, entry: Entry) -> None:
    values: list[Any] = [getattr(entry, f.name) for f in fields(Entry)]
    values[11] = int(entry.retry)
    tx.execute(f"INSERT INTO notices ({_COLUMNS}) VALUES ({', '.join('?' * len(values))})", values)


def of_run(tx: Tx, run_id: str) -> list[Entry]:
    rows = tx.all(f"SELECT {_COLUMNS} FROM notices WHERE run_id = ? ORDER BY id", (run_id,))
    return [_entry(row) for row in rows]


def of_maintenance(tx: Tx, maintenance: str) -> list[Entry]:
    rows = tx.all(
        f"SELECT {_COLUMNS} FROM notices WHERE maintenance = ? ORDER BY id", (maintenance,)
    )
    return [_entry(row) for row in rows]


def first_sent(tx: Tx, maintenance: str, kind: str) -> list[Entry]:
    """The first successful delivery of `kind` on each channel."""
    rows = tx.all(
        f"SELECT {_COLUMNS} FROM notices WHERE maintenance = ? AND kind = ? AND status = 'sent' "
        "ORDER BY id",
        (maintenance, kind),
    )
    seen: dict[str, Entry] = {}
    for row in rows:
        entry = _entry(row)
        seen.setdefault(entry.channel, entry)
    return list(seen.values())


def thread_of(tx: Tx, maintenance: str, channel: str) -> str | None:
    """The Slack thread of the maintenance's first message on `channel`."""
    row = tx.one(
        "SELECT thread_ts FROM notices WHERE maintenance = ? AND channel = ? "
        "AND thread_ts IS NOT NULL AND status = 'sent' ORDER BY id LIMIT 1",
        (maintenance, channel),
    )
    return None if row is None else str(row[0])


def last_progress(tx: Tx, run_id: str, channel: str) -> str | None:
    row = tx.one(
        "SELECT MAX(sent_at) FROM notices WHERE run_id = ? AND channel = ? AND kind = 'progress' "
        "AND status = 'sent'",
        (run_id, channel),
    )
    return None if row is None or row[0] is None else str(row[0])


def now_text(now: datetime) -> str:
    return format_utc(now)
