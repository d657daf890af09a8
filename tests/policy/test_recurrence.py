"""Occurrences of recurring runbooks (SPEC §11), judged by the default policy of SPEC §4.

Expectations are reasoned from the rules, not computed by the code: primary = Sundays
02:00–06:00Z, extended = first Sundays 02:00–08:00Z (planned-outage: either, 7d notice,
2h maximum); year-end freeze = [12-15 00:00Z, 01-03 00:00Z); thanksgiving week 2026 =
[11-26, 12-01). The series is weekly on Sundays at 03:00 UTC for an hour unless a test
says otherwise; its period is the week until the next Sunday 03:00.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from policy_support import make_runbook, make_series, series_text, utc

from maintbook.config import Policy
from maintbook.loader import parse_text
from maintbook.model import Runbook, build_runbook
from maintbook.policy import check_conflicts
from maintbook.policy_check import policy_diagnostics
from maintbook.recurrence import (
    MAX_OCCURRENCES,
    Occurrence,
    RecurrenceError,
    current_occurrence,
    first_start,
    next_occurrence,
    occurrences,
    upcoming,
)

NOW = utc(2026, 11, 1)
FREEZE = 'overlaps blackout "year-end freeze" (12-15 to 01-02)'


def rows(found: list[Occurrence]) -> list[tuple[datetime, datetime | None, str]]:
    return [(o.planned_start, o.start, o.status) for o in found]


def december(policy: Policy, series: Runbook, **kwargs: object) -> list[Occurrence]:
    return occurrences(series, policy, start=utc(2026, 12, 1), end=utc(2027, 1, 11), now=NOW,
                       **kwargs)  # type: ignore[arg-type]


def test_weekly_in_the_year_end_freeze_moves_to_the_next_slot_of_its_week(policy: Policy) -> None:
    found = december(policy, make_series())
    assert rows(found) == [
        (utc(2026, 12, 6, 3), utc(2026, 12, 6, 3), "planned"),
        (utc(2026, 12, 13, 3), utc(2026, 12, 13, 3), "planned"),
        (utc(2026, 12, 20, 3), None, "skipped"),  # its whole week is frozen
        (utc(2026, 12, 27, 3), utc(2027, 1, 3, 2), "moved"),  # primary opens 01-03 02:00
        (utc(2027, 1, 3, 3), utc(2027, 1, 3, 3), "planned"),
        (utc(2027, 1, 10, 3), utc(2027, 1, 10, 3), "planned"),
    ]
    skipped, moved = found[2], found[3]
    assert skipped.reason == (f"window 2026-12-20T03:00Z–04:00Z {FREEZE}; no compliant slot "
                              "before the next occurrence (2026-12-27T03:00:00Z)")
    assert skipped.kinds == ("blackout",) and skipped.end is None and skipped.window == ""
    assert moved.reason == f"window 2026-12-27T03:00Z–04:00Z {FREEZE}"
    assert (moved.end, moved.window) == (utc(2027, 1, 3, 3), "primary+extended")
    assert moved.maintenance_id == "MNT-2026-0100@20261227T0300Z"  # named by its plan
    assert (moved.runbook.start, moved.runbook.occurrence) == (utc(2027, 1, 3, 2), "20261227T0300Z")
    assert [o.window for o in found[:2]] == ["primary+extended", "primary"]


def test_weekly_in_the_year_end_freeze_is_skipped_with_skip(policy: Policy) -> None:
    found = december(policy, make_series(on_conflict="skip"))
    assert [o.status for o in found] == ["planned", "planned", "skipped", "skipped", "planned",
                                         "planned"]
    assert found[3].reason == f"window 2026-12-27T03:00Z–04:00Z {FREEZE}"


def test_outside_the_allowed_windows_moves_within_the_period(policy: Policy) -> None:
    tuesday = make_series("FREQ=WEEKLY;BYDAY=TU", time(10))  # its week holds a Sunday
    found = occurrences(tuesday, policy, start=utc(2026, 11, 2), end=utc(2026, 11, 9),
                        now=utc(2026, 10, 1))
    assert rows(found) == [(utc(2026, 11, 3, 10), utc(2026, 11, 8, 2), "moved")]
    assert found[0].kinds == ("outside-window",)
    assert found[0].reason.startswith("window 2026-11-03T10:00Z–11:00Z is not inside an "
                                      "allowed window of type planned-outage")


@pytest.mark.parametrize(("start", "planned"), [
    # the spring-forward night: 02:30 does not exist and is read before the gap (CET)
    (utc(2026, 3, 29), utc(2026, 3, 29, 1, 30)),
    (utc(2026, 3, 22), utc(2026, 3, 22, 1, 30)),  # a week before: CET
    (utc(2026, 4, 5), utc(2026, 4, 5, 0, 30)),    # a week after: CEST
    (utc(2026, 10, 25), utc(2026, 10, 25, 0, 30)),  # fall back: the first 02:30 (CEST), once
])
def test_dst_in_europe_berlin(policy: Policy, start: datetime, planned: datetime) -> None:
    series = make_series(clock=time(2, 30), tz="Europe/Berlin", type="zero-downtime")
    found = occurrences(series, policy, start=start, end=start + timedelta(days=1),
                        now=utc(2026, 1, 1))
    assert rows(found) == [(planned, planned, "planned")]
    assert found[0].window == "any"
    assert found[0].maintenance_id == f"MNT-2026-0100@{planned:%Y%m%dT%H%MZ}"


SUNDAY = utc(2026, 11, 8, 3)


def _sunday(policy: Policy, series: Runbook, others: list[Runbook]) -> Occurrence:
    (found,) = occurrences(series, policy, start=SUNDAY, end=SUNDAY + timedelta(hours=1),
                           now=NOW, others=others)
    return found


def test_an_occurrence_on_an_overlap_moves_after_it_or_is_skipped(policy: Policy) -> None:
    booked = make_runbook(SUNDAY, id="MNT-2026-0040")
    moved = _sunday(policy, make_series(), [booked])
    assert (moved.status, moved.start, moved.kinds) == ("moved", SUNDAY + timedelta(hours=1),
                                                         ("overlap",))
    assert moved.reason == ("overlap with MNT-2026-0040 (runbooks/x.yml:12) on system database "
                            "and host db_primary")
    skipped = _sunday(policy, make_series(on_conflict="skip"), [booked])
    assert (skipped.status, skipped.reason) == ("skipped", moved.reason)
    elsewhere = make_runbook(SUNDAY, id="MNT-2026-0041", systems=("cache",), hosts="web")
    assert _sunday(policy, make_series(), [elsewhere]).status == "planned"


def test_one_off_runbooks_never_yield_to_a_series(policy: Policy) -> None:
    booked = make_runbook(SUNDAY, id="MNT-2026-0040")
    assert check_conflicts(booked, policy, NOW, [make_series()], []) == []


def test_series_yield_to_the_series_whose_id_sorts_first(policy: Policy) -> None:
    first, second, third = (make_series(id=f"MNT-2026-0{n}") for n in (100, 200, 300))
    assert _sunday(policy, first, [second, third]).status == "planned"
    moved = _sunday(policy, second, [first, third])
    assert (moved.status, moved.start) == ("moved", SUNDAY + timedelta(hours=1))
    assert moved.reason.startswith("overlap with MNT-2026-0100@20261108T0300Z "
                                   "(runbooks/series.yml:12) on system database")
    last = _sunday(policy, third, [first, second])  # after both: 05:00, primary ends 06:00
    assert (last.status, last.start) == ("moved", SUNDAY + timedelta(hours=2))


def test_notice_counts_for_the_first_occurrence_only(policy: Policy) -> None:
    series, now = make_series(), utc(2026, 11, 3, 12)  # a Tuesday
    fresh = occurrences(series, policy, start=now, end=utc(2026, 11, 23), now=now)
    assert [o.status for o in fresh] == ["skipped", "planned", "planned"]  # 11-08, 15, 22
    assert fresh[0].kinds == ("notice",)
    assert fresh[0].reason == (
        "before the series' first occurrence: announced now (2026-11-03T12:00:00Z) with the "
        "7d notice of type planned-outage, the series starts at 2026-11-10T12:00:00Z at the "
        "earliest")
    assert first_start(series, policy, now) == utc(2026, 11, 10, 12)
    # announced for 11-08: a day before 11-15, that occurrence needs no notice of its own
    late = utc(2026, 11, 14, 12)
    announced = occurrences(series, policy, start=utc(2026, 11, 8), end=utc(2026, 11, 23),
                            now=late, first=utc(2026, 11, 8, 3))
    assert [o.status for o in announced] == ["planned", "planned", "planned"]
    one_off = check_conflicts(announced[1].runbook, policy, late, [], [])
    assert [c.kind for c in one_off] == ["notice"]  # as a one-off it would need 7 days
    later = occurrences(series, policy, start=utc(2026, 11, 8), end=utc(2026, 11, 16), now=late,
                        first=utc(2026, 11, 15, 3))
    assert [o.status for o in later] == ["skipped", "planned"]
    assert later[0].reason == ("before the series' first occurrence (2026-11-15T03:00:00Z), "
                               "as announced")
    emergency = make_series(type="emergency", id="EMT-202611010000")
    assert first_start(emergency, policy, now) == now


def test_current_occurrence_is_the_one_whose_run_window_holds_now(policy: Policy) -> None:
    series, first = make_series(), utc(2026, 11, 1, 3)

    def current(now: datetime, others: list[Runbook] = []) -> datetime | None:  # noqa: B006
        found = current_occurrence(series, policy, now=now, first=first, others=others)
        return found.start if found is not None else None

    assert current(SUNDAY - timedelta(minutes=15)) == SUNDAY
    assert current(SUNDAY - timedelta(minutes=16)) is None
    assert current(SUNDAY + timedelta(hours=1)) == SUNDAY  # the end is the last moment
    assert current(SUNDAY + timedelta(hours=1, minutes=1)) is None
    booked = [make_runbook(SUNDAY, id="MNT-2026-0040")]
    assert current(SUNDAY + timedelta(minutes=50), booked) == SUNDAY + timedelta(hours=1)
    assert current(SUNDAY + timedelta(minutes=30), booked) is None
    unannounced = current_occurrence(series, policy, now=SUNDAY)
    assert unannounced is None


def test_when_two_run_windows_meet_the_current_one_is_the_later(policy: Policy) -> None:
    twice = make_series("FREQ=DAILY;BYHOUR=3,4", type="zero-downtime")
    found = current_occurrence(twice, policy, now=utc(2026, 11, 9, 3, 50), first=NOW)
    assert found is not None and found.start == utc(2026, 11, 9, 4)


def test_next_occurrence_skips_what_does_not_take_place(policy: Policy) -> None:
    series = make_series()
    after_skip = next_occurrence(series, policy, now=utc(2026, 12, 20, 12), first=NOW)
    assert after_skip is not None
    assert (after_skip.maintenance_id, after_skip.start) == ("MNT-2026-0100@20261227T0300Z",
                                                             utc(2027, 1, 3, 2))
    between = next_occurrence(series, policy, now=utc(2027, 1, 3, 2, 30), first=NOW)
    assert between is not None and between.start == utc(2027, 1, 3, 3)
    frozen = next_occurrence(series, policy, now=utc(2026, 12, 16), first=NOW,
                             horizon=timedelta(days=5))
    assert frozen is None


def test_a_duration_over_the_maximum_skips_every_occurrence(policy: Policy) -> None:
    found = december(policy, make_series(duration=timedelta(hours=3)))
    assert {(o.status, o.kinds) for o in found} == {("skipped", ("duration",))}
    assert found[0].reason == "window.duration 3h exceeds the 2h maximum of type planned-outage"


def test_a_rule_or_zone_that_cannot_expand_names_its_key(policy: Policy) -> None:
    with pytest.raises(RecurrenceError, match="recurrence.rrule: invalid RRULE") as bad_rule:
        december(policy, make_series("FREQ=FORTNIGHTLY"))
    assert bad_rule.value.key == "rrule"
    with pytest.raises(RecurrenceError, match="unknown time zone 'Mars/Olympus'") as bad_zone:
        december(policy, make_series(tz="Mars/Olympus"))
    assert bad_zone.value.key == "tz"
    with pytest.raises(ValueError, match="does not recur"):
        december(policy, make_runbook(SUNDAY))


def test_work_is_bounded(policy: Policy) -> None:
    daily = make_series("FREQ=DAILY", type="zero-downtime", id="MNT-2026-0101")
    ten_years = occurrences(daily, policy, start=utc(2026, 1, 1), end=utc(2036, 1, 1), now=NOW,
                            first=utc(2026, 1, 1))
    assert len(ten_years) == 3652 and ten_years[-1].planned_start == utc(2035, 12, 31, 3)
    hourly = make_series("FREQ=HOURLY", type="zero-downtime")
    capped = occurrences(hourly, policy, start=utc(2026, 1, 1), end=utc(2036, 1, 1), now=NOW,
                         first=utc(2026, 1, 1))
    assert len(capped) == MAX_OCCURRENCES
    assert capped[-1].planned_start == utc(2026, 1, 1) + timedelta(hours=MAX_OCCURRENCES - 1)
    listed = list(upcoming(hourly, policy, after=utc(2026, 1, 1), now=NOW, first=NOW))
    assert len(listed) == MAX_OCCURRENCES


def test_upcoming_lists_in_order_from_after(policy: Policy) -> None:
    found = list(upcoming(make_series(), policy, after=utc(2026, 12, 14), now=NOW,
                          horizon=timedelta(days=21)))
    assert rows(found) == [(utc(2026, 12, 20, 3), None, "skipped"),
                           (utc(2026, 12, 27, 3), utc(2027, 1, 3, 2), "moved"),
                           (utc(2027, 1, 3, 3), utc(2027, 1, 3, 3), "planned")]


@pytest.mark.parametrize(("rrule", "tz", "where", "code", "message"), [
    ("FREQ=FORTNIGHTLY", "UTC", (10, 10), "recurrence-rrule",
     "recurrence.rrule: invalid RRULE 'FREQ=FORTNIGHTLY': invalid 'FREQ': FORTNIGHTLY"),
    ("FREQ=WEEKLY;BYDAY=SU", "Mars/Olympus", (12, 7), "recurrence-tz",
     "recurrence.tz: unknown time zone 'Mars/Olympus': use an IANA name (Europe/Berlin)"),
])
def test_check_points_at_the_recurrence_key_at_fault(policy: Policy, rrule: str, tz: str,
                                                     where: tuple[int, int], code: str,
                                                     message: str) -> None:
    document, problems = parse_text(series_text("MNT-2026-0100", rrule, tz=tz), "weekly.yml")
    assert document is not None and problems == []
    found = policy_diagnostics([(document, build_runbook(document))], policy, NOW, [])
    assert [((d.line, d.column), d.severity, d.code, d.message) for d in found] == [
        (where, "error", code, message)]
