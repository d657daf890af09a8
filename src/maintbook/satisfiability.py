"""Policy satisfiability (SPEC §14): warnings about rules no runbook can ever satisfy.

Pure, like the calendar engine whose functions it uses: a policy, `now` and calendar
events in; (where, message) pairs out.

* A type can never get a slot when, within the next year, no stretch of its allowed
  windows outside blackouts is as long as its maximum duration (or has any length, for a
  type without a maximum), or when its notice leaves no start inside the year.
* An external calendar blocks every window when, over the next 90 days, the allowed
  windows outside blackouts have free time and none is left once its events are removed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from maintbook.calendar import (
    CalendarEvent,
    Interval,
    allowed_periods,
    blackouts_between,
    merge,
    window_periods,
)
from maintbook.config import Policy, TypeRule
from maintbook.timeparse import format_duration

YEAR = timedelta(days=366)
CALENDAR_DAYS = timedelta(days=90)


def subtract(base: Sequence[Interval], cuts: Sequence[Interval]) -> list[Interval]:
    """`base` minus `cuts` (both merged: sorted and disjoint)."""
    free: list[Interval] = []
    index = 0
    for start, end in base:
        while index < len(cuts) and cuts[index][1] <= start:
            index += 1
        cursor, probe = start, index
        while probe < len(cuts) and cuts[probe][0] < end:
            if cuts[probe][0] > cursor:
                free.append((cursor, cuts[probe][0]))
            cursor = max(cursor, cuts[probe][1])
            probe += 1
        if cursor < end:
            free.append((cursor, end))
    return free


def _clip(intervals: Sequence[Interval], low: datetime, high: datetime) -> list[Interval]:
    return [(max(s, low), min(e, high)) for s, e in intervals if e > low and s < high]


def free_time(policy: Policy, rule: TypeRule, low: datetime, high: datetime) -> list[Interval]:
    """The type's allowed time in [low, high) outside blackouts."""
    if rule.windows is None:
        allowed = [(low, high)]
    else:
        periods = allowed_periods(policy, rule, low, high) or []
        allowed = _clip(merge((p.start, p.end) for p in periods), low, high)
    if not rule.blackouts:
        return allowed
    blocked = merge((p.start, p.end) for p in blackouts_between(policy, low, high))
    return subtract(allowed, blocked)


def _windows_text(rule: TypeRule) -> str:
    return ", ".join(rule.windows) if rule.windows else "any time"


def type_problem(policy: Policy, rule: TypeRule, now: datetime) -> str | None:
    """Why a type can never get a slot within the next year, or None."""
    low, high = now + rule.notice, now + YEAR
    if low >= high:
        return (
            f"type {rule.name} can never get a slot: its notice of "
            f"{format_duration(rule.notice)} leaves no start within the next year"
        )
    free = free_time(policy, rule, low, high + (rule.max_duration or timedelta(0)))
    longest = max((end - start for start, end in free), default=timedelta(0))
    if longest <= timedelta(0):
        return (
            f"type {rule.name} can never get a slot: within the next year its allowed "
            f"windows ({_windows_text(rule)}) lie entirely in blackouts"
        )
    if rule.max_duration is not None and longest < rule.max_duration:
        return (
            f"type {rule.name} can never get a slot of its maximum duration "
            f"{format_duration(rule.max_duration)}: the longest stretch of its allowed windows "
            f"({_windows_text(rule)}) outside blackouts within the next year is "
            f"{format_duration(longest)}"
        )
    return None


def unsatisfiable_types(policy: Policy, now: datetime) -> list[tuple[str, str]]:
    """(type name, message) for every type that can never get a slot."""
    found = []
    for name, rule in policy.types.items():
        problem = type_problem(policy, rule, now)
        if problem is not None:
            found.append((name, problem))
    return found


def all_windows_free(policy: Policy, low: datetime, high: datetime) -> list[Interval]:
    """Every defined window's time in [low, high) outside blackouts."""
    periods = [p for rule in policy.windows.values() for p in window_periods(rule, low, high)]
    allowed = _clip(merge((p.start, p.end) for p in periods), low, high)
    blocked = merge((p.start, p.end) for p in blackouts_between(policy, low, high))
    return subtract(allowed, blocked)


def calendar_blocks_all(
    policy: Policy, events: Sequence[CalendarEvent], now: datetime
) -> str | None:
    """Why the events leave no allowed window free over the next 90 days, or None."""
    low, high = now, now + CALENDAR_DAYS
    free = all_windows_free(policy, low, high)
    if not free:
        return None  # nothing to block: the type warnings say so
    left = subtract(free, merge((e.start, e.end) for e in events if e.end > e.start))
    if left:
        return None
    return (
        f"its events block every allowed window ({', '.join(sorted(policy.windows))}) of the "
        "next 90 days: no runbook can be scheduled until they end"
    )
