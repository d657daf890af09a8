"""Conflicts of SPEC §5: a table over the seeds' rules, then each kind on its own.

Expectations are reasoned from the default policy (SPEC §4), not computed by the code:

* primary   = Sundays 02:00–06:00Z, secondary = Wednesdays 02:00–04:00Z,
  extended  = first Sunday of the month 02:00–08:00Z;
* the "primary" rows start 02:00 on a Sunday that is not the first of its month (inside
  primary only); the "extended" rows start 06:30 on a first Sunday (inside extended only);
  the "outside" rows start 10:00 on a weekday;
* brief-interruption allows primary+secondary, planned-outage primary+extended,
  extended-outage extended; zero-downtime and emergency allow any time;
* year-end freeze 12-15..01-02 inclusive; thanksgiving week = Thanksgiving Thursday 00:00Z
  for 5 days; quarter end = the last day of Mar/Jun/Sep/Dec; US holidays (added to the
  policy only in its rows) = whole UTC days.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import product

import pytest
from policy_support import make_runbook, policy_with, utc

from maintbook.calendar import CalendarEvent
from maintbook.config import Policy
from maintbook.loader import parse_text
from maintbook.model import Approval, build_runbook
from maintbook.policy import check_conflicts
from maintbook.policy_check import policy_diagnostics

TYPES = ("zero-downtime", "brief-interruption", "planned-outage", "extended-outage", "emergency")
NOTICE = {"zero-downtime": timedelta(hours=24), "brief-interruption": timedelta(hours=48),
          "planned-outage": timedelta(days=7), "extended-outage": timedelta(days=14),
          "emergency": timedelta(0)}
DURATION = {"brief-interruption": timedelta(minutes=5)}
ALLOWS = {"brief-interruption": {"primary", "secondary"},
          "planned-outage": {"primary", "extended"}, "extended-outage": {"extended"}}

# (window category, blackout) -> start; None: the combination cannot happen
STARTS: dict[tuple[str, str], datetime | None] = {
    ("primary", "year-end freeze"): utc(2026, 12, 20, 2),
    ("primary", "thanksgiving week"): utc(2026, 11, 29, 2),
    ("primary", "quarter end"): utc(2029, 9, 30, 2),       # the first Sunday quarter end
    ("primary", "US holidays"): utc(2029, 11, 11, 2),      # Veterans Day on a Sunday
    ("primary", "none"): utc(2026, 11, 8, 2),
    ("secondary", "year-end freeze"): utc(2026, 12, 16, 2),
    ("secondary", "thanksgiving week"): None,              # Thursday..Monday: no Wednesday
    ("secondary", "quarter end"): utc(2026, 9, 30, 2),
    ("secondary", "US holidays"): utc(2026, 11, 11, 2),    # Veterans Day, Wednesday
    ("secondary", "none"): utc(2026, 11, 4, 2),
    ("extended", "year-end freeze"): utc(2028, 1, 2, 6, 30),   # first Sunday of 2028
    ("extended", "thanksgiving week"): utc(2030, 12, 1, 6, 30),  # Thanksgiving 2030-11-28
    ("extended", "quarter end"): None,                     # first Sundays are the 1st–7th
    ("extended", "US holidays"): utc(2027, 7, 4, 6, 30),   # Independence Day, 1st Sunday
    ("extended", "none"): utc(2026, 11, 1, 6, 30),
    ("outside", "year-end freeze"): utc(2026, 12, 15, 10),
    ("outside", "thanksgiving week"): utc(2026, 11, 27, 10),
    ("outside", "quarter end"): utc(2026, 6, 30, 10),
    ("outside", "US holidays"): utc(2026, 11, 11, 10),
    ("outside", "none"): utc(2026, 11, 3, 10),
}
US_HOLIDAYS = {"name": "US holidays", "holidays": "US"}


def _expected(kind: str, category: str, blackout: str, notice_met: bool) -> set[str]:
    expected = set()
    if kind in ALLOWS and category not in ALLOWS[kind]:
        expected.add("outside-window")
    if blackout != "none" and kind != "emergency":
        expected.add("blackout")
    if not notice_met and kind != "emergency":
        expected.add("notice")
    return expected


def _rows() -> list[tuple[str, str, str, bool]]:
    return [(kind, category, blackout, met) for kind, (category, blackout), met
            in product(TYPES, STARTS, (True, False)) if STARTS[(category, blackout)]]


@pytest.mark.parametrize(("kind", "category", "blackout", "notice_met"), _rows())
def test_table(policy: Policy, kind: str, category: str, blackout: str,
               notice_met: bool) -> None:
    start = STARTS[(category, blackout)]
    assert start is not None
    rules = policy_with(US_HOLIDAYS) if blackout == "US holidays" else policy
    runbook = make_runbook(start, DURATION.get(kind, timedelta(hours=1)), type=kind)
    now = start - NOTICE[kind] + (timedelta(hours=-1) if notice_met else timedelta(hours=1))
    conflicts = check_conflicts(runbook, rules, now, [], [])
    errors = {c.kind for c in conflicts if c.severity == "error"}
    assert errors == _expected(kind, category, blackout, notice_met)
    infos = {(c.code, c.message.split('"')[1]) for c in conflicts if c.severity == "info"}
    assert infos == ({("blackout-overridden", blackout)}
                     if kind == "emergency" and blackout != "none" else set())
    if "blackout" in errors:
        assert {c.message.split('"')[1] for c in conflicts if c.kind == "blackout"} == {blackout}


def test_table_covers_every_possible_combination() -> None:
    assert len(_rows()) == 5 * (20 - 2) * 2


NOW = utc(2026, 10, 1)
SUNDAY = utc(2026, 11, 8, 2)


@pytest.mark.parametrize(("kind", "duration", "ok"), [
    ("brief-interruption", timedelta(minutes=5), True),
    ("brief-interruption", timedelta(minutes=6), False),
    ("planned-outage", timedelta(hours=2), True),
    ("planned-outage", timedelta(hours=3), False),
    ("extended-outage", timedelta(hours=4), True),
    ("extended-outage", timedelta(hours=5), False),
    ("zero-downtime", timedelta(days=2), True),
    ("emergency", timedelta(days=2), True),
])
def test_duration(policy: Policy, kind: str, duration: timedelta, ok: bool) -> None:
    start = utc(2026, 11, 1, 2)  # first Sunday: primary and extended
    found = [c for c in check_conflicts(make_runbook(start, duration, type=kind), policy,
                                        NOW, [], []) if c.kind == "duration"]
    assert (found == []) is ok
    if not ok:
        assert found[0].path == ("window", "duration")


def test_duration_message(policy: Policy) -> None:
    runbook = make_runbook(SUNDAY, timedelta(hours=5))
    messages = [c.message for c in check_conflicts(runbook, policy, NOW, [], [])
                if c.code == "duration"]
    assert messages == ["window.duration 5h exceeds the 2h maximum of type planned-outage"]


@pytest.mark.parametrize(("approvals", "codes"), [
    ((Approval("vp-engineering", "bob"),), []),
    ((), ["approval-missing"]),
    ((Approval("cto", "bob"),), ["approval-missing"]),
    ((Approval("vp-engineering", "sre-team"),), ["approval-owner"]),
    ((Approval("vp-engineering", "sre-team"), Approval("vp-engineering", "bob")), []),
])
def test_approvals(policy: Policy, approvals: tuple[Approval, ...], codes: list[str]) -> None:
    for kind in ("planned-outage", "emergency"):  # emergency still needs its approval
        runbook = make_runbook(SUNDAY, type=kind, approvals=approvals)
        found = [c for c in check_conflicts(runbook, policy, NOW, [], [])
                 if c.kind == "approval"]
        assert [c.code for c in found] == codes
        assert all(c.path == ("approvals",) for c in found)


def test_overlap_on_system_and_host(policy: Policy) -> None:
    mine = make_runbook(SUNDAY, timedelta(hours=2), systems=("database", "api"))
    other = make_runbook(SUNDAY + timedelta(hours=1), id="MNT-2026-0040",
                         file="runbooks/db.yml", systems=("database",), hosts="web")
    found = [c.message for c in check_conflicts(mine, policy, NOW, [other], [])]
    assert found == ["overlap with MNT-2026-0040 (runbooks/db.yml:12) on system database"]
    host = make_runbook(SUNDAY, id="MNT-2026-0041", systems=("cache",))
    found = [c.message for c in check_conflicts(mine, policy, NOW, [host], [])]
    assert found == ["overlap with MNT-2026-0041 (runbooks/x.yml:12) on host db_primary"]


def test_no_overlap_when_disjoint_in_time_or_resources_or_same_id(policy: Policy) -> None:
    mine = make_runbook(SUNDAY, timedelta(hours=2))
    later = make_runbook(SUNDAY + timedelta(hours=2), id="MNT-2026-0040")
    elsewhere = make_runbook(SUNDAY, id="MNT-2026-0041", systems=("cache",), hosts="web")
    itself = make_runbook(SUNDAY, id=mine.id, file="runbooks/copy.yml")
    assert check_conflicts(mine, policy, NOW, [later, elsewhere, itself], []) == []


def test_overlap_through_inventory_hosts(policy: Policy) -> None:
    groups = {"db_primary": frozenset({"db1"}), "databases": frozenset({"db1", "db2"}),
              "web": frozenset({"web1"})}
    mine = make_runbook(SUNDAY, systems=("a",))
    other = make_runbook(SUNDAY, id="MNT-2026-0040", systems=("b",), hosts="databases")
    def hosts_of(pattern: str) -> frozenset[str]:
        return groups.get(pattern, frozenset({pattern}))

    found = [c.message for c in check_conflicts(mine, policy, NOW, [other], [], hosts_of)]
    assert found == ["overlap with MNT-2026-0040 (runbooks/x.yml:12) on host db1"]
    assert check_conflicts(mine, policy, NOW, [other], []) == []  # patterns differ


def test_emergency_overlap_is_still_an_error(policy: Policy) -> None:
    mine = make_runbook(utc(2026, 12, 20, 2), type="emergency", id="EMT-202612200200")
    other = make_runbook(utc(2026, 12, 20, 2), id="MNT-2026-0040")
    found = {(c.kind, c.severity) for c in check_conflicts(mine, policy, NOW, [other], [])}
    assert found == {("overlap", "error"), ("blackout", "info")}


def test_calendar_event_blocks(policy: Policy) -> None:
    event = CalendarEvent("Deploy freeze", SUNDAY + timedelta(minutes=30),
                          SUNDAY + timedelta(hours=5), "deploy-freeze")
    found = [c for c in check_conflicts(make_runbook(SUNDAY), policy, NOW, [], [event])]
    assert [(c.kind, c.code, c.severity) for c in found] == [("calendar", "calendar", "error")]
    assert found[0].message == ('window 2026-11-08T02:00Z–03:00Z overlaps the event '
                                '"Deploy freeze" (2026-11-08T02:30Z–07:00Z) of calendar '
                                'deploy-freeze')
    before = CalendarEvent("x", SUNDAY - timedelta(hours=1), SUNDAY, "c")
    assert check_conflicts(make_runbook(SUNDAY), policy, NOW, [], [before]) == []


def test_blackout_message(policy: Policy) -> None:
    runbook = make_runbook(utc(2026, 12, 20, 2), timedelta(hours=2))
    assert [c.message for c in check_conflicts(runbook, policy, NOW, [], [])] == [
        'window 2026-12-20T02:00Z–04:00Z overlaps blackout "year-end freeze" (12-15 to 01-02)']


def test_window_ending_exactly_at_a_blackout_does_not_conflict(policy: Policy) -> None:
    extra = policy_with({"name": "launch", "from": "2026-11-08T03:00:00Z",
                         "to": "2026-11-09T00:00:00Z"})
    assert check_conflicts(make_runbook(SUNDAY, timedelta(hours=1)), extra, NOW, [], []) == []
    clash = check_conflicts(make_runbook(SUNDAY, timedelta(hours=1, minutes=1)), extra, NOW,
                            [], [])
    assert [c.kind for c in clash] == ["blackout"]


def test_window_must_fit_inside_one_allowed_window(policy: Policy) -> None:
    late = make_runbook(utc(2026, 11, 8, 5), timedelta(hours=2))  # primary ends 06:00
    assert [c.kind for c in check_conflicts(late, policy, NOW, [], [])] == ["outside-window"]


def test_dst_window_policy() -> None:
    berlin = policy_with(windows={"primary": {"rrule": "FREQ=WEEKLY;BYDAY=SU",
                                              "start": "02:00", "duration": "4h",
                                              "tz": "Europe/Berlin"}})
    spring = make_runbook(utc(2026, 3, 29, 1), timedelta(hours=2))  # 03:00 CEST
    assert check_conflicts(spring, berlin, utc(2026, 3, 1), [], []) == []
    too_early = make_runbook(utc(2026, 3, 29, 0, 30), timedelta(hours=1))
    kinds = [c.kind for c in check_conflicts(too_early, berlin, utc(2026, 3, 1), [], [])]
    assert kinds == ["outside-window"]


RUNBOOK = """\
runbook: 1
id: MNT-2026-0042
title: Vacuum
owner: sre-team
type: planned-outage
systems: [database]
window:
  start: 2026-12-20T02:00:00Z
  duration: 5h
targets:
  hosts: db_primary
steps:
  - name: Vacuum
    command: /bin/true
"""


def test_policy_diagnostics_are_positioned(policy: Policy) -> None:
    document, problems = parse_text(RUNBOOK, "runbooks/db.yml")
    assert document is not None and problems == []
    runbook = build_runbook(document)
    found = policy_diagnostics([(document, runbook)], policy, NOW, [])
    assert [(d.line, d.column, d.severity, d.code) for d in found] == [
        (8, 10, "error", "outside-window"), (8, 10, "error", "blackout"),
        (9, 13, "error", "duration"), (5, 1, "error", "approval-missing")]
    assert found[2].message == "window.duration 5h exceeds the 2h maximum of type planned-outage"
