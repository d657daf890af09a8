"""Maintenance rows: one state per maintenance, changed only through `transition`."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime

from maintbook.lifecycle import ANNOUNCED, DRAFT, check_transition
from maintbook.store.db import Tx
from maintbook.timeparse import format_utc, parse_rfc3339

_COLUMNS = (
    "id, runbook, occurrence, state, window_start, window_end, announced_start, "
    "announced_end, announced_at, extended_end, page, reason, updated_at"
)


@dataclass(frozen=True)
class Maintenance:
    id: str
    runbook: str
    occurrence: str | None
    state: str
    window_start: str
    window_end: str
    announced_start: str | None
    announced_end: str | None
    announced_at: str | None
    extended_end: str | None
    page: str | None
    reason: str | None
    updated_at: str

    @property
    def start(self) -> datetime:
        return parse_rfc3339(self.window_start)

    @property
    def end(self) -> datetime:
        """The window end, as `maintbook extend` may have moved it."""
        return parse_rfc3339(self.extended_end or self.window_end)

    @property
    def announced(self) -> bool:
        return self.announced_at is not None


assert ", ".join(f.name for f in fields(Maintenance)) == _COLUMNS


def get(tx: Tx, maintenance: str) -> Maintenance | None:
    row = tx.one(f"SELECT {_COLUMNS} FROM maintenances WHERE id = ?", (maintenance,))
    return None if row is None else Maintenance(*row)


def ensure(
    tx: Tx,
    maintenance: str,
    runbook: str,
    occurrence: str | None,
    window: tuple[datetime, datetime],
    now: datetime,
) -> Maintenance:
    """The maintenance, created as a draft when it is new; its window follows the file."""
    start, end = format_utc(window[0]), format_utc(window[1])
    tx.execute(
        "INSERT INTO maintenances (id, runbook, occurrence, state, window_start, window_end, "
        "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
        "window_start = excluded.window_start, window_end = excluded.window_end",
        (maintenance, runbook, occurrence, DRAFT, start, end, format_utc(now)),
    )
    found = get(tx, maintenance)
    assert found is not None
    return found


def transition(
    tx: Tx,
    maintenance: str,
    wanted: str,
    now: datetime,
    *,
    run_id: str | None = None,
    note: str | None = None,
) -> Maintenance:
    """Move to `wanted` if the state machine allows it (TransitionError otherwise)."""
    current = get(tx, maintenance)
    if current is None:
        raise KeyError(maintenance)
    check_transition(current.state, wanted)
    tx.execute(
        "UPDATE maintenances SET state = ?, updated_at = ?, reason = COALESCE(?, reason) "
        "WHERE id = ?",
        (wanted, format_utc(now), note, maintenance),
    )
    tx.execute(
        "INSERT INTO transitions (maintenance, from_state, to_state, at, run_id, note) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (maintenance, current.state, wanted, format_utc(now), run_id, note),
    )
    found = get(tx, maintenance)
    assert found is not None
    return found


def mark_announced(tx: Tx, maintenance: str, now: datetime) -> Maintenance:
    """Customers were told the current window: the first announce, or a reschedule."""
    current = get(tx, maintenance)
    if current is None:
        raise KeyError(maintenance)
    if current.state == DRAFT:
        transition(tx, maintenance, ANNOUNCED, now, note="announced")
    tx.execute(
        "UPDATE maintenances SET announced_start = window_start, announced_end = window_end, "
        "announced_at = COALESCE(announced_at, ?) WHERE id = ?",
        (format_utc(now), maintenance),
    )
    found = get(tx, maintenance)
    assert found is not None
    return found


def set_page(tx: Tx, maintenance: str, status: str) -> None:
    tx.execute("UPDATE maintenances SET page = ? WHERE id = ?", (status, maintenance))


def extend(tx: Tx, maintenance: str, end: datetime) -> None:
    tx.execute(
        "UPDATE maintenances SET extended_end = ? WHERE id = ?", (format_utc(end), maintenance)
    )


def history(tx: Tx, maintenance: str) -> list[tuple[str | None, str, str, str | None]]:
    """(from, to, at, run id) of every transition, oldest first."""
    rows = tx.all(
        "SELECT from_state, to_state, at, run_id FROM transitions WHERE maintenance = ? "
        "ORDER BY id",
        (maintenance,),
    )
    return [(r[0], r[1], r[2], r[3]) for r in rows]


def of_runbook(tx: Tx, runbook: str) -> list[Maintenance]:
    rows = tx.all(
        f"SELECT {_COLUMNS} FROM maintenances WHERE runbook = ? ORDER BY window_start",
        (runbook,),
    )
    return [Maintenance(*row) for row in rows]
