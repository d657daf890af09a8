"""Properties: every slot `schedule` proposes, and every occurrence of a recurring runbook
it lists that takes place, is accepted by `check` (no error conflict)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, time, timedelta
from itertools import islice

from hypothesis import event, given, settings
from hypothesis import strategies as st
from policy_support import make_runbook, make_series, policy_with, utc

from maintbook.calendar import CalendarEvent, rule_between
from maintbook.config import Policy, default_config
from maintbook.model import Runbook
from maintbook.policy import check_conflicts
from maintbook.recurrence import occurrences, upcoming
from maintbook.slots import next_slots

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


RULES = ("FREQ=WEEKLY;BYDAY=SU", "FREQ=WEEKLY;BYDAY=WE", "FREQ=WEEKLY;BYDAY=TU,SA", "FREQ=DAILY",
         "FREQ=DAILY;INTERVAL=3", "FREQ=MONTHLY;BYDAY=1SU", "FREQ=DAILY;BYHOUR=2,4")
ZONES = ("UTC", "Europe/Berlin", "America/New_York")
SCHEDULE_HORIZON = timedelta(days=120)


@st.composite
def series(draw: st.DrawFn, id: str) -> Runbook:
    kind = draw(st.sampled_from(sorted(MAX_MINUTES)))
    minutes = draw(st.integers(min_value=1, max_value=MAX_MINUTES[kind] + 30))
    clock = time(draw(st.integers(0, 23)), draw(st.sampled_from((0, 15, 30, 45))))
    return make_series(draw(st.sampled_from(RULES)), clock, timedelta(minutes=minutes),
                       tz=draw(st.sampled_from(ZONES)),
                       on_conflict=draw(st.sampled_from(("next-slot", "skip"))), type=kind, id=id,
                       systems=tuple(draw(st.sets(st.sampled_from(SYSTEMS), min_size=1,
                                                  max_size=3))),
                       hosts=draw(st.sampled_from(HOSTS)))


def _held(rival: Runbook | None, policy: Policy, now: datetime, others: list[Runbook],
          calendar: list[CalendarEvent]) -> list[Runbook]:
    """The windows of a series whose id sorts first: it yields to the one-off runbooks only."""
    if rival is None:
        return []
    low = now - timedelta(days=60)
    found = occurrences(rival, policy, start=low, end=now + SCHEDULE_HORIZON * 2, now=now,
                        others=others, events=calendar, first=low)
    return [o.runbook for o in found if o.takes_place]


clashes = st.lists(st.tuples(st.integers(0, 8), st.integers(-90, 90), st.integers(15, 150),
                             st.booleans()), max_size=4)


def _clashing(mine: Runbook, now: datetime, wanted: list[tuple[int, int, int, bool]]
              ) -> tuple[list[Runbook], list[CalendarEvent]]:
    """One-off runbooks (same systems) or calendar events on top of planned starts."""
    assert mine.recurrence is not None
    rec = mine.recurrence
    starts = rule_between(rec.rrule, rec.start, rec.tz, now, now + SCHEDULE_HORIZON, 10)
    booked, blocking = [], []
    for index, (k, shift, minutes, as_event) in enumerate(wanted):
        if k < len(starts):
            begin, length = starts[k] + timedelta(minutes=shift), timedelta(minutes=minutes)
            if as_event:
                blocking.append(CalendarEvent("freeze", begin, begin + length, "cal"))
            else:
                booked.append(make_runbook(begin, length, id=f"MNT-2026-{900 + index:04d}",
                                           systems=mine.systems[:1], hosts="elsewhere"))
    return booked, blocking


@settings(max_examples=150, deadline=None)
@given(mine=series("MNT-2026-0200"), rival=st.none() | series("MNT-2026-0100"),
       booked=bookings(), clash=clashes, random_events=events, now=moments,
       count=st.integers(1, 12), policy=st.sampled_from(POLICIES))
def test_every_occurrence_schedule_lists_passes_check(mine: Runbook, rival: Runbook | None,
                                                      booked: list[Runbook],
                                                      clash: list[tuple[int, int, int, bool]],
                                                      random_events: list[CalendarEvent],
                                                      now: datetime, count: int,
                                                      policy: Policy) -> None:
    near, blocking = _clashing(mine, now, clash)
    others, calendar = booked + near, random_events + blocking
    everyone = others + ([rival] if rival is not None else [])
    listed = list(islice(upcoming(mine, policy, after=now, now=now, others=everyone,
                                  events=calendar, horizon=SCHEDULE_HORIZON), count))
    windows = others + _held(rival, policy, now, others, calendar)
    planned = [o.planned_start for o in listed]
    assert planned == sorted(set(planned)) and all(p >= now for p in planned)
    for item, following in zip(listed, [*planned[1:], None], strict=True):
        event(f"{item.status} {'+'.join(item.kinds)}")
        if not item.takes_place:
            assert item.start is None and item.end is None and item.reason and item.kinds
            at_plan = {c.kind for c in check_conflicts(item.runbook, policy, now, windows,
                                                        calendar) if c.severity == "error"}
            assert set(item.kinds) <= at_plan | {"notice"}  # skipped only for a real conflict
            continue
        assert item.start is not None and item.end is not None
        assert item.end - item.start == mine.duration and item.start >= item.planned_start
        assert (item.status == "planned") == (item.start == item.planned_start)
        if following is not None and item.status == "moved":
            assert item.end <= following  # within its period
        errors = [c for c in check_conflicts(item.runbook, policy, now, windows, calendar)
                  if c.severity == "error"]
        assert errors == []
