"""Free slots: where a maintenance of a given duration may go (what `maintbook schedule` proposes).

Pure, like maintbook.policy: a slot lies inside an allowed window of the runbook's type
(anywhere for a type whose windows are `any` or that is exempt), overlaps no blackout and
no external calendar event (both ignored by an exempt type) and no other concrete window
sharing a system or a target host. Recurring runbooks among the others are ignored: their
occurrences yield to one-off runbooks (maintbook.recurrence).
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from maintbook.calendar import (
    CalendarEvent,
    Interval,
    Period,
    allowed_periods,
    blackouts_between,
    event_periods,
    first_free,
    free_slots,
)
from maintbook.config import Policy, TypeRule
from maintbook.model import Runbook
from maintbook.overlap import HostsOf, shared_text, target_hosts
from maintbook.policy import exempt

HORIZON = timedelta(days=366)


@dataclass(frozen=True)
class Slot:
    """A proposed window: [start, end) inside the allowed window named `window`."""

    start: datetime
    end: datetime
    window: str


def allowed_between(
    runbook: Runbook, rule: TypeRule, policy: Policy, low: datetime, high: datetime
) -> list[Period] | None:
    """The allowed windows of the runbook's type overlapping [low, high); None: any time."""
    return None if exempt(runbook, rule) else allowed_periods(policy, rule, low, high)


def blockers(
    runbook: Runbook,
    rule: TypeRule,
    policy: Policy,
    low: datetime,
    high: datetime,
    others: Sequence[Runbook],
    events: Sequence[CalendarEvent],
    hosts_of: HostsOf | None,
) -> list[Interval]:
    """Everything a slot must not overlap: blackouts, events, runbooks sharing a resource."""
    blocked: list[Interval] = []
    if not exempt(runbook, rule):
        blocked += [(p.start, p.end) for p in blackouts_between(policy, low, high)]
        blocked += [(p.start, p.end) for p in event_periods(events, low, high)]
    hosts = target_hosts(runbook.targets.hosts, hosts_of)
    blocked += [
        (o.start, o.end)
        for o in others
        if not o.is_series
        and o.id != runbook.id
        and o.end > low
        and o.start < high
        and shared_text(runbook, o, hosts, hosts_of)
    ]
    return blocked


def first_slot(
    allowed: Sequence[Interval] | None,
    blocked: Sequence[Interval],
    low: datetime,
    high: datetime,
    duration: timedelta,
) -> datetime | None:
    """The earliest start s >= low with [s, s+duration) inside one `allowed` interval, free
    of `blocked`, and ending by `high`. Both lists merged (sorted, disjoint); None: any time.

    passes: allowed [02:00, 06:00), blocked [02:00, 03:00), low 02:00, 1h → 03:00;
    none:   the same with high 03:30.
    """
    if allowed is None:
        return first_free(blocked, low, duration, high)
    index = max(bisect.bisect_right(allowed, (low,)) - 1, 0)
    for begin, end in allowed[index:]:
        if begin >= high:
            break
        if end <= low:
            continue
        found = first_free(blocked, max(begin, low), duration, min(end, high))
        if found is not None:
            return found
    return None


def next_slots(
    runbook: Runbook,
    policy: Policy,
    now: datetime,
    after: datetime | None,
    count: int,
    others: Sequence[Runbook],
    events: Sequence[CalendarEvent],
    hosts_of: HostsOf | None = None,
    *,
    horizon: timedelta = HORIZON,
) -> list[Slot]:
    """The next `count` slots for the runbook's duration that satisfy every time rule.

    A slot starts no earlier than max(after, now + notice), lies in an allowed window of
    the type, overlaps no blackout, calendar event or runbook sharing a system or host, and
    starts within `horizon` of that bound. A duration over the type's maximum has no slot.
    Approvals do not depend on time: `check` reports them.
    """
    rule = policy.types.get(runbook.type)
    if rule is None or (rule.max_duration is not None and runbook.duration > rule.max_duration):
        return []
    notice = timedelta(0) if exempt(runbook, rule) else rule.notice
    low = max(after or now, now + notice)
    high = low + horizon
    allowed = allowed_between(runbook, rule, policy, low, high + runbook.duration)
    blocked = blockers(
        runbook, rule, policy, low, high + runbook.duration, others, events, hosts_of
    )
    slots = free_slots(allowed, blocked, low, runbook.duration, high, count)
    return [Slot(p.start, p.end, p.name) for p in slots]
