"""The run-time gate of SPEC §5: time, blackouts, four-eyes approvals, reservations."""

from __future__ import annotations

from datetime import timedelta

from policy_support import make_runbook, utc

from maintbook.config import Policy
from maintbook.model import Approval
from maintbook.policy import Reservation, runtime_refusals

START = utc(2026, 11, 8, 2)  # a Sunday, primary window, no blackout
RB = make_runbook(START, timedelta(hours=2))


def test_inside_the_window_is_allowed(policy: Policy) -> None:
    assert runtime_refusals(RB, policy, START, [], forced=False) == []


def test_fifteen_minutes_early_is_allowed_sixteen_is_not(policy: Policy) -> None:
    assert runtime_refusals(RB, policy, START - timedelta(minutes=15), [], forced=False) == []
    reasons = runtime_refusals(RB, policy, START - timedelta(minutes=16), [], forced=False)
    assert len(reasons) == 1
    assert "outside the run window 2026-11-08T01:45:00Z to 2026-11-08T04:00:00Z" in reasons[0]


def test_the_end_of_the_window_is_the_last_allowed_moment(policy: Policy) -> None:
    assert runtime_refusals(RB, policy, RB.end, [], forced=False) == []
    assert len(runtime_refusals(RB, policy, RB.end + timedelta(seconds=1), [],
                                forced=False)) == 1


def test_forced_skips_the_time_rules(policy: Policy) -> None:
    assert runtime_refusals(RB, policy, START + timedelta(days=3), [], forced=True) == []


def test_blackout_covering_now_refuses(policy: Policy) -> None:
    rb = make_runbook(utc(2026, 12, 20, 2), timedelta(hours=2))
    reasons = runtime_refusals(rb, policy, utc(2026, 12, 20, 2, 30), [], forced=False)
    assert reasons == ['now (2026-12-20T02:30:00Z) is inside blackout "year-end freeze" '
                       "(12-15 to 01-02); --force-window --reason TEXT overrides it"]
    assert runtime_refusals(rb, policy, utc(2026, 12, 20, 2, 30), [], forced=True) == []


def test_emergency_is_exempt_from_blackouts(policy: Policy) -> None:
    rb = make_runbook(utc(2026, 12, 20, 2), type="emergency", id="EMT-202612200200")
    assert runtime_refusals(rb, policy, utc(2026, 12, 20, 2, 30), [], forced=False) == []


def test_missing_approval_refuses_even_when_forced(policy: Policy) -> None:
    rb = make_runbook(START, approvals=(Approval("cto", "carol"),))
    reasons = runtime_refusals(rb, policy, START, [], forced=True)
    assert len(reasons) == 1
    assert "needs an approval by role vp-engineering" in reasons[0]


def test_owner_approval_does_not_count(policy: Policy) -> None:
    rb = make_runbook(START, approvals=(Approval("vp-engineering", "sre-team"),))
    reasons = runtime_refusals(rb, policy, START, [], forced=False)
    assert len(reasons) == 1
    assert "by the owner sre-team" in reasons[0]
    both = make_runbook(START, approvals=(Approval("vp-engineering", "sre-team"),
                                          Approval("vp-engineering", "bob")))
    assert runtime_refusals(both, policy, START, [], forced=False) == []


def _held(systems: tuple[str, ...], hosts: tuple[str, ...], hours: int = 0,
          runbook_id: str = "MNT-2026-0040") -> Reservation:
    return Reservation(runbook_id, systems, hosts, START + timedelta(hours=hours),
                       START + timedelta(hours=hours + 1))


def test_reservation_on_a_shared_system_refuses(policy: Policy) -> None:
    reasons = runtime_refusals(RB, policy, START, [_held(("database",), ("web1",))],
                               forced=True)
    assert reasons == ["MNT-2026-0040 holds a reservation on system database from "
                       "2026-11-08T02:00:00Z to 2026-11-08T03:00:00Z"]


def test_reservation_on_a_shared_host_refuses(policy: Policy) -> None:
    reasons = runtime_refusals(RB, policy, START, [_held(("cache",), ("db_primary",))],
                               forced=False)
    assert len(reasons) == 1
    assert "host db_primary" in reasons[0]
    resolved = runtime_refusals(RB, policy, START, [_held(("cache",), ("db1",))],
                                forced=False, hosts=frozenset({"db1", "db2"}))
    assert len(resolved) == 1
    assert "host db1" in resolved[0]


def test_unrelated_later_or_own_reservations_do_not_refuse(policy: Policy) -> None:
    held = [_held(("cache",), ("web1",)), _held(("database",), ("db_primary",), hours=5),
            _held(("database",), ("db_primary",), runbook_id=RB.id)]
    assert runtime_refusals(RB, policy, START, held, forced=False) == []


def test_forced_run_holds_resources_from_now(policy: Policy) -> None:
    later = START + timedelta(days=2)
    held = [Reservation("MNT-2026-0040", ("database",), (), START + timedelta(days=1),
                        START + timedelta(days=1, hours=1))]
    assert runtime_refusals(RB, policy, later, held, forced=True) == []
    now_held = [Reservation("MNT-2026-0040", ("database",), (), later, later + timedelta(hours=1))]
    assert len(runtime_refusals(RB, policy, later, now_held, forced=True)) == 1
