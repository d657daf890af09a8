"""The engine behind maintbook.recurrence: a series' planned starts and periods, and the
judging of each occurrence (the contract is in maintbook.recurrence's docstring).

Pure: policy, `now`, the other runbooks and calendar events in; occurrences out.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from maintbook.calendar import (
    CalendarEvent,
    Interval,
    Period,
    contains,
    first_free,
    merge,
    parse_rule,
    rule_between,
    window_name,
    zone_info,
)
from maintbook.config import Policy, TypeRule
from maintbook.model import Recurrence, Runbook
from maintbook.overlap import HostsOf, shared_text, target_hosts
from maintbook.policy import exempt, slot_conflicts, standing_conflicts
from maintbook.slots import allowed_between, blockers, first_slot
from maintbook.timeparse import format_duration, format_utc

MAX_OCCURRENCES = 5000
SKIP_ALL = ("policy", "duration")  # standing conflicts no occurrence can take place with
NO_NOTICE = datetime.min.replace(tzinfo=UTC)  # as `first`: taken as announced long ago
PLANNED, MOVED, SKIPPED = "planned", "moved", "skipped"
_REACH = (timedelta(days=1), timedelta(days=8), timedelta(days=32), timedelta(days=366))


class RecurrenceError(ValueError):
    """A recurrence the engine cannot expand; `key` is the field at fault (rrule or tz)."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


@dataclass(frozen=True)
class Occurrence:
    """One occurrence of a series, judged: where it takes place, or why it does not.

    `runbook` is the concrete maintenance (its window at `start`, or at the planned start
    when skipped; its `maintenance_id` names the planned start).
    """

    runbook: Runbook
    planned_start: datetime
    start: datetime | None  # None: skipped
    end: datetime | None
    status: str  # planned | moved | skipped
    reason: str = ""  # which rule moved or skipped it, in check's words
    kinds: tuple[str, ...] = ()  # those rules' kinds: blackout, outside-window, notice, …
    window: str = ""  # the allowed window(s) holding it, `any` for any time

    @property
    def maintenance_id(self) -> str:
        return self.runbook.maintenance_id

    @property
    def takes_place(self) -> bool:
        return self.status != SKIPPED


@dataclass
class Inputs:
    """What one query judges against; other series' occurrences are memoised per id."""

    policy: Policy
    now: datetime
    one_offs: tuple[Runbook, ...]
    series: tuple[Runbook, ...]  # sorted by id
    events: Sequence[CalendarEvent]
    hosts_of: HostsOf | None
    memo: dict[str, tuple[datetime, datetime, list[Occurrence]]] = field(default_factory=dict)


def make_inputs(
    policy: Policy,
    now: datetime,
    others: Sequence[Runbook],
    events: Sequence[CalendarEvent],
    hosts_of: HostsOf | None,
) -> Inputs:
    series = {rb.id: rb for rb in sorted(others, key=lambda r: r.id) if rb.is_series}
    one_offs = tuple(rb for rb in others if not rb.is_series)
    return Inputs(policy, now, one_offs, tuple(series.values()), events, hosts_of)


# --------------------------------------------------------------------------- planned starts


def check_recurrence(runbook: Runbook) -> Recurrence:
    if runbook.recurrence is None:
        raise ValueError(f"{runbook.id} does not recur: it has no occurrences")
    rec = runbook.recurrence
    try:
        zone_info(rec.tz)
    except ValueError as exc:
        raise RecurrenceError("tz", f"recurrence.tz: {exc}") from exc
    try:
        parse_rule(rec.rrule, rec.start)
    except ValueError as exc:
        raise RecurrenceError("rrule", f"recurrence.rrule: {exc}") from exc
    return rec


def _between(rec: Recurrence, low: datetime, high: datetime, limit: int) -> list[datetime]:
    return rule_between(rec.rrule, rec.start, rec.tz, low, high, limit)


def _previous(rec: Recurrence, moment: datetime) -> datetime | None:
    """The last planned start before `moment` (searched up to a year back)."""
    for reach in _REACH:
        found = _between(rec, moment - reach, moment, MAX_OCCURRENCES)
        if found:
            return found[-1]
    return None


def _following(rec: Recurrence, moment: datetime) -> datetime | None:
    """The first planned start at or after `moment` (searched up to a year ahead)."""
    for reach in _REACH:
        found = _between(rec, moment, moment + reach, 1)
        if found:
            return found[0]
    return None


def _periods(rec: Recurrence, low: datetime, high: datetime, limit: int) -> list[Interval]:
    """(planned start, period end) from the last start before `low` to the last before `high`.

    The first one's period may reach into [low, high): it is judged too, so that what it
    occupies there is known.
    """
    starts = _between(rec, low, high, limit + 1)
    after = starts[limit] if len(starts) > limit else _following(rec, high)
    before = _previous(rec, low)
    starts = ([before] if before else []) + starts[:limit]
    if not starts:
        return []
    if after is None:  # a finite series: its last period as long as the gap before it
        gap = starts[-1] - starts[-2] if len(starts) > 1 else timedelta(days=1)
        after = starts[-1] + gap
    return list(zip(starts, [*starts[1:], after], strict=True))


def first_start(runbook: Runbook, policy: Policy, now: datetime) -> datetime:
    """The earliest planned start of the first occurrence of a series announced at `now`:
    now + the type's notice (now for a type exempt from notice)."""
    rule = policy.types.get(runbook.type)
    if rule is None or exempt(runbook, rule):
        return now
    return now + rule.notice


# --------------------------------------------------------------------------- judging


@dataclass(frozen=True)
class _Span:
    """One series over one span of time: its allowed windows and what blocks it, merged."""

    runbook: Runbook
    rule: TypeRule
    inputs: Inputs
    allowed: list[Period] | None
    merged_allowed: list[Interval] | None
    blocked: list[Interval]
    busy: list[Runbook]  # concrete windows it yields to, by start
    busy_starts: list[datetime] = field(default_factory=list)
    longest: timedelta = timedelta(0)  # of the busy windows

    def fits(self, start: datetime) -> bool:
        end = start + self.runbook.duration
        if self.merged_allowed is not None and not contains(self.merged_allowed, start, end):
            return False
        return first_free(self.blocked, start, self.runbook.duration, end) is not None

    def window(self, start: datetime) -> str:
        if self.allowed is None:
            return "any"
        return window_name(self.allowed, start, self.runbook.duration)

    def conflicts(self, occurrence: Runbook) -> list[tuple[str, str]]:
        """(kind, message) of the errors of its place in time, in check's words."""
        low = bisect_left(self.busy_starts, occurrence.start - self.longest)
        high = bisect_left(self.busy_starts, occurrence.end)
        found = slot_conflicts(
            occurrence,
            self.inputs.policy,
            self.busy[low:high],
            self.inputs.events,
            self.inputs.hosts_of,
        )
        return [(c.kind, c.message) for c in found if c.severity == "error"]


def _span(runbook: Runbook, rule: TypeRule, inputs: Inputs, span: Interval) -> _Span:
    low, high = span[0], span[1] + runbook.duration
    busy = sorted(_busy(runbook, inputs, low, high), key=lambda rb: (rb.start, rb.id))
    allowed = allowed_between(runbook, rule, inputs.policy, low, high)
    blocked = blockers(
        runbook, rule, inputs.policy, low, high, busy, inputs.events, inputs.hosts_of
    )
    merged_allowed = None if allowed is None else merge((p.start, p.end) for p in allowed)
    longest = max((b.duration for b in busy), default=timedelta(0))
    starts = [b.start for b in busy]
    return _Span(
        runbook, rule, inputs, allowed, merged_allowed, merge(blocked), busy, starts, longest
    )


def _skipped(
    concrete: Runbook, planned: datetime, reason: str, kinds: tuple[str, ...]
) -> Occurrence:
    return Occurrence(concrete, planned, None, None, SKIPPED, reason, kinds)


def _one(span: _Span, planned: datetime, period_end: datetime, skip: bool) -> Occurrence:
    """An occurrence that may take place: planned, moved within its period, or skipped."""
    duration = span.runbook.duration
    concrete = span.runbook.at(planned)
    found = [] if span.fits(planned) else span.conflicts(concrete)
    if not found:  # what check says of this window is the verdict
        held = planned + duration
        return Occurrence(concrete, planned, planned, held, PLANNED, window=span.window(planned))
    reason = "; ".join(message for _, message in found)
    kinds = tuple(dict.fromkeys(kind for kind, _ in found))
    if skip:
        return _skipped(concrete, planned, reason, kinds)
    slot = first_slot(span.merged_allowed, span.blocked, planned, period_end, duration)
    if slot is None:
        tail = f"no compliant slot before the next occurrence ({format_utc(period_end)})"
        return _skipped(concrete, planned, f"{reason}; {tail}", kinds)
    moved = replace(concrete, window_start=slot)
    return Occurrence(
        moved, planned, slot, slot + duration, MOVED, reason, kinds, span.window(slot)
    )


def _notice_reason(runbook: Runbook, inputs: Inputs, first: datetime | None) -> str:
    if first is not None:
        return f"before the series' first occurrence ({format_utc(first)}), as announced"
    rule = inputs.policy.types[runbook.type]
    return (
        f"before the series' first occurrence: announced now ({format_utc(inputs.now)}) with "
        f"the {format_duration(rule.notice)} notice of type {rule.name}, the series starts at "
        f"{format_utc(first_start(runbook, inputs.policy, inputs.now))} at the earliest"
    )


def judge(
    runbook: Runbook,
    inputs: Inputs,
    span: Interval,
    first: datetime | None,
    limit: int,
) -> list[Occurrence]:
    """The occurrences planned from the last start before span[0] up to span[1].

    `first`: occurrences planned before it are skipped (notice); see the module docstring.
    """
    rec = check_recurrence(runbook)
    periods = _periods(rec, span[0], span[1], limit)
    if not periods:
        return []
    standing = [c for c in standing_conflicts(runbook, inputs.policy) if c.kind in SKIP_ALL]
    if standing:
        reason, kinds = "; ".join(c.message for c in standing), tuple(c.kind for c in standing)
        return [_skipped(runbook.at(p), p, reason, kinds) for p, _ in periods]
    rule = inputs.policy.types[runbook.type]
    place = _span(runbook, rule, inputs, (periods[0][0], periods[-1][1]))
    bound = first_start(runbook, inputs.policy, inputs.now) if first is None else first
    early, skip = _notice_reason(runbook, inputs, first), rec.on_conflict == "skip"
    return [
        _skipped(runbook.at(p), p, early, ("notice",)) if p < bound else _one(place, p, end, skip)
        for p, end in periods
    ]


def _busy(runbook: Runbook, inputs: Inputs, low: datetime, high: datetime) -> list[Runbook]:
    """The concrete windows in [low, high) the series yields to: one-off runbooks and the
    occurrences of series whose id sorts first, when they share a system or a host."""
    hosts = target_hosts(runbook.targets.hosts, inputs.hosts_of)

    def shares(other: Runbook) -> bool:
        return other.id != runbook.id and bool(shared_text(runbook, other, hosts, inputs.hosts_of))

    found = [o for o in inputs.one_offs if o.end > low and o.start < high and shares(o)]
    for series in inputs.series:
        if series.id >= runbook.id:
            break
        if shares(series):
            found += [
                o.runbook
                for o in occupied(series, inputs, low, high)
                if o.start is not None and o.end is not None and o.end > low and o.start < high
            ]
    return found


def occupied(series: Runbook, inputs: Inputs, low: datetime, high: datetime) -> list[Occurrence]:
    """Another series' occurrences reaching into [low, high), notice not judged (they are
    taken as announced); a series the engine cannot expand occupies nothing (check says so
    for its own file)."""
    cached = inputs.memo.get(series.id)
    if cached is not None and cached[0] <= low and high <= cached[1]:
        return cached[2]
    if cached is not None:
        low, high = min(low, cached[0]), max(high, cached[1])
    try:
        found = judge(series, inputs, (low, high), NO_NOTICE, MAX_OCCURRENCES)
    except RecurrenceError:
        found = []
    inputs.memo[series.id] = (low, high, found)
    return found
