"""Helpers for the policy and calendar tests: runbooks built directly as models."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from maintbook.config import DEFAULTS, Policy, build_policy
from maintbook.model import Approval, Runbook, Targets

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


def write_repo(root: Path, calendars: str = "", extra: str = "") -> Path:
    """A runbook repository: maintbook.yml, runbooks/db.yml (booked), mine.yml (checked)."""
    (root / "runbooks").mkdir(parents=True, exist_ok=True)
    (root / "maintbook.yml").write_text((calendars + extra) or "calendars: []\n")
    (root / "runbooks" / "db.yml").write_text(
        runbook_text("MNT-2026-0040", "2026-12-06T02:00:00Z", "2h"))
    (root / "mine.yml").write_text(runbook_text("MNT-2026-0042", "2026-11-08T02:00:00Z"))
    return root


__all__ = ["REPO", "ROLE_OF", "make_runbook", "policy_with", "replace", "runbook_text", "utc",
           "write_repo"]
