"""The pure calendar engine: intervals, DST, blackouts of every kind, free slots."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from dateutil.rrule import rrulestr
from policy_support import policy_with, utc

from maintbook.calendar import (
    blackout_periods,
    blackouts_between,
    contains,
    first_free,
    free_slots,
    merge,
    overlaps,
    rule_between,
    rule_starts,
    span_text,
    window_periods,
    zone_info,
)
from maintbook.config import Blackout, Policy, WindowRule

H = timedelta(hours=1)


def test_half_open_overlap() -> None:
    assert overlaps(utc(2026, 1, 1, 2), utc(2026, 1, 1, 4), utc(2026, 1, 1, 3), utc(2026, 1, 1, 5))
    assert not overlaps(utc(2026, 1, 1, 2), utc(2026, 1, 1, 4),
                        utc(2026, 1, 1, 4), utc(2026, 1, 1, 5))


def test_merge_and_contains() -> None:
    a, b, c = utc(2026, 1, 1, 0), utc(2026, 1, 1, 2), utc(2026, 1, 1, 5)
    merged = merge([(b, c), (a, b), (c + H, c + 2 * H)])
    assert merged == [(a, c), (c + H, c + 2 * H)]
    assert contains(merged, a + H, c)
    assert not contains(merged, a + H, c + H)
    assert not contains([], a, b)


def test_first_free_skips_blockers() -> None:
    t0 = utc(2026, 1, 1)
    blockers = merge([(t0 + H, t0 + 2 * H), (t0 + 3 * H, t0 + 4 * H)])
    assert first_free(blockers, t0, H, t0 + 10 * H) == t0
    assert first_free(blockers, t0 + H, H, t0 + 10 * H) == t0 + 2 * H
    assert first_free(blockers, t0 + H, 2 * H, t0 + 10 * H) == t0 + 4 * H
    assert first_free(blockers, t0 + H, 2 * H, t0 + 5 * H) is None


def test_span_text() -> None:
    assert span_text(utc(2026, 12, 20, 2), utc(2026, 12, 20, 4)) == "2026-12-20T02:00Z–04:00Z"
    assert span_text(utc(2026, 12, 20, 22), utc(2026, 12, 21, 1)) == (
        "2026-12-20T22:00Z–2026-12-21T01:00Z")


def _starts(rule: WindowRule, day: tuple[int, int, int]) -> list[tuple[datetime, datetime]]:
    low = utc(*day) - timedelta(days=1)
    return [(p.start, p.end) for p in window_periods(rule, low, low + timedelta(days=3))]


DAILY = "FREQ=DAILY"


@pytest.mark.parametrize(("zone", "clock", "day", "start_utc", "end_utc"), [
    # Berlin, spring forward 2026-03-29: 02:00 does not exist -> offset before the gap
    ("Europe/Berlin", time(2), (2026, 3, 29), utc(2026, 3, 29, 1), utc(2026, 3, 29, 5)),
    # the night before and after are ordinary CET / CEST
    ("Europe/Berlin", time(2), (2026, 3, 28), utc(2026, 3, 28, 1), utc(2026, 3, 28, 5)),
    ("Europe/Berlin", time(2), (2026, 3, 30), utc(2026, 3, 30, 0), utc(2026, 3, 30, 4)),
    # Berlin, fall back 2026-10-25: 02:00 happens twice -> the first (CEST) one, once
    ("Europe/Berlin", time(2), (2026, 10, 25), utc(2026, 10, 25, 0), utc(2026, 10, 25, 4)),
    ("Europe/Berlin", time(2, 30), (2026, 10, 25), utc(2026, 10, 25, 0, 30),
     utc(2026, 10, 25, 4, 30)),
    ("Europe/Berlin", time(2), (2026, 10, 26), utc(2026, 10, 26, 1), utc(2026, 10, 26, 5)),
    # New York, spring forward 2026-03-08: 02:00 does not exist -> 02:00 EST = 07:00Z
    ("America/New_York", time(2), (2026, 3, 8), utc(2026, 3, 8, 7), utc(2026, 3, 8, 11)),
    ("America/New_York", time(2), (2026, 3, 9), utc(2026, 3, 9, 6), utc(2026, 3, 9, 10)),
    # New York, fall back 2026-11-01: 02:00 (EST) happens once; 01:30 twice -> EDT
    ("America/New_York", time(2), (2026, 11, 1), utc(2026, 11, 1, 7), utc(2026, 11, 1, 11)),
    ("America/New_York", time(1, 30), (2026, 11, 1), utc(2026, 11, 1, 5, 30),
     utc(2026, 11, 1, 9, 30)),
    ("America/New_York", time(2), (2026, 10, 31), utc(2026, 10, 31, 6), utc(2026, 10, 31, 10)),
])
def test_dst_change_nights(zone: str, clock: time, day: tuple[int, int, int],
                           start_utc: datetime, end_utc: datetime) -> None:
    rule = WindowRule("night", DAILY, clock, timedelta(hours=4), zone)
    spans = _starts(rule, day)
    assert spans.count((start_utc, end_utc)) == 1
    starts = [s for s, _ in spans]
    assert starts == sorted(set(starts))  # never the same occurrence twice


def test_fall_back_night_has_one_occurrence_not_two() -> None:
    rule = WindowRule("night", "FREQ=WEEKLY;BYDAY=SU", time(2, 30), timedelta(hours=1),
                      "Europe/Berlin")
    found = window_periods(rule, utc(2026, 10, 24), utc(2026, 10, 26))
    assert [(p.start, p.end) for p in found] == [(utc(2026, 10, 25, 0, 30),
                                                  utc(2026, 10, 25, 1, 30))]


def test_weekly_window_in_new_york_follows_local_time_across_the_change() -> None:
    rule = WindowRule("primary", "FREQ=WEEKLY;BYDAY=SU", time(2), timedelta(hours=4),
                      "America/New_York")
    found = window_periods(rule, utc(2026, 2, 28), utc(2026, 3, 16))
    assert [p.start for p in found] == [utc(2026, 3, 1, 7), utc(2026, 3, 8, 7),
                                        utc(2026, 3, 15, 6)]


def test_default_windows(policy: Policy) -> None:
    primary = window_periods(policy.windows["primary"], utc(2026, 11, 1), utc(2026, 11, 16))
    assert [p.start for p in primary] == [utc(2026, 11, 1, 2), utc(2026, 11, 8, 2),
                                          utc(2026, 11, 15, 2)]
    extended = window_periods(policy.windows["extended"], utc(2026, 11, 1), utc(2027, 1, 31))
    assert [(p.start, p.end) for p in extended] == [
        (utc(2026, 11, 1, 2), utc(2026, 11, 1, 8)), (utc(2026, 12, 6, 2), utc(2026, 12, 6, 8)),
        (utc(2027, 1, 3, 2), utc(2027, 1, 3, 8))]


def _spans(blackout: Blackout, low: datetime, high: datetime) -> list[tuple[datetime, datetime]]:
    return [(p.start, p.end) for p in blackout_periods(blackout, low, high)]


def test_yearly_range_is_inclusive_and_crosses_new_year() -> None:
    freeze = Blackout("year-end freeze", "12-15", "01-02")
    assert _spans(freeze, utc(2026, 6, 1), utc(2027, 6, 1)) == [
        (utc(2026, 12, 15), utc(2027, 1, 3))]
    # the January part of the freeze that began the year before
    assert _spans(freeze, utc(2027, 1, 2, 23), utc(2027, 1, 3, 1)) == [
        (utc(2026, 12, 15), utc(2027, 1, 3))]
    assert _spans(freeze, utc(2027, 1, 3), utc(2027, 1, 4)) == []


def test_yearly_range_in_a_zone() -> None:
    summer = Blackout("summer", "07-01", "07-31", tz="Europe/Berlin")
    assert _spans(summer, utc(2026, 1, 1), utc(2026, 12, 31)) == [
        (utc(2026, 6, 30, 22), utc(2026, 7, 31, 22))]


def test_absolute_range() -> None:
    launch = Blackout("product launch", "2027-03-01T00:00:00Z", "2027-03-03T00:00:00+00:00")
    assert _spans(launch, utc(2027, 1, 1), utc(2027, 12, 1)) == [
        (utc(2027, 3, 1), utc(2027, 3, 3))]
    assert _spans(launch, utc(2027, 3, 3), utc(2027, 3, 4)) == []


def test_thanksgiving_week(policy: Policy) -> None:
    found = [p for p in blackouts_between(policy, utc(2026, 11, 1), utc(2027, 12, 1))
             if p.name == "thanksgiving week"]
    assert [(p.start, p.end) for p in found] == [(utc(2026, 11, 26), utc(2026, 12, 1)),
                                                 (utc(2027, 11, 25), utc(2027, 11, 30))]


def test_quarter_end(policy: Policy) -> None:
    found = [p.start for p in blackouts_between(policy, utc(2026, 1, 1), utc(2027, 1, 1))
             if p.name == "quarter end"]
    assert found == [utc(2026, 3, 31), utc(2026, 6, 30), utc(2026, 9, 30), utc(2026, 12, 31)]


def test_rrule_blackout_with_local_start_and_zone() -> None:
    patch = Blackout("patch tuesday", rrule="FREQ=MONTHLY;BYDAY=2TU", local_start=time(18),
                     duration=timedelta(hours=6), tz="America/New_York")
    assert _spans(patch, utc(2026, 7, 1), utc(2026, 8, 1)) == [
        (utc(2026, 7, 14, 22), utc(2026, 7, 15, 4))]


def test_us_holidays_block_the_whole_day() -> None:
    us = Blackout("US holidays", holidays="US")
    spans = _spans(us, utc(2027, 7, 1), utc(2027, 7, 10))
    assert (utc(2027, 7, 4), utc(2027, 7, 5)) in spans       # Independence Day (a Sunday)
    assert (utc(2027, 7, 5), utc(2027, 7, 6)) in spans       # ... observed on Monday
    assert _spans(us, utc(2027, 7, 7), utc(2027, 7, 8)) == []


def test_holidays_by_subdivision_and_zone() -> None:
    cesar = Blackout("CA", holidays="US", subdivision="CA", tz="America/Los_Angeles")
    spans = _spans(cesar, utc(2027, 3, 30), utc(2027, 4, 2))
    assert spans == [(utc(2027, 3, 31, 7), utc(2027, 4, 1, 7))]   # Cesar Chavez Day
    assert _spans(Blackout("US", holidays="US"), utc(2027, 3, 30), utc(2027, 4, 2)) == []


def test_unknown_holiday_country_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="knows no country 'XX'"):
        _spans(Blackout("x", holidays="XX"), utc(2027, 1, 1), utc(2027, 2, 1))


def test_policy_with_extra_blackout() -> None:
    extra = policy_with({"name": "US holidays", "holidays": "US"})
    names = {p.name for p in blackouts_between(extra, utc(2026, 11, 11), utc(2026, 11, 12))}
    assert names == {"US holidays"}


def test_free_slots_one_per_window_and_any_time(policy: Policy) -> None:
    allowed = window_periods(policy.windows["secondary"], utc(2026, 11, 1), utc(2026, 11, 20))
    blockers = [(utc(2026, 11, 4, 2), utc(2026, 11, 4, 3))]
    slots = free_slots(allowed, blockers, utc(2026, 11, 1), H, utc(2026, 11, 20), 5)
    assert [(s.start, s.name) for s in slots] == [
        (utc(2026, 11, 4, 3), "secondary"), (utc(2026, 11, 11, 2), "secondary"),
        (utc(2026, 11, 18, 2), "secondary")]
    anytime = free_slots(None, blockers, utc(2026, 11, 4, 1), H, utc(2026, 12, 1), 2)
    assert [s.start for s in anytime] == [utc(2026, 11, 4, 1), utc(2026, 11, 4, 3)]


RULES = ["FREQ=WEEKLY;BYDAY=SU", "FREQ=WEEKLY", "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TH",
         "FREQ=WEEKLY;INTERVAL=3;WKST=SU;BYDAY=SU,SA", "FREQ=MONTHLY;BYDAY=1SU", "FREQ=MONTHLY",
         "FREQ=MONTHLY;INTERVAL=5;BYMONTHDAY=-1", "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1",
         "FREQ=YEARLY;INTERVAL=3;BYMONTH=2;BYMONTHDAY=29", "FREQ=YEARLY;BYWEEKNO=1,53;BYDAY=MO",
         "FREQ=YEARLY;BYEASTER=-2", "FREQ=YEARLY", "FREQ=YEARLY;INTERVAL=2",
         "FREQ=DAILY;INTERVAL=9", "FREQ=DAILY;BYHOUR=1,13",
         "FREQ=HOURLY;INTERVAL=7", "FREQ=MINUTELY;INTERVAL=97", "FREQ=DAILY;COUNT=3",
         "FREQ=DAILY;UNTIL=20270301T000000", "RRULE:FREQ=WEEKLY;BYDAY=WE"]


@pytest.mark.parametrize("rule", RULES)
def test_expansion_restarts_near_the_range_with_the_anchors_occurrences(rule: str) -> None:
    """The restart keeps the phase of the 2000-01-01 anchor: compare with a walk from 2000."""
    text = rule.removeprefix("RRULE:")
    walk = rrulestr(text, dtstart=datetime(2000, 1, 1, 3, 15))
    for year in (2026, 2027, 2031):
        expected = [m.replace(tzinfo=UTC) for m in walk.between(
            datetime(year, 1, 1), datetime(year + 1, 1, 1), inc=True)
            if m < datetime(year + 1, 1, 1)]
        assert list(rule_starts(rule, time(3, 15), "UTC", year)) == expected


def test_rule_between_is_lazy_and_bounded() -> None:
    every_minute = rule_between("FREQ=MINUTELY", time(0), "UTC", utc(2030, 1, 1),
                                utc(2040, 1, 1), 500)
    assert every_minute[0] == utc(2030, 1, 1) and len(every_minute) == 500
    assert every_minute[-1] == utc(2030, 1, 1, 8, 19)
    spring = rule_between("FREQ=DAILY", time(2, 30), "Europe/Berlin", utc(2026, 3, 28),
                          utc(2026, 3, 31), 10)
    assert spring == [utc(2026, 3, 28, 1, 30), utc(2026, 3, 29, 1, 30), utc(2026, 3, 30, 0, 30)]
    with pytest.raises(ValueError, match="invalid RRULE"):
        rule_between("FREQ=FORTNIGHTLY", time(0), "UTC", utc(2030, 1, 1), utc(2030, 2, 1), 5)


def test_zone_info_names_an_unknown_zone() -> None:
    assert str(zone_info("Europe/Berlin")) == "Europe/Berlin"
    with pytest.raises(ValueError, match="unknown time zone 'Mars/Olympus'"):
        zone_info("Mars/Olympus")
