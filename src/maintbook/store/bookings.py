"""Bookings: the windows each checkout of a shared state has booked (SPEC §10).

A team's checkouts share one PostgreSQL state, not one folder: a runbook booked in one
checkout is a file the others do not have. `run` books the runbook it starts and `tick`
books every runbook of its checkout (replacing what that checkout booked before, so a
deleted or moved runbook stops blocking); `check` in another checkout then judges its
runbooks against these windows as it judges its own runbooks/ folder. A cancelled
maintenance releases its booking.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from maintbook.lifecycle import CANCELLED
from maintbook.store.db import Tx
from maintbook.timeparse import format_utc, parse_rfc3339

_COLUMNS = (
    "maintenance, runbook, occurrence, title, type, systems, targets, window_start, "
    "window_end, checkout, file, line, updated_at"
)


@dataclass(frozen=True)
class Booking:
    maintenance: str
    runbook: str
    occurrence: str | None
    title: str
    type: str
    systems: tuple[str, ...]
    targets: str
    window_start: str
    window_end: str
    checkout: str
    file: str
    line: int
    updated_at: str

    @property
    def span(self) -> tuple[datetime, datetime]:
        return parse_rfc3339(self.window_start), parse_rfc3339(self.window_end)


assert ", ".join(f.name for f in fields(Booking)) == _COLUMNS


def _booking(row: tuple[Any, ...]) -> Booking:
    values = list(row)
    values[5] = tuple(json.loads(values[5]))
    values[11] = int(values[11])
    return Booking(*values)


def _values(booking: Booking) -> list[Any]:
    values: list[Any] = [getattr(booking, f.name) for f in fields(Booking)]
    values[5] = json.dumps(list(booking.systems))
    return values


def book(tx: Tx, booking: Booking) -> None:
    """Book (or move) one maintenance's window; the last checkout to book it owns it."""
    updates = ", ".join(f"{c} = excluded.{c}" for c in _COLUMNS.split(", ")[1:])
    tx.execute(
        f"INSERT INTO bookings ({_COLUMNS}) VALUES ({', '.join('?' * len(fields(Booking)))}) "
        f"ON CONFLICT (maintenance) DO UPDATE SET {updates}",
        _values(booking),
    )


def rebook(tx: Tx, checkout: str, found: Sequence[Booking]) -> None:
    """What `checkout` books now replaces everything it booked before."""
    tx.execute("DELETE FROM bookings WHERE checkout = ?", (checkout,))
    for booking in found:
        book(tx, booking)


def of_others(tx: Tx, checkout: str, since: datetime) -> list[Booking]:
    """Bookings of every other checkout whose window ends after `since`, not cancelled."""
    rows = tx.all(
        f"SELECT {', '.join('b.' + c for c in _COLUMNS.split(', '))} FROM bookings b "
        "LEFT JOIN maintenances m ON m.id = b.maintenance "
        "WHERE b.checkout <> ? AND b.window_end > ? AND (m.state IS NULL OR m.state <> ?) "
        "ORDER BY b.window_start, b.maintenance",
        (checkout, format_utc(since), CANCELLED),
    )
    return [_booking(row) for row in rows]
