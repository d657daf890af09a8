"""`maintbook calendar [--from T --to T] [--ics FILE]`: booked windows, blackouts, windows.

Lists, for a range (default: today 00:00Z for 30 days), every runbook booked in the
repository's runbooks/ folder — for a recurring one, each occurrence planned in the range
where it takes place (moved ones say from where and why) or as `skipped` with the reason
(STATUS:CANCELLED in ICS) — every blackout occurrence and every allowed-window occurrence
of the policy; `--ics FILE` also writes them as an RFC 5545 calendar. A booking keeps its
ICS UID (its maintenance id) when it moves. The calendar has no notice ledger: it does
not judge notice (SPEC §11: a series is announced once, before its first occurrence).
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import icalendar

from maintbook.booking import PERIOD_REACH, booked_runbooks, events_between
from maintbook.calendar import (
    CalendarEvent,
    Period,
    blackouts_between,
    overlaps,
    window_periods,
)
from maintbook.config import Config
from maintbook.errors import UsageError
from maintbook.model import Runbook
from maintbook.project import require_config
from maintbook.recurrence import Occurrence, RecurrenceError, judge_series
from maintbook.timeparse import format_utc, utc_now

DEFAULT_SPAN = timedelta(days=30)
MAX_SPAN = timedelta(days=3660)
FORMATS = ("text", "json")
PRODID = "-//maintbook//maintenance calendar//EN"


def _booking(runbook: Runbook, moved: Occurrence | None = None) -> Period:
    line = runbook.lines.get("window", 1)
    detail = f"{runbook.type} on {', '.join(runbook.systems)} ({runbook.file}:{line})"
    if moved is not None:
        detail += f"; moved from {format_utc(moved.planned_start)}: {moved.reason}"
    name = f"{runbook.maintenance_id} {runbook.title}"
    return Period(runbook.start, runbook.end, name, "booking", detail, runbook.maintenance_id)


def _occurrence(item: Occurrence) -> Period:
    if item.takes_place:
        return _booking(item.runbook, item if item.status == "moved" else None)
    return replace(_booking(item.runbook), kind="skipped", detail=item.reason)


def _occurrences(
    config: Config,
    runbooks: Sequence[Runbook],
    span: tuple[datetime, datetime],
    now: datetime,
    events: Sequence[CalendarEvent],
) -> list[Period]:
    """Each occurrence planned in the span of every recurring runbook, as held or skipped."""
    series = [rb for rb in runbooks if rb.is_series]
    if not series:
        return []
    judged = judge_series(
        series, config.policy, start=span[0], end=span[1], now=now, others=runbooks, events=events
    )
    found: list[Period] = []
    for runbook in series:
        items = judged[runbook.id]
        if isinstance(items, RecurrenceError):
            raise UsageError(f"{runbook.file}: {items}")
        found += [_occurrence(item) for item in items]
    return found


def calendar_entries(
    config: Config,
    runbooks: Sequence[Runbook],
    start: datetime,
    end: datetime,
    now: datetime | None = None,
    events: Sequence[CalendarEvent] = (),
) -> list[Period]:
    """Bookings (occurrences too), blackouts and allowed windows overlapping [start, end),
    by start."""
    found = [
        _booking(rb)
        for rb in runbooks
        if not rb.is_series and overlaps(rb.start, rb.end, start, end)
    ]
    found += _occurrences(config, runbooks, (start, end), now or start, events)
    found += blackouts_between(config.policy, start, end)
    for rule in config.policy.windows.values():
        found += window_periods(rule, start, end)
    return sorted(found, key=lambda p: (p.start, p.end, p.kind, p.name))


def _uid(period: Period) -> str:
    """Stable: a maintenance by its id (it may move), anything else by what and when."""
    key = f"{period.kind}|{period.name}|{format_utc(period.start)}|{format_utc(period.end)}"
    if period.ref:
        key = f"maintenance|{period.ref}"
    return f"{hashlib.sha256(key.encode()).hexdigest()[:32]}@maintbook"


LABELS = {
    "booking": "Maintenance",
    "skipped": "Skipped",
    "blackout": "Blackout",
    "window": "Window",
}
STATUS = {"booking": "CONFIRMED", "skipped": "CANCELLED"}


def to_ics(entries: Sequence[Period], stamp: datetime) -> bytes:
    """An RFC 5545 VCALENDAR with one VEVENT per entry (UTC times, stable UIDs)."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    for period in entries:
        event = icalendar.Event()
        event.add("uid", _uid(period))
        event.add("dtstamp", stamp.astimezone(UTC))
        event.add("dtstart", period.start.astimezone(UTC))
        event.add("dtend", period.end.astimezone(UTC))
        event.add("summary", f"{LABELS.get(period.kind, period.kind)}: {period.name}")
        if period.detail:
            event.add("description", period.detail)
        if period.kind in STATUS:
            event.add("status", STATUS[period.kind])
        event.add("categories", [period.kind])
        event.add("transp", "TRANSPARENT" if period.kind == "window" else "OPAQUE")
        calendar.add_component(event)
    data: bytes = calendar.to_ical()
    return data


def _text(entries: Sequence[Period]) -> str:
    return "".join(
        f"{format_utc(p.start)}  {format_utc(p.end)}  {p.kind:<8}  {p.name}"
        + (f"  ({p.detail})" if p.detail else "")
        + "\n"
        for p in entries
    )


def _json(entries: Sequence[Period]) -> str:
    rows = [
        {
            "start": format_utc(p.start),
            "end": format_utc(p.end),
            "kind": p.kind,
            "name": p.name,
            "detail": p.detail,
        }
        for p in entries
    ]
    return json.dumps(rows, indent=2) + "\n"


def _range(
    start: datetime | None, end: datetime | None, now: datetime
) -> tuple[datetime, datetime]:
    low = start or now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    high = end or low + DEFAULT_SPAN
    if high <= low:
        raise UsageError(f"--to {format_utc(high)} must be later than --from {format_utc(low)}")
    if high - low > MAX_SPAN:
        raise UsageError("the range from --from to --to is limited to 10 years")
    return low, high


def run_calendar(
    config_path: Path | None,
    start: datetime | None,
    end: datetime | None,
    ics_path: Path | None,
    fmt: str,
    now: datetime | None = None,
) -> int:
    """Print the calendar of the range; with `ics_path`, also write it as ICS. Exit 0."""
    if fmt not in FORMATS:
        raise UsageError(f"--format {fmt}: allowed: {', '.join(FORMATS)}")
    moment = now or utc_now()
    low, high = _range(start, end, moment)
    config = require_config(config_path, fmt)
    runbooks = booked_runbooks(config)
    longest = max((rb.duration for rb in runbooks), default=timedelta(0))
    reach = high + PERIOD_REACH + longest  # where an occurrence planned in range may move
    events = events_between(config, low, reach) if any(r.is_series for r in runbooks) else []
    try:
        entries = calendar_entries(config, runbooks, low, high, moment, events)
    except ValueError as exc:
        raise UsageError(f"policy: {exc}") from exc
    if ics_path is not None:
        try:
            ics_path.write_bytes(to_ics(entries, moment))
        except OSError as exc:
            raise UsageError(f"{ics_path}: cannot write: {exc.strerror or exc}") from exc
    sys.stdout.write(_json(entries) if fmt == "json" else _text(entries))
    return 0
