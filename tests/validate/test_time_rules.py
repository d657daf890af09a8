"""Load-time judgement of zones, RRULEs, clock times, holidays, durations and timestamps."""

from __future__ import annotations

from datetime import timedelta

import pytest

from maintbook.schema import ecma_pattern
from maintbook.timeparse import parse_duration, parse_rfc3339
from maintbook.timerules import clock_problem, holidays_problem, rrule_problem, zone_problem
from maintbook.yamlcore import ScalarError, construct


@pytest.mark.parametrize("rule", ["FREQ=WEEKLY;BYDAY=SU", "RRULE:FREQ=MONTHLY;BYDAY=1SU",
                                  "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29"])
def test_good_rules(rule: str) -> None:
    assert rrule_problem(rule) is None


@pytest.mark.parametrize(("rule", "words"), [
    ("FREQ=MINUTELY", "repeats MINUTELY"),
    ("FREQ=SECONDLY", "repeats SECONDLY"),
    ("FREQ=HOURLY", "repeats HOURLY"),
    ("FREQ=FORTNIGHTLY", "is not an RFC 5545 RRULE"),
    ("FREQ=WEEKLY;BYDAY=XX", "is not an RFC 5545 RRULE"),
    ("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30", "never occurs"),
    ("DTSTART:20260101T000000Z\nRRULE:FREQ=DAILY", "not one RRULE line"),
])
def test_bad_rules(rule: str, words: str) -> None:
    problem = rrule_problem(rule)
    assert problem is not None and words in problem


def test_a_recurring_runbook_may_repeat_hourly_but_not_faster() -> None:
    assert rrule_problem("FREQ=HOURLY", slowest="HOURLY") is None
    assert rrule_problem("FREQ=MINUTELY", slowest="HOURLY") is not None


def test_zones() -> None:
    assert zone_problem("Europe/Berlin") is None
    assert zone_problem("Europe/Berln") == (
        "unknown IANA time zone 'Europe/Berln'; did you mean 'Europe/Berlin'?")
    assert zone_problem("../../etc/passwd") is not None
    assert zone_problem("") is not None


def test_holidays() -> None:
    assert holidays_problem("US", "CA") is None
    assert "no country 'XX'" in (holidays_problem("XX", None) or "")
    assert "no subdivision 'ZZ' of US" in (holidays_problem("US", "ZZ") or "")


@pytest.mark.parametrize(("text", "good"), [("02:00", True), ("23:59", True), ("24:00", False),
                                           ("2:00", False), ("02:00\n", False)])
def test_clock(text: str, good: bool) -> None:
    assert (clock_problem(text) is None) is good


@pytest.mark.parametrize("text", ["2739000d", "99999999999d", "9" * 5000 + "d", 10**30, "367d"])
def test_durations_are_bounded(text: str | int) -> None:
    with pytest.raises(ValueError, match="longer than 366d"):
        parse_duration(text)


@pytest.mark.parametrize("text", ["٣h", "３h", "1h 30m", "1.5h"])
def test_durations_take_ascii_digits_only(text: str) -> None:
    with pytest.raises(ValueError, match="is not a duration"):
        parse_duration(text)


def test_duration_maximum_is_accepted() -> None:
    assert parse_duration("366d") == timedelta(days=366)


@pytest.mark.parametrize(("text", "words"), [
    ("2026-12-06", "is not an RFC 3339 timestamp"),
    ("9999-99-99T99:99:99Z", "is not a valid date and time"),
    ("2026-02-30T00:00:00Z", "is not a valid date and time"),
    ("9999-12-31T23:59:59-01:00", "is not a valid date and time"),
    ("9999-01-01T00:00:00Z", "out of range"),
    ("0001-01-01T00:00:00Z", "out of range"),
    ("２026-12-06T02:00:00Z", "is not an RFC 3339 timestamp"),
])
def test_bad_timestamps(text: str, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        parse_rfc3339(text)


def test_ecma_patterns_end_at_the_end_and_take_ascii_digits() -> None:
    import re

    prepared = ecma_pattern("^MNT-\\d{4}-[0-9]{4}$")
    assert re.search(prepared, "MNT-2026-0042")
    assert not re.search(prepared, "MNT-2026-0042\n")
    assert not re.search(prepared, "MNT-٢٠٢٦-0042")
    assert re.search(ecma_pattern("^[$]x$"), "$x")


@pytest.mark.parametrize(("tag", "text", "value"), [
    ("tag:yaml.org,2002:int", "0x1F", 31), ("tag:yaml.org,2002:float", ".inf", float("inf")),
    ("tag:yaml.org,2002:bool", "True", True), ("tag:yaml.org,2002:null", "~", None),
    ("tag:yaml.org,2002:timestamp", "2026-12-06T02:00:00Z", "2026-12-06T02:00:00Z"),
    ("!vault", "x", "x")])
def test_construct(tag: str, text: str, value: object) -> None:
    assert construct(tag, text) == value


@pytest.mark.parametrize(("tag", "text", "words"), [
    ("tag:yaml.org,2002:int", "9" * 5000, "out of range"),
    ("tag:yaml.org,2002:int", str(2**63), "out of range"),
    ("tag:yaml.org,2002:int", "abc", "is not an integer"),
    ("tag:yaml.org,2002:binary", "aGk=", "!!binary is not supported"),
    ("tag:yaml.org,2002:set", "x", "!!set is not supported")])
def test_construct_refuses(tag: str, text: str, words: str) -> None:
    with pytest.raises(ScalarError, match=words):
        construct(tag, text)
