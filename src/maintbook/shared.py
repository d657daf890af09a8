"""Runbooks as bookings of the state database, and back (SPEC §10, maintbook.store.bookings).

A checkout is named `host:/project/root`. `book` and `rebook` write this checkout's one-off
runbooks (and occurrences being run); `booked_elsewhere` reads what other checkouts of a
shared (PostgreSQL) state booked, as runbooks that `check` compares like its own: a label
such as `MNT-2026-0002 (ops2:/srv/maint/runbooks/b.yml:7)` says where the other one is.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from maintbook.config import Config
from maintbook.model import Runbook, Targets
from maintbook.process import hostname
from maintbook.store import StateError, Store, bookings
from maintbook.store.bookings import Booking
from maintbook.timeparse import format_utc


def checkout(config: Config) -> str:
    return f"{hostname()}:{config.root}"


def _file(runbook: Runbook, config: Config) -> str:
    path = Path(runbook.file).resolve()
    return str(path.relative_to(config.root)) if path.is_relative_to(config.root) else str(path)


def booking_of(runbook: Runbook, config: Config, now: datetime) -> Booking:
    """The booking of a one-off runbook or of one occurrence."""
    return Booking(
        maintenance=runbook.maintenance_id,
        runbook=runbook.id,
        occurrence=runbook.occurrence,
        title=runbook.title,
        type=runbook.type,
        systems=runbook.systems,
        targets=runbook.targets.hosts,
        window_start=format_utc(runbook.start),
        window_end=format_utc(runbook.end),
        checkout=checkout(config),
        file=_file(runbook, config),
        line=runbook.lines.get("window", 1),
        updated_at=format_utc(now),
    )


def runbook_of(booking: Booking) -> Runbook:
    """A booking as the runbook `check` compares: its window, systems and targets."""
    start, end = booking.span
    root = booking.checkout.partition(":")[2]
    return Runbook(
        file=f"{booking.checkout.partition(':')[0]}:{Path(root, booking.file)}",
        id=booking.runbook,
        title=booking.title,
        owner="",
        type=booking.type,
        risk="",
        systems=booking.systems,
        window_start=start,
        duration=end - start,
        targets=Targets(hosts=booking.targets),
        steps=(),
        occurrence=booking.occurrence,
        lines={"window": booking.line},
    )


def book(store: Store, config: Config, runbooks: Sequence[Runbook], now: datetime, *,
         every: bool = False) -> None:
    """Book `runbooks` (series are left out); `every`: they are all this checkout books.
    Only a shared (PostgreSQL) state is booked: a SQLite state is one checkout's own, whose
    bookings nobody reads (`booked_elsewhere`), so `run` and `tick` write nothing there."""
    if not config.state.shared:
        return
    found = [booking_of(rb, config, now) for rb in runbooks if not rb.is_series]
    with store.write() as tx:
        if every:
            bookings.rebook(tx, checkout(config), found)
        else:
            for booking in found:
                bookings.book(tx, booking)


def booked_elsewhere(config: Config, now: datetime) -> list[Runbook]:
    """What other checkouts of a shared state booked; nothing for a SQLite state (one
    checkout's own), which is not even opened. A shared state out of reach (a CI job without
    its password) is a warning: the checkout's own runbooks are still judged."""
    if not config.state.shared:
        return []
    try:
        store = Store.open(config.state)
    except StateError as exc:
        sys.stderr.write(f"maintbook: warning: overlaps with other checkouts' bookings not "
                         f"checked: {exc}\n")
        return []
    try:
        with store.read() as tx:
            return [runbook_of(b) for b in bookings.of_others(tx, checkout(config), now)]
    finally:
        store.close()
