"""The pure calendar engine: intervals, allowed windows, blackouts, events, free slots.

Time ranges in, time ranges out; no I/O and no clock (callers pass `now`). Every
interval is half-open, ``[start, end)``, in aware UTC datetimes, so a window that ends
at 04:00 does not touch a blackout that starts at 04:00.

Recurrences (RFC 5545 RRULE) are expanded in *local wall time* of the rule's IANA zone,
anchored at DTSTART = 2000-01-01 at the rule's local start time (so ``INTERVAL`` and
bare ``FREQ`` rules are stable from year to year; ``COUNT`` counts from that anchor, so a
rule that must end uses ``UNTIL``). Expanding a range never walks from 2000: the rule is
restarted from the anchor moved on by whole ``INTERVAL`` periods to just before the range,
which yields the same occurrences (a daily rule costs its days in the range, not since
2000). Allowed windows and blackouts are expanded one calendar year at a time and memoised
per (rule, year); `rule_between` expands a range lazily, up to a limit.

Daylight saving time (the rule of RFC 5545 §3.3.5, i.e. ``zoneinfo`` with ``fold=0``):

* a local start that does not exist (spring-forward night, e.g. 02:00 in Europe/Berlin
  on 2026-03-29 or in America/New_York on 2026-03-08) is read with the UTC offset in
  force *before* the gap, so the occurrence starts at the first instant after the gap:
  02:00 CET = 01:00Z = 03:00 CEST (Berlin); 02:00 EST = 07:00Z = 03:00 EDT (New York);
* a local start that happens twice (fall-back night, e.g. 02:30 in Berlin on 2026-10-25,
  or 01:30 in New York on 2026-11-01) means its *first* occurrence, in daylight time:
  02:30 CEST = 00:30Z; 01:30 EDT = 05:30Z. The occurrence happens once, never twice;
* a duration is elapsed time: a 4h window from 01:00Z ends at 05:00Z, whatever the
  wall clock did in between.

Whole-day blackouts (yearly ``MM-DD`` ranges, holidays) run from local midnight to local
midnight of the following day in their zone (UTC unless ``tz`` is given).
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.relativedelta import relativedelta
from dateutil.rrule import rrule, rrulestr

from maintbook.config import Blackout, Policy, TypeRule, WindowRule
from maintbook.timeparse import format_duration, parse_rfc3339

Interval = tuple[datetime, datetime]

ANCHOR_YEAR = 2000
_MMDD = re.compile(r"^(\d{2})-(\d{2})$")
_DAY = timedelta(days=1)


@dataclass(frozen=True, order=True)
class Period:
    """A named interval: an allowed-window occurrence, a blackout, an event or a booking."""

    start: datetime
    end: datetime
    name: str
    kind: str  # window | blackout | event | booking | skipped (an occurrence that is not held)
    detail: str = ""  # how it was defined, for messages: `12-15 to 01-02`
    ref: str = ""  # a booking's maintenance id: the same maintenance wherever it moves


@dataclass(frozen=True)
class CalendarEvent:
    """One event of an external calendar, already expanded (UTC)."""

    name: str
    start: datetime
    end: datetime
    source: str


# --------------------------------------------------------------------------- intervals


def overlaps(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> bool:
    """Half-open overlap: [02:00, 04:00) and [04:00, 05:00) do not overlap."""
    return a_start < b_end and b_start < a_end


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted union of intervals; touching intervals ([1,2) and [2,3)) become one."""
    merged: list[Interval] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def contains(merged: Sequence[Interval], start: datetime, end: datetime) -> bool:
    """Whether [start, end) lies inside one interval of a merged (sorted, disjoint) list."""
    index = bisect.bisect_right(merged, (start, datetime.max.replace(tzinfo=UTC))) - 1
    return index >= 0 and merged[index][0] <= start and end <= merged[index][1]


def first_free(
    merged_blockers: Sequence[Interval], start: datetime, duration: timedelta, limit: datetime
) -> datetime | None:
    """The earliest s >= start with [s, s+duration) free of blockers and s+duration <= limit."""
    index = max(bisect.bisect_right(merged_blockers, (start,)) - 1, 0)
    while start + duration <= limit:
        while index < len(merged_blockers) and merged_blockers[index][1] <= start:
            index += 1
        if index == len(merged_blockers) or start + duration <= merged_blockers[index][0]:
            return start
        start = merged_blockers[index][1]
    return None


def span_text(start: datetime, end: datetime) -> str:
    """`2026-12-20T02:00Z–04:00Z` (the end's date is shown only when it differs)."""
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    head = start.strftime("%Y-%m-%dT%H:%MZ")
    tail = end.strftime("%H:%MZ") if end.date() == start.date() else end.strftime("%Y-%m-%dT%H:%MZ")
    return f"{head}–{tail}"


# --------------------------------------------------------------------------- recurrences


def _utc(naive: datetime, zone: str) -> datetime:
    """Local wall time → UTC, by the DST rule of the module docstring (fold=0)."""
    return naive.replace(tzinfo=ZoneInfo(zone), fold=0).astimezone(UTC)


_PERIOD = {
    "WEEKLY": timedelta(weeks=1),
    "DAILY": timedelta(days=1),
    "HOURLY": timedelta(hours=1),
    "MINUTELY": timedelta(minutes=1),
    "SECONDLY": timedelta(seconds=1),
}


def _rule_text(rule: str) -> str:
    text = rule.strip()
    return text[len("RRULE:") :] if text.upper().startswith("RRULE:") else text


@functools.lru_cache(maxsize=1024)
def _parse(text: str, dtstart: datetime) -> rrule:
    try:
        parsed = rrulestr(text, dtstart=dtstart)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"invalid RRULE {text!r}: {exc}") from exc
    if not isinstance(parsed, rrule):
        raise ValueError(f"invalid RRULE {text!r}: one RRULE line is expected")
    return parsed


def _restart(text: str, anchor: datetime, moment: datetime) -> datetime:
    """A DTSTART at least one period before `moment` that yields the anchor's occurrences.

    The anchor moved on by whole INTERVAL periods keeps the rule's phase (weekday, day of
    month, week parity); a rule with COUNT, counted from the anchor, keeps the anchor.
    """
    parts = {k: v for k, _, v in (part.partition("=") for part in text.upper().split(";"))}
    freq, interval = parts.get("FREQ", ""), int(parts.get("INTERVAL") or 1)
    if "COUNT" in parts or moment <= anchor:
        return anchor
    if freq in ("YEARLY", "MONTHLY"):
        months = interval * (12 if freq == "YEARLY" else 1)
        passed = (moment.year - anchor.year) * 12 + moment.month - anchor.month
        restart: datetime = anchor + relativedelta(months=max(passed // months - 1, 0) * months)
        return restart
    if freq not in _PERIOD:
        return anchor
    period = _PERIOD[freq] * interval
    return anchor + max((moment - anchor) // period - 1, 0) * period


def parse_rule(rule: str, local_start: time) -> None:
    """Raises ValueError when `rule` is not one RRULE line dateutil can expand."""
    _parse(_rule_text(rule), datetime.combine(date(ANCHOR_YEAR, 1, 1), local_start))


def local_starts(rule: str, local_start: time, low: datetime, high: datetime) -> Iterator[datetime]:
    """The rule's local (naive) starts in [low, high), lazily, in order. Raises ValueError."""
    parse_rule(rule, local_start)  # the rule as written must parse, wherever it restarts
    text = _rule_text(rule)
    anchor = datetime.combine(date(ANCHOR_YEAR, 1, 1), local_start)
    for moment in _parse(text, _restart(text, anchor, low)).xafter(low, inc=True):
        if moment >= high:
            return
        yield moment


@functools.lru_cache(maxsize=8192)
def rule_starts(rule: str, local_start: time, zone: str, year: int) -> tuple[datetime, ...]:
    """UTC starts of the occurrences of `rule` whose local date falls in `year`."""
    local = local_starts(rule, local_start, datetime(year, 1, 1), datetime(year + 1, 1, 1))
    return tuple(_utc(moment, zone) for moment in local)


def rule_between(
    rule: str, local_start: time, zone: str, start: datetime, end: datetime, limit: int
) -> list[datetime]:
    """UTC starts in [start, end) of `rule` at `local_start` in `zone`: at most `limit`."""
    found: dict[datetime, None] = {}
    low, high = _local(start, zone) - _DAY * 2, _local(end, zone) + _DAY * 2
    for moment in local_starts(rule, local_start, low, high):
        begin = _utc(moment, zone)  # a spring-forward gap may reorder sub-hourly starts
        if start <= begin < end:
            found[begin] = None
            if len(found) >= limit:
                break
    return sorted(found)


def zone_info(zone: str) -> ZoneInfo:
    """The IANA zone, or ValueError naming it."""
    try:
        return ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {zone!r}: use an IANA name (Europe/Berlin)") from exc


def _local(moment: datetime, zone: str) -> datetime:
    return moment.astimezone(ZoneInfo(zone)).replace(tzinfo=None)


def _years(start: datetime, end: datetime, before: timedelta) -> range:
    return range((start - before - _DAY * 2).year, (end + _DAY * 2).year + 1)


def window_periods(rule: WindowRule, start: datetime, end: datetime) -> list[Period]:
    """Occurrences of an allowed window that overlap [start, end), in order."""
    detail = f"{rule.rrule} {rule.start:%H:%M} {format_duration(rule.duration)} {rule.tz}"
    found: list[Period] = []
    for year in _years(start, end, rule.duration):
        for begin in rule_starts(rule.rrule, rule.start, rule.tz, year):
            if overlaps(begin, begin + rule.duration, start, end):
                found.append(Period(begin, begin + rule.duration, rule.name, "window", detail))
    return found


def allowed_periods(
    policy: Policy, rule: TypeRule, start: datetime, end: datetime
) -> list[Period] | None:
    """Occurrences of the type's windows overlapping [start, end); None: any time is allowed."""
    if rule.windows is None:
        return None
    found: list[Period] = []
    for name in rule.windows:
        if name not in policy.windows:
            raise ValueError(
                f"type {rule.name} names the window {name!r}, which the policy "
                f"does not define (defined: {', '.join(sorted(policy.windows))})"
            )
        found += window_periods(policy.windows[name], start, end)
    return sorted(found)


# --------------------------------------------------------------------------- blackouts


def _local_day(day: date, zone: str) -> Interval:
    begin = _utc(datetime.combine(day, time(0)), zone)
    return begin, _utc(datetime.combine(day + _DAY, time(0)), zone)


def _month_day(year: int, text: str) -> date:
    match = _MMDD.match(text)
    assert match is not None
    month, day = int(match.group(1)), int(match.group(2))
    if month == 2 and day == 29:  # 02-29 in a common year: the 28th
        day = 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28
    return date(year, month, day)


def _yearly(blackout: Blackout, start: datetime, end: datetime) -> list[Period]:
    """`from: 12-15, to: 01-02`: every year, both days included, across new year."""
    first, last = blackout.start_text or "", blackout.end_text or ""
    found = []
    for year in range(start.year - 1, end.year + 1):
        begin = _month_day(year, first)
        finish = _month_day(year, last)
        if finish < begin:
            finish = _month_day(year + 1, last)
        low, _ = _local_day(begin, blackout.tz)
        _, high = _local_day(finish, blackout.tz)
        found.append(Period(low, high, blackout.name, "blackout", f"{first} to {last}"))
    return found


def _absolute(blackout: Blackout) -> list[Period]:
    low = parse_rfc3339(blackout.start_text or "")
    high = parse_rfc3339(blackout.end_text or "")
    return [Period(low, high, blackout.name, "blackout", f"{span_text(low, high)}")]


def _recurring(blackout: Blackout, start: datetime, end: datetime) -> list[Period]:
    rule = blackout.rrule or ""
    duration = blackout.duration or _DAY
    local_start = blackout.local_start or time(0)
    found = []
    for year in _years(start, end, duration):
        for begin in rule_starts(rule, local_start, blackout.tz, year):
            found.append(
                Period(
                    begin,
                    begin + duration,
                    blackout.name,
                    "blackout",
                    span_text(begin, begin + duration),
                )
            )
    return found


@functools.lru_cache(maxsize=1024)
def holiday_dates(country: str, subdivision: str | None, year: int) -> tuple[tuple[date, str], ...]:
    """The public holidays of a country (and subdivision) in one year, from `holidays`
    (imported here: most commands never need it, and it takes a tenth of a second)."""
    import holidays as holidays_lib

    try:
        table = holidays_lib.country_holidays(country, subdiv=subdivision, years=year)
    except NotImplementedError as exc:
        raise ValueError(
            f"the holidays library knows no country {country!r}"
            + (f" with subdivision {subdivision!r}" if subdivision else "")
        ) from exc
    return tuple(sorted((day, str(name)) for day, name in table.items()))


def _holidays(blackout: Blackout, start: datetime, end: datetime) -> list[Period]:
    found = []
    first, last = start.date() - _DAY * 2, end.date() + _DAY * 2  # any zone's day of the range
    for year in range(start.year - 1, end.year + 2):
        for day, name in holiday_dates(blackout.holidays or "", blackout.subdivision, year):
            if not first <= day <= last:
                continue
            low, high = _local_day(day, blackout.tz)
            found.append(Period(low, high, blackout.name, "blackout", f"{name}, {day}"))
    return found


def blackout_periods(blackout: Blackout, start: datetime, end: datetime) -> list[Period]:
    """Occurrences of one blackout overlapping [start, end)."""
    if blackout.holidays:
        found = _holidays(blackout, start, end)
    elif blackout.rrule:
        found = _recurring(blackout, start, end)
    elif blackout.start_text and _MMDD.match(blackout.start_text):
        found = _yearly(blackout, start, end)
    else:
        found = _absolute(blackout)
    return [p for p in found if overlaps(p.start, p.end, start, end)]


def blackouts_between(policy: Policy, start: datetime, end: datetime) -> list[Period]:
    """Every blackout occurrence of the policy overlapping [start, end), in order."""
    return sorted(p for b in policy.blackouts for p in blackout_periods(b, start, end))


def event_periods(events: Sequence[CalendarEvent], start: datetime, end: datetime) -> list[Period]:
    """External calendar events overlapping [start, end)."""
    return sorted(
        Period(e.start, e.end, e.name, "event", e.source)
        for e in events
        if overlaps(e.start, e.end, start, end)
    )


# --------------------------------------------------------------------------- free slots


def free_slots(
    allowed: Sequence[Period] | None,
    blockers: Sequence[Interval],
    after: datetime,
    duration: timedelta,
    horizon: datetime,
    count: int,
) -> list[Period]:
    """Up to `count` slots of `duration` from `after`, inside allowed windows, free of blockers.

    One slot per merged allowed window (its earliest free start); with `allowed` None (any
    time) the slots follow each other back to back.
    """
    merged = merge(blockers)
    if allowed is None:
        return _any_time(merged, after, duration, horizon, count)
    slots: list[Period] = []
    for low, high in merge((p.start, p.end) for p in allowed):
        if len(slots) >= count:
            break
        if high <= after:
            continue
        begin = first_free(merged, max(low, after), duration, min(high, horizon + duration))
        if begin is not None:
            slots.append(
                Period(begin, begin + duration, window_name(allowed, begin, duration), "slot")
            )
    return slots


def _any_time(
    merged: Sequence[Interval], after: datetime, duration: timedelta, horizon: datetime, count: int
) -> list[Period]:
    slots: list[Period] = []
    cursor = after
    while len(slots) < count:
        begin = first_free(merged, cursor, duration, horizon + duration)
        if begin is None:
            break
        slots.append(Period(begin, begin + duration, "any", "slot"))
        cursor = begin + duration
    return slots


def window_name(allowed: Sequence[Period], start: datetime, duration: timedelta) -> str:
    """The windows whose occurrences contain the slot (joined by +), else the first touched."""
    names = [p.name for p in allowed if p.start <= start and start + duration <= p.end]
    touched = [p.name for p in allowed if overlaps(p.start, p.end, start, start + duration)]
    return "+".join(dict.fromkeys(names or touched[:1]))
