"""A daily `run: auto` runbook driven by `maintbook tick` on a simulated clock, against a
real SSH host in a network namespace (SPEC §11)."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.runbooks.conftest import MAINTBOOK, Env

pytestmark = pytest.mark.integration
DAY0 = datetime(2027, 5, 3, tzinfo=UTC)  # a Monday, far from the default blackouts
CONFIG = """\
policy:
  blackouts:
    - {name: release day, from: "2027-05-10T00:00:00Z", to: "2027-05-11T00:00:00Z"}
"""


def runbook(marks: Path) -> str:
    return f"""\
runbook: 1
id: MNT-2027-0501
title: Daily health and cleanup
owner: sre-team
type: zero-downtime
systems: [web]
recurrence: {{rrule: "FREQ=DAILY", start: "03:00", tz: UTC, run: auto, on_conflict: skip}}
window: {{duration: 1h}}
approvals: [{{role: team-lead, by: dana}}]
targets: {{hosts: web1}}
notify: [outbox]
steps:
  - name: Mark the day on the host
    shell: "echo {{{{ maintbook_run_id }}}} >> {marks}/{{{{ inventory_hostname }}}}.days"
"""


def tick(env: Env, project: Path, moment: datetime) -> str:
    done = subprocess.run([str(MAINTBOOK), "tick", "-i", str(env.inventory), "--now",
                           moment.strftime("%Y-%m-%dT%H:%M:%SZ")], cwd=project,
                          capture_output=True, text=True, check=False, timeout=600,
                          env={**os.environ, "NO_COLOR": "1"})
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_fifteen_days_of_tick_run_each_day_once_skip_the_blackout_and_miss_a_lost_tick(
        env: Env) -> None:
    project = env.root / "project-daily-auto"
    marks = env.root / "daily-marks"
    (project / "runbooks").mkdir(parents=True)
    marks.mkdir()
    (project / "maintbook.yml").write_text(CONFIG)
    (project / "runbooks" / "daily.yml").write_text(runbook(marks))
    lost = DAY0 + timedelta(days=9)  # nobody ticked that day
    tick(env, project, DAY0)  # announces the series
    for day in range(1, 16):
        moment = DAY0 + timedelta(days=day)
        if moment != lost:
            tick(env, project, moment + timedelta(hours=3, minutes=10))
        tick(env, project, moment + timedelta(hours=15))
    days = sorted({line.split("@")[1][:8] for line in
                   (marks / "web1.days").read_text().split()})
    expected = [(DAY0 + timedelta(days=d)).strftime("%Y%m%d") for d in range(1, 16)]
    expected.remove("20270510")  # the blackout day is skipped
    expected.remove(lost.strftime("%Y%m%d"))  # the lost tick's day is missed, not run late
    assert days == expected
    runs = (marks / "web1.days").read_text().split()
    assert len(runs) == len(expected), "exactly one run per day"
    outbox = [json.loads(line) for line in
              (project / ".maintbook/outbox/MNT-2027-0501.jsonl").read_text().splitlines()]
    assert [n["notice"] for n in outbox] == ["announce"]  # the series, once
    missed = [json.loads(line) for line in (
        project / f".maintbook/outbox/MNT-2027-0501@{lost:%Y%m%d}T0300Z.jsonl"
    ).read_text().splitlines()]
    assert [n["notice"] for n in missed] == ["missed"]
    skipped = project / ".maintbook/outbox/MNT-2027-0501@20270510T0300Z.jsonl"
    assert [json.loads(line)["notice"] for line in skipped.read_text().splitlines()] == [
        "cancelled"]
