"""The occurrences of a recurring runbook (SPEC §11), each judged by the policy; pure.

A runbook with `recurrence` is a series: its *planned* starts are the RRULE's dates at
`recurrence.start` local time in `recurrence.tz`, expanded as maintbook.calendar expands
every rule (DTSTART anchored at 2000-01-01; the DST rule of its docstring: 02:30 on the
spring-forward night in Europe/Berlin does not exist and is read before the gap, 01:30Z).
Each occurrence is a maintenance of its own, ``<id>@<YYYYMMDDTHHMMZ>`` of its planned
start, which stays its id when it moves.

Judging an occurrence (planned start P, *period* [P, the next planned start)):

* the place in time (`policy.slot_conflicts`): inside an allowed window of the type, no
  blackout, no calendar event (both ignored by an exempt type), no overlap with a window
  that shares a system or a host. It passes → ``planned`` at P. It fails →
  ``on_conflict: skip`` → ``skipped``; ``next-slot`` → ``moved`` to the earliest slot
  in its period that passes every one of those rules (ending by the next planned start),
  or ``skipped`` when the period has none. The last occurrence of a finite series has a
  period as long as the gap before it (a day for a single one).
  planned: weekly on Sundays at 03:00Z for 1h, planned-outage, on 2026-11-08;
  moved:   on 2026-12-27 (year-end freeze 12-15 to 01-02) to 2027-01-03T02:00Z, the
           first free slot of its week; on a Sunday whose 03:00 a one-off runbook on
           the same system holds until 04:00, to 04:00;
  skipped: on 2026-12-20, whose whole week is frozen (or with `on_conflict: skip`).
* who yields: one-off runbooks never move; an occurrence yields to them, and to the
  (actual) occurrences of the series whose id sorts before its own.
* notice: a series is announced once, the type's notice before its FIRST occurrence, so
  the notice rule applies to the first occurrence only and no later occurrence needs its
  own notice. `first` is the planned start of that first occurrence as announced (the
  notice ledger knows it); None means "not announced yet: announced at `now`", so the
  first occurrence is the first planned at or after `first_start` (now + the notice).
  Occurrences planned before the first are ``skipped`` (kind ``notice``). `NO_NOTICE`
  as `first` judges no notice at all (calendar and check: they have no ledger); the other
  series an occurrence yields to are always judged so (taken as announced).
* standing rules: a duration over the type's maximum (or an unknown type) skips every
  occurrence; approvals do not move occurrences (`policy.standing_conflicts`).

Work is bounded: a query expands only its range and judges at most `MAX_OCCURRENCES`
(5,000) occurrences; a longer result stops there (callers say so: `check` warns
`recurrence-limit`). A daily rule over ten years is 3,653 occurrences, judged against
10,000 booked runbooks in about a third of a second (bench/calendar.py). The planned
start before a range and after it are searched up to a year away. Other series are
judged only as far as they reach into the range, once per query.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from itertools import islice

from maintbook.calendar import CalendarEvent
from maintbook.config import Policy
from maintbook.model import Runbook
from maintbook.overlap import HostsOf
from maintbook.policy import EARLY_START
from maintbook.series import (
    MAX_OCCURRENCES,
    MOVED,
    NO_NOTICE,
    PLANNED,
    SKIPPED,
    Inputs,
    Occurrence,
    RecurrenceError,
    check_recurrence,
    first_start,
    judge,
    make_inputs,
    occupied,
)
from maintbook.slots import HORIZON

__all__ = [
    "MAX_OCCURRENCES",
    "MOVED",
    "NO_NOTICE",
    "PLANNED",
    "SKIPPED",
    "Occurrence",
    "RecurrenceError",
    "current_occurrence",
    "first_start",
    "judge_series",
    "next_occurrence",
    "occurrences",
    "upcoming",
]

_FIRST_CHUNK = timedelta(days=32)


# --------------------------------------------------------------------------- queries


def occurrences(
    runbook: Runbook,
    policy: Policy,
    *,
    start: datetime,
    end: datetime,
    now: datetime,
    others: Sequence[Runbook] = (),
    events: Sequence[CalendarEvent] = (),
    hosts_of: HostsOf | None = None,
    first: datetime | None = None,
    limit: int = MAX_OCCURRENCES,
) -> list[Occurrence]:
    """The occurrences planned in [start, end), in order, at most `limit`, each judged.

    `others`: the other runbooks (one-off and recurring; the runbook itself is ignored);
    `events`: external calendar events; `first`: the planned start of the series' first
    occurrence as announced (None: not announced, announced at `now`). Raises
    RecurrenceError for a rule or zone that cannot be expanded, ValueError for a runbook
    that does not recur or a policy the engine cannot expand.
    """
    inputs = make_inputs(policy, now, others, events, hosts_of)
    found = judge(runbook, inputs, (start, end), first, limit)
    return [o for o in found if start <= o.planned_start < end]


def judge_series(
    series: Sequence[Runbook],
    policy: Policy,
    *,
    start: datetime,
    end: datetime,
    now: datetime,
    others: Sequence[Runbook] = (),
    events: Sequence[CalendarEvent] = (),
    hosts_of: HostsOf | None = None,
) -> dict[str, list[Occurrence] | RecurrenceError]:
    """By id, the occurrences planned in [start, end) of several series, notice not judged,
    sharing the work (what `check` does), or the error of a series that cannot expand."""
    inputs = make_inputs(policy, now, [*others, *series], events, hosts_of)
    found: dict[str, list[Occurrence] | RecurrenceError] = {}
    for runbook in sorted(series, key=lambda rb: rb.id):
        try:
            check_recurrence(runbook)
        except RecurrenceError as exc:
            found[runbook.id] = exc
            continue
        judged = occupied(runbook, inputs, start, end)
        found[runbook.id] = [o for o in judged if start <= o.planned_start < end]
    return found


def _scan(
    runbook: Runbook, inputs: Inputs, after: datetime, horizon: timedelta, first: datetime | None
) -> Iterator[Occurrence]:
    """Occurrences in order from the one whose period holds `after`, a growing range at a
    time, up to `horizon` after it."""
    low, chunk, stop = after, _FIRST_CHUNK, after + horizon
    last: datetime | None = None
    while low < stop:
        high = min(low + chunk, stop)
        for found in judge(runbook, inputs, (low, high), first, MAX_OCCURRENCES):
            if last is None or found.planned_start > last:
                last = found.planned_start
                yield found
        low, chunk = high, chunk * 4


def upcoming(
    runbook: Runbook,
    policy: Policy,
    *,
    after: datetime,
    now: datetime,
    others: Sequence[Runbook] = (),
    events: Sequence[CalendarEvent] = (),
    hosts_of: HostsOf | None = None,
    first: datetime | None = None,
    horizon: timedelta = HORIZON,
) -> Iterator[Occurrence]:
    """The occurrences planned from `after` on, in order, lazily, within `horizon` of it
    (at most MAX_OCCURRENCES). Arguments as for `occurrences`."""
    inputs = make_inputs(policy, now, others, events, hosts_of)
    found = (o for o in _scan(runbook, inputs, after, horizon, first) if o.planned_start >= after)
    return islice(found, MAX_OCCURRENCES)


def next_occurrence(
    runbook: Runbook,
    policy: Policy,
    *,
    now: datetime,
    others: Sequence[Runbook] = (),
    events: Sequence[CalendarEvent] = (),
    hosts_of: HostsOf | None = None,
    first: datetime | None = None,
    horizon: timedelta = HORIZON,
) -> Occurrence | None:
    """The first occurrence that takes place and starts after `now` (within `horizon`);
    one planned earlier and moved past `now` counts. Arguments as for `occurrences`."""
    inputs = make_inputs(policy, now, others, events, hosts_of)
    for found in islice(_scan(runbook, inputs, now, horizon, first), MAX_OCCURRENCES):
        if found.start is not None and found.start > now:
            return found
    return None


def current_occurrence(
    runbook: Runbook,
    policy: Policy,
    *,
    now: datetime,
    others: Sequence[Runbook] = (),
    events: Sequence[CalendarEvent] = (),
    hosts_of: HostsOf | None = None,
    first: datetime | None = None,
) -> Occurrence | None:
    """The occurrence whose run window [start − 15 min, end] contains `now`, or None.

    When two run windows meet (one ends as the next one's early start begins), the later.
    The run gate passes `first` from the notice ledger: with None, the series counts as
    not announced and no occurrence before now + notice takes place.
    """
    inputs = make_inputs(policy, now, others, events, hosts_of)
    span = (now, now + EARLY_START + timedelta(seconds=1))
    found = judge(runbook, inputs, span, first, MAX_OCCURRENCES)
    open_now = [
        o
        for o in found
        if o.start is not None and o.end is not None and o.start - EARLY_START <= now <= o.end
    ]
    return open_now[-1] if open_now else None
