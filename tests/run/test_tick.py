"""`maintbook tick` on a simulated clock: only what the calendar decides (SPEC §10)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from ruamel.yaml import YAML

from tests.run.conftest import Project, iso

pytestmark = pytest.mark.integration
START = datetime(2026, 12, 6, 2, 0, tzinfo=UTC)


def planned(project: Project, title: str = "Database upgrade", start: datetime = START) -> None:
    project.runbook(
        type="planned-outage",
        title=title,
        window={"start": iso(start), "duration": "2h"},
        approvals=[{"role": "vp-engineering", "by": "bob"}],
    )


def tick(maintbook, moment: datetime) -> list[str]:  # noqa: D103
    result = maintbook("tick", "--now", iso(moment))
    assert result.exit_code == 0, result.output
    return result.output.splitlines()


def test_a_maintenance_that_never_runs_is_announced_reminded_then_missed(
        project: Project, maintbook, tmp_path) -> None:
    canary = tmp_path / "canary"
    title = f"Database {{{{ lookup('pipe', 'touch {canary}') }}}} upgrade"
    planned(project, title)
    clock = [
        START - timedelta(days=8),
        START - timedelta(days=7) + timedelta(minutes=1),
        START - timedelta(days=5),
        START - timedelta(days=3) + timedelta(minutes=2),
        START - timedelta(days=3) + timedelta(minutes=7),
        START - timedelta(hours=2),  # no tick ran at -24h: that reminder goes out late, once
        START + timedelta(minutes=1),
        START + timedelta(hours=2, minutes=1),
        START + timedelta(days=1),
    ]
    seen = [tick(maintbook, moment) for moment in clock]
    assert [n["notice"] for n in project.outbox()] == [
        "announce", "reminder", "reminder", "missed"]
    assert seen[0] == [] and seen[2] == [] and seen[4] == [] and seen[6] == [] and seen[-1] == []
    assert seen[1] == ["MNT-2026-0101 announce -> outbox: sent"]
    assert seen[7] == ["MNT-2026-0101 missed -> outbox: sent"]
    assert all(title in n["subject"] for n in project.outbox())
    assert not canary.exists()
    assert project.page_statuses() == ["scheduled", "missed"]
    assert "did not take place" in project.entry()["updates"][-1]["body"]
    assert project.state() == "missed"


def test_the_page_shows_the_maintenance_from_its_announce(project: Project, maintbook) -> None:
    planned(project)
    tick(maintbook, START - timedelta(days=8))
    assert not (project.root / ".maintbook/status/status.json").exists()
    tick(maintbook, START - timedelta(days=6))
    entry = project.entry()
    assert entry["status"] == "scheduled" and entry["scheduled_for"] == iso(START)


def test_a_moved_window_is_rescheduled_once_and_the_page_moves(project: Project,
                                                              maintbook) -> None:
    planned(project)
    tick(maintbook, START - timedelta(days=6))
    later = START + timedelta(days=7)
    planned(project, start=later)
    tick(maintbook, START - timedelta(days=5))
    tick(maintbook, START - timedelta(days=5) + timedelta(minutes=5))
    assert [n["notice"] for n in project.outbox()] == ["announce", "rescheduled"]
    assert iso(later)[:10] in project.outbox()[-1]["body"]
    entry = project.entry()
    assert entry["scheduled_for"] == iso(later) and entry["status"] == "scheduled"


def test_cancel_tells_who_was_told_closes_the_page_and_refuses_a_run(project: Project,
                                                                     maintbook) -> None:
    planned(project)
    tick(maintbook, START - timedelta(days=6))
    result = maintbook("cancel", "runbooks/rb.yml", "--reason", "vendor postponed the release")
    assert result.exit_code == 0, result.output
    assert [n["notice"] for n in project.outbox()] == ["announce", "cancelled"]
    assert "vendor postponed" in project.outbox()[-1]["body"]
    assert project.entry()["status"] == "cancelled"
    assert project.state() == "cancelled"
    again = maintbook("cancel", "runbooks/rb.yml", "--reason", "twice")
    assert again.exit_code == 2
    run = maintbook("run", "runbooks/rb.yml", "--force-window", "--reason", "try anyway")
    assert run.exit_code == 2 and "was cancelled" in run.output
    assert tick(maintbook, START + timedelta(days=1)) == []  # a cancelled one is never missed


def test_tick_never_announces_a_maintenance_that_already_ran(project: Project,
                                                            maintbook) -> None:
    path = project.runbook(type="zero-downtime")
    data = YAML().load(path.read_text())
    assert maintbook("run", str(path)).exit_code == 0
    start = datetime.fromisoformat(str(data["window"]["start"]).replace("Z", "+00:00"))
    for hours in (-30, -20, 1, 5, 30):
        assert tick(maintbook, start + timedelta(hours=hours)) == []
    assert [n["notice"] for n in project.outbox()] == []


def test_two_auto_runbooks_sharing_a_system_run_one_after_the_other(project: Project,
                                                                    maintbook) -> None:
    """Both planned at the same minute: the later id yields (its occurrence moves after the
    first's window, and is announced as rescheduled), so they run in turn, never together."""
    day = datetime(2027, 5, 4, tzinfo=UTC)
    for name, rid in (("first", "MNT-2027-0601"), ("second", "MNT-2027-0602")):
        stamp = f"{project.marks}/{name}"
        project.runbook(
            name, id=rid, systems=["database"], window={"duration": "1h"},
            recurrence={"rrule": "FREQ=DAILY", "start": "03:00", "tz": "UTC", "run": "auto"},
            steps=[{"name": "Work for a while",
                    "shell": f"date +%s.%N > {stamp}.start; sleep 2; date +%s.%N > {stamp}.end"}])
    tick(maintbook, day - timedelta(hours=12))  # the series are announced
    lines = tick(maintbook, day + timedelta(hours=3, minutes=5))
    lines += tick(maintbook, day + timedelta(hours=4, minutes=5))
    assert sum("run ended with exit 0" in line for line in lines) == 2, "\n".join(lines)
    assert any("MNT-2027-0602@20270504T0300Z rescheduled" in line for line in lines) or \
        any("MNT-2027-0602" in n["maintenance"] and n["notice"] == "rescheduled"
            for n in project.outbox(f"MNT-2027-0602@{day:%Y%m%d}T0300Z"))

    def span(name: str) -> tuple[float, float]:
        return (float((project.marks / f"{name}.start").read_text()),
                float((project.marks / f"{name}.end").read_text()))

    first, second = sorted([span("first"), span("second")])
    assert first[1] <= second[0], "the second started only after the first had ended"
    assert not any("run ended" in line for line in tick(
        maintbook, day + timedelta(hours=4, minutes=10)))  # nothing runs twice


def test_one_occurrence_can_be_cancelled(project: Project, maintbook) -> None:
    day = datetime(2027, 5, 4, tzinfo=UTC)
    project.runbook(window={"duration": "1h"},
                    recurrence={"rrule": "FREQ=DAILY", "start": "03:00", "tz": "UTC",
                                "run": "auto"},
                    steps=[{"name": "Work", "command": project.mark("ran")}])
    tick(maintbook, day - timedelta(hours=12))
    result = maintbook("cancel", f"runbooks/rb.yml@{day:%Y%m%d}T0300Z", "--reason", "holiday")
    assert result.exit_code == 0, result.output
    lines = tick(maintbook, day + timedelta(hours=3, minutes=5))
    assert not any("run ended" in line for line in lines) and project.order() == []
    tick(maintbook, day + timedelta(days=1, hours=3, minutes=5))
    assert project.order() == ["ran"]  # the next day's occurrence runs
