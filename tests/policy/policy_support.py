"""Helpers for the policy and calendar tests: runbooks built directly as models."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

from tests.support.pgstate import write_config

from maintbook.config import DEFAULTS, Policy, build_policy
from maintbook.model import Approval, Recurrence, Runbook, Targets

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "support"))

ROLE_OF = {
    "zero-downtime": "team-lead",
    "brief-interruption": "engineering-manager",
    "planned-outage": "vp-engineering",
    "extended-outage": "cto",
    "emergency": "vp-engineering",
}


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def make_runbook(start: datetime, duration: timedelta = timedelta(hours=1), *,
                 type: str = "planned-outage", id: str = "MNT-2026-0001",
                 systems: tuple[str, ...] = ("database",), hosts: str = "db_primary",
                 approvals: tuple[Approval, ...] | None = None, owner: str = "sre-team",
                 file: str = "runbooks/x.yml") -> Runbook:
    if approvals is None:
        approvals = (Approval(ROLE_OF[type], "alice"),)
    return Runbook(file=file, id=id, title="t", owner=owner, type=type, risk="low",
                   systems=systems, window_start=start, duration=duration, targets=Targets(hosts),
                   steps=(), approvals=approvals, lines={"window": 12})


def make_series(rrule: str = "FREQ=WEEKLY;BYDAY=SU", clock: time = time(3),
                duration: timedelta = timedelta(hours=1), *, tz: str = "UTC",
                on_conflict: str = "next-slot", type: str = "planned-outage",
                id: str = "MNT-2026-0100", systems: tuple[str, ...] = ("database",),
                hosts: str = "db_primary", file: str = "runbooks/series.yml") -> Runbook:
    """A recurring runbook (no window.start): weekly on Sundays at 03:00 UTC for an hour."""
    one = make_runbook(utc(2026, 1, 1), duration, type=type, id=id, systems=systems,
                       hosts=hosts, file=file)
    return replace(one, window_start=None,
                   recurrence=Recurrence(rrule, clock, tz, "auto", on_conflict))


def policy_with(*blackouts: Mapping[str, object],
                windows: Mapping[str, object] | None = None) -> Policy:
    data = {**DEFAULTS["policy"]}
    data["blackouts"] = [*DEFAULTS["policy"]["blackouts"], *blackouts]
    if windows is not None:
        data["windows"] = {**DEFAULTS["policy"]["windows"], **windows}
    return build_policy(data)



RUNBOOK = """\
runbook: 1
id: {id}
title: Vacuum
owner: sre-team
type: {type}
systems: [{systems}]
window:
  start: {start}
  duration: {duration}
approvals:
  - {{role: {role}, by: bob}}
targets:
  hosts: {hosts}
steps:
  - name: Vacuum
    command: /bin/true
"""


def runbook_text(id: str, start: str, duration: str = "1h", *, type: str = "planned-outage",
                 systems: str = "database", hosts: str = "db_primary") -> str:
    """A valid runbook file (the window's start is on line 8)."""
    return RUNBOOK.format(id=id, type=type, systems=systems, start=start, duration=duration,
                          role=ROLE_OF[type], hosts=hosts)


SERIES = """\
runbook: 1
id: {id}
title: Weekly vacuum
owner: sre-team
type: {type}
systems: [{systems}]
window:
  duration: {duration}
recurrence:
  rrule: "{rrule}"
  start: "{clock}"
  tz: {tz}
  on_conflict: {on_conflict}
approvals:
  - {{role: {role}, by: bob}}
targets:
  hosts: db_primary
steps:
  - name: Vacuum
    command: /bin/true
"""


def series_text(id: str, rrule: str = "FREQ=WEEKLY;BYDAY=SU", clock: str = "03:00",
                duration: str = "1h", *, tz: str = "UTC", on_conflict: str = "next-slot",
                type: str = "planned-outage", systems: str = "database") -> str:
    """A valid recurring runbook file (recurrence.rrule on line 10, tz on line 12)."""
    return SERIES.format(id=id, rrule=rrule, clock=clock, duration=duration, tz=tz,
                         on_conflict=on_conflict, type=type, systems=systems,
                         role=ROLE_OF[type])


def write_repo(root: Path, calendars: str = "", extra: str = "") -> Path:
    """A runbook repository: maintbook.yml, runbooks/db.yml (booked), mine.yml (checked)."""
    (root / "runbooks").mkdir(parents=True, exist_ok=True)
    write_config(root, (calendars + extra) or "calendars: []\n")
    (root / "runbooks" / "db.yml").write_text(
        runbook_text("MNT-2026-0040", "2026-12-06T02:00:00Z", "2h"))
    (root / "mine.yml").write_text(runbook_text("MNT-2026-0042", "2026-11-08T02:00:00Z"))
    return root


__all__ = ["REPO", "ROLE_OF", "make_runbook", "make_series", "policy_with", "replace",
           "runbook_text", "series_text", "utc", "write_repo"]
