"""maintbook tick: the pure planner on a simulated clock, and the glue with the real module."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from maintbook.timeline import (
    TimelineError,
    due_notices,
    notice_for_offset,
    parse_offset,
)

START = datetime(2026, 12, 6, 2, 0, tzinfo=UTC)
END = START + timedelta(hours=2)
PLANNED = ["-7d", "-3d", "-24h", "start", "complete"]


def walk(
    step: timedelta, skip: tuple[datetime, datetime] | None = None
) -> list[tuple[str, datetime]]:
    """Tick every ``step`` from 8 days before to 1 day after; return (offset, when) sent."""
    sent: set[str] = set()
    log: list[tuple[str, datetime]] = []
    now = START - timedelta(days=8)
    while now <= END + timedelta(days=1):
        if not (skip and skip[0] <= now < skip[1]):
            for offset in due_notices("MNT-2026-0042", START, END, PLANNED, sent, now):
                sent.add(offset)
                log.append((offset, now))
        now += step
    return log


def test_every_notice_once_on_time() -> None:
    log = walk(timedelta(minutes=5))
    assert [o for o, _ in log] == PLANNED
    assert [when for _, when in log] == [
        START - timedelta(days=7),
        START - timedelta(days=3),
        START - timedelta(hours=24),
        START,
        END,
    ]


def test_missed_notice_goes_out_late_once() -> None:
    outage = (START - timedelta(days=3, hours=1), START - timedelta(days=2))
    log = walk(timedelta(minutes=5), skip=outage)
    assert [o for o, _ in log] == PLANNED
    assert dict(log)["-3d"] == outage[1]


def test_long_gap_sends_only_the_latest_missed_notice() -> None:
    outage = (START - timedelta(days=7, hours=1), START - timedelta(hours=23))
    log = walk(timedelta(minutes=30), skip=outage)
    assert [o for o, _ in log] == ["-24h", "start", "complete"]


def test_nothing_due_twice_and_nothing_early() -> None:
    now = START - timedelta(hours=24)
    assert due_notices("R", START, END, PLANNED, set(), now - timedelta(seconds=1)) == ["-3d"]
    assert due_notices("R", START, END, PLANNED, {"-24h"}, now) == []
    assert due_notices("R", START, END, PLANNED, set(), START - timedelta(days=9)) == []


def test_offsets_and_notice_names() -> None:
    assert parse_offset("-1h30m") == -timedelta(hours=1, minutes=30)
    assert parse_offset("+30m") == timedelta(minutes=30)
    assert parse_offset("start") is None
    with pytest.raises(TimelineError):
        parse_offset("7 days")
    assert [notice_for_offset(o, PLANNED) for o in PLANNED] == [
        "announce",
        "reminder",
        "reminder",
        "start",
        "complete",
    ]
    assert notice_for_offset("start", ["start", "complete"], "emergency") == "emergency"
