"""Property: every slot `schedule` proposes is accepted by `check` (no error conflict)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from policy_support import make_runbook, policy_with, utc

from maintbook.calendar import CalendarEvent
from maintbook.config import Policy, default_config
from maintbook.model import Runbook
from maintbook.policy import check_conflicts, next_slots

POLICIES = [default_config().policy, policy_with({"name": "US holidays", "holidays": "US"})]
SYSTEMS = ("database", "api", "cache", "queue")
HOSTS = ("db_primary", "web", "cache_nodes")
MAX_MINUTES = {"zero-downtime": 600, "brief-interruption": 5, "planned-outage": 120,
               "extended-outage": 240, "emergency": 600}
BASE = utc(2026, 10, 1)

moments = st.integers(min_value=0, max_value=400 * 24 * 4).map(
    lambda quarter_hours: BASE + timedelta(minutes=15 * quarter_hours))


@st.composite
def runbooks(draw: st.DrawFn, index: int = 0) -> Runbook:
    kind = draw(st.sampled_from(sorted(MAX_MINUTES)))
    minutes = draw(st.integers(min_value=1, max_value=MAX_MINUTES[kind] + 30))
    systems = tuple(draw(st.sets(st.sampled_from(SYSTEMS), min_size=1, max_size=3)))
    return make_runbook(draw(moments), timedelta(minutes=minutes), type=kind,
                        id=f"MNT-2026-{index:04d}", systems=systems,
                        hosts=draw(st.sampled_from(HOSTS)))


@st.composite
def bookings(draw: st.DrawFn) -> list[Runbook]:
    count = draw(st.integers(min_value=0, max_value=25))
    return [draw(runbooks(index=i + 1)) for i in range(count)]


events = st.lists(st.builds(
    lambda start, hours: CalendarEvent("event", start, start + timedelta(hours=hours), "cal"),
    moments, st.integers(min_value=1, max_value=72)), max_size=5)


@settings(max_examples=150, deadline=None)
@given(runbook=runbooks(), others=bookings(), calendar=events,
       now=moments, after=st.none() | moments, count=st.integers(min_value=1, max_value=5),
       policy=st.sampled_from(POLICIES))
def test_every_scheduled_slot_passes_check(runbook: Runbook, others: list[Runbook],
                                           calendar: list[CalendarEvent], now: datetime,
                                           after: datetime | None, count: int,
                                           policy: Policy) -> None:
    slots = next_slots(runbook, policy, now, after, count, others, calendar)
    assert len(slots) <= count
    assert [s.start for s in slots] == sorted({s.start for s in slots})
    rule = policy.types[runbook.type]
    if rule.max_duration is not None and runbook.duration > rule.max_duration:
        assert slots == []
    for slot in slots:
        assert slot.start >= max(after or now, now)
        assert slot.end - slot.start == runbook.duration
        moved = replace(runbook, window_start=slot.start)
        errors = [c for c in check_conflicts(moved, policy, now, others, calendar)
                  if c.severity == "error"]
        assert errors == []
