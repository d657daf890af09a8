"""Times as readers see them: one UTC instant written in each of the page's IANA zones.

Pure and locale-free: day and month names come from the tables below, never from
``strftime('%a')``, so the same instant renders to the same bytes on every machine.

    >>> moment(parse("2026-12-06T02:00:00Z"), zones(["UTC", "America/New_York"])).text
    'Sun 6 Dec 2026, 02:00 UTC · Sat 5 Dec 2026, 21:00 EST'

A window is written once per zone; its end drops the date when it falls on the same local
day with the same zone abbreviation (``Sun 6 Dec 2026, 02:00 – 04:00 UTC``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from maintbook.timeparse import format_utc, parse_rfc3339

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
SEPARATOR = " · "


@dataclass(frozen=True)
class Moment:
    """One instant: `iso` for ``<time datetime>``, `parts` its text in each zone."""

    iso: str
    parts: tuple[str, ...]

    @property
    def text(self) -> str:
        return SEPARATOR.join(self.parts)


@dataclass(frozen=True)
class Span:
    """A window in one zone: start and end, each with its machine-readable form."""

    start: Moment
    end: Moment


def zones(names: Sequence[str]) -> tuple[tzinfo, ...]:
    """IANA names → zones (UTC when none). An unknown name raises ValueError naming it."""
    found: list[tzinfo] = []
    for name in names or ("UTC",):
        try:
            found.append(ZoneInfo(name))
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown time zone {name!r} (an IANA name like UTC)") from error
    return tuple(found)


def parse(value: object) -> datetime | None:
    """An RFC 3339 timestamp → aware UTC datetime; anything else → None (shown as unknown)."""
    if not isinstance(value, str):
        return None
    try:
        return parse_rfc3339(value)
    except ValueError:
        return None


def utc(moment: datetime) -> datetime:
    """An aware datetime in UTC; a naive one is taken as UTC."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _date(local: datetime) -> str:
    return f"{_DAYS[local.weekday()]} {local.day} {_MONTHS[local.month - 1]} {local.year}"


def _clock(local: datetime) -> str:
    return f"{local:%H:%M} {local.tzname() or ''}".rstrip()


def _full(local: datetime) -> str:
    return f"{_date(local)}, {_clock(local)}"


def moment(instant: datetime, where: Sequence[tzinfo]) -> Moment:
    """``Sun 6 Dec 2026, 02:00 UTC · Sat 5 Dec 2026, 21:00 EST``."""
    return Moment(format_utc(instant), tuple(_full(instant.astimezone(zone)) for zone in where))


def span(start: datetime, end: datetime, zone: tzinfo) -> Span:
    """The window in one zone, the end shortened to its clock when it is the same local day."""
    first, last = start.astimezone(zone), end.astimezone(zone)
    if first.date() == last.date() and first.tzname() == last.tzname():
        begin = f"{_date(first)}, {first:%H:%M}"
        return Span(Moment(format_utc(start), (begin,)), Moment(format_utc(end), (_clock(last),)))
    return Span(
        Moment(format_utc(start), (_full(first),)), Moment(format_utc(end), (_full(last),))
    )
