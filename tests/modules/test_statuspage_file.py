"""The `file` status page (SPEC §9, §10, §13): one `transition()` moves an entry, every outcome
closes it truthfully, and concurrent writers lose nothing."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta
from typing import Any

import pytest
from icalendar import Calendar

from maintbook import statuspage
from maintbook.context import Context
from maintbook.runtime.closing import Ending, close_page
from maintbook.statuspage.model import BODY, PageError
from tests.modules.conftest import END, NOW, REPO, RUNBOOK_ID, START, ModProject, wait_for_files

COMPONENTS = ("api", "database")


def publish(ctx: Context, status: str, minutes: int = 0, **extra: Any) -> bool:
    change = statuspage.change_for(ctx, status, **extra)
    changed, _ = statuspage.publish(ctx, change, now=NOW + timedelta(minutes=minutes))
    return changed


def entry(proj: ModProject, entry_id: str = RUNBOOK_ID) -> dict[str, Any]:
    (found,) = [m for m in proj.status()["maintenances"] if m["id"] == entry_id]
    return found


def timeline(proj: ModProject) -> list[str]:
    return [u["status"] for u in entry(proj)["updates"]]


def components(proj: ModProject) -> set[str]:
    found = entry(proj)["components"]
    assert sorted(found) == list(COMPONENTS)
    return set(found.values())


def close(ctx: Context, outcome: str, **ending: Any) -> None:
    close_page(ctx, Ending(outcome, {"db-primary-7.internal": "x"}, **ending),
               NOW + timedelta(minutes=50))


def test_scheduled_in_progress_verifying_completed(proj: ModProject) -> None:
    ctx = proj.context()
    assert publish(ctx, "scheduled") is True
    assert components(proj) == {"operational"}
    assert publish(ctx, "in_progress", 5) is True
    assert components(proj) == {"under_maintenance"}
    assert publish(ctx, "verifying", 40) is True
    assert components(proj) == {"under_maintenance"}
    close(ctx, "succeeded")
    found = entry(proj)
    assert {k: found[k] for k in ("id", "name", "status", "scheduled_for", "scheduled_until",
                                  "kind")} == {
        "id": RUNBOOK_ID, "name": "Monthly PostgreSQL maintenance", "status": "completed",
        "scheduled_for": START, "scheduled_until": END, "kind": "maintenance"}
    assert found["updates"] == [
        {"status": "scheduled", "body": BODY["scheduled"], "at": "2026-12-06T02:05:00Z"},
        {"status": "in_progress", "body": BODY["in_progress"], "at": "2026-12-06T02:10:00Z"},
        {"status": "verifying", "body": BODY["verifying"], "at": "2026-12-06T02:45:00Z"},
        {"status": "completed", "body": BODY["completed"], "at": "2026-12-06T02:55:00Z"},
    ]
    assert components(proj) == {"operational"}
    assert found["impact"] == {"summary": ctx.facts.impact_summary,
                               "expect": ctx.facts.impact_expect}


@pytest.mark.parametrize(("outcome", "status", "component", "body"), [
    ("no_go", "cancelled", "operational", BODY["no_go"]),
    ("rolled_back", "ended_early", "operational", BODY["ended_early"]),
    ("interrupted", "ended_early", "operational", BODY["interrupted"] + " The changes were "
     "undone."),
    ("failed", "not_completed", "degraded_performance", BODY["not_completed"]),
    ("rollback_failed", "not_completed", "degraded_performance", BODY["not_completed"]),
])
def test_every_outcome_closes_the_entry_truthfully(
    proj: ModProject, outcome: str, status: str, component: str, body: str
) -> None:
    ctx = proj.context()
    publish(ctx, "scheduled")
    publish(ctx, "in_progress", 5)
    close(ctx, outcome)
    assert timeline(proj) == ["scheduled", "in_progress", status]
    assert entry(proj)["updates"][-1]["body"] == body
    assert components(proj) == {component}


def test_an_interrupted_run_that_left_hosts_drained_is_not_completed(proj: ModProject) -> None:
    ctx = proj.context()
    publish(ctx, "in_progress")
    close(ctx, "interrupted", drained=("db-primary-7.internal",))
    assert timeline(proj) == ["in_progress", "not_completed"]
    assert components(proj) == {"degraded_performance"}


def test_a_window_without_a_run_is_missed_and_stays_missed(proj: ModProject) -> None:
    ctx = proj.context()
    publish(ctx, "scheduled")
    assert publish(ctx, "missed", 200) is True
    assert timeline(proj) == ["scheduled", "missed"]
    assert entry(proj)["updates"][-1]["body"] == "This maintenance did not take place."
    with pytest.raises(PageError, match="is missed on the page; it cannot become in_progress"):
        publish(ctx, "in_progress", 210)
    assert timeline(proj) == ["scheduled", "missed"]


def test_a_closed_entry_opens_again_when_the_maintenance_runs_again(proj: ModProject) -> None:
    ctx = proj.context()
    publish(ctx, "in_progress")
    close(ctx, "rolled_back")
    assert publish(ctx, "in_progress", 60) is True
    publish(ctx, "verifying", 80)
    close(ctx, "succeeded")
    assert timeline(proj) == ["in_progress", "ended_early", "in_progress", "verifying",
                              "completed"]
    assert len(proj.status()["maintenances"]) == 1


def test_the_same_state_twice_changes_nothing(proj: ModProject) -> None:
    ctx = proj.context()
    publish(ctx, "scheduled")
    publish(ctx, "in_progress", 5)
    files = {p.name: p.read_bytes() for p in (proj.root / "status").iterdir()}
    assert publish(ctx, "in_progress", 30) is False
    assert {p.name: p.read_bytes() for p in (proj.root / "status").iterdir()} == files


def test_a_moved_window_is_one_more_update_of_the_same_entry(proj: ModProject) -> None:
    ctx = proj.context()
    publish(ctx, "scheduled")
    moved = ("2026-12-13T02:00:00Z", "2026-12-13T04:00:00Z")
    assert publish(ctx, "scheduled", 10, body=BODY["rescheduled"], window=moved) is True
    found = entry(proj)
    assert (found["scheduled_for"], found["scheduled_until"]) == moved
    assert [u["body"] for u in found["updates"]] == [BODY["scheduled"], BODY["rescheduled"]]


def test_an_extension_is_one_more_update_of_the_active_entry(proj: ModProject) -> None:
    ctx = proj.context()
    publish(ctx, "in_progress")
    extended = (START, "2026-12-06T05:00:00Z")
    assert publish(ctx, "in_progress", 90, body=BODY["extended"], window=extended) is True
    assert publish(ctx, "in_progress", 91, body=BODY["extended"], window=extended) is False
    found = entry(proj)
    assert found["scheduled_until"] == "2026-12-06T05:00:00Z"
    assert [(u["status"], u["body"]) for u in found["updates"]] == [
        ("in_progress", BODY["in_progress"]), ("in_progress", BODY["extended"])]


def test_check_mode_reports_the_change_and_writes_nothing(proj: ModProject) -> None:
    ctx = proj.context()
    changed, record = statuspage.publish(ctx, statuspage.change_for(ctx, "scheduled"),
                                         now=NOW, check=True)
    assert (changed, record["status"]) == (True, "scheduled")
    assert not (proj.root / "status" / "status.json").exists()


def test_the_site_and_the_calendar_follow_the_entries(proj: ModProject) -> None:
    ctx = proj.context(title="Monthly <script>alert(1)</script> & VACUUM")
    publish(ctx, "scheduled")
    close(ctx, "no_go")
    html = (proj.root / "status" / "index.html").read_text()
    assert "Monthly &lt;script&gt;alert(1)&lt;/script&gt; &amp; VACUUM" in html
    assert "<script>" not in html
    calendar = Calendar.from_ical((proj.root / "status" / "maintenance.ics").read_bytes())
    (event,) = calendar.walk("VEVENT")
    assert str(event["uid"]) == f"{RUNBOOK_ID}@maintbook"
    assert str(event["status"]) == "CANCELLED"
    assert event.decoded("dtstart").isoformat() == "2026-12-06T02:00:00+00:00"


def test_two_writers_at_once_lose_no_entry(proj: ModProject) -> None:
    """Two processes publish 25 entries each into one page at the same moment."""
    proj.write()
    count = 25
    twins = [subprocess.Popen([sys.executable, "-m", "tests.modules.page_race",
                               str(proj.root), name, str(count)], cwd=REPO,
                              stderr=subprocess.PIPE) for name in ("a", "b")]
    try:
        wait_for_files([proj.root / "ready-a", proj.root / "ready-b"], twins)
        (proj.root / "go").touch()
        codes = [twin.wait(timeout=300) for twin in twins]
    finally:
        for twin in twins:
            if twin.poll() is None:
                twin.kill()
                twin.wait()
    assert codes == [0, 0], [twin.stderr.read() for twin in twins if twin.stderr]
    ids = {m["id"] for m in json.loads((proj.root / "status/status.json").read_text())[
        "maintenances"]}
    assert ids == {f"{name}-{i}" for name in "ab" for i in range(count)}
    calendar = Calendar.from_ical((proj.root / "status" / "maintenance.ics").read_bytes())
    assert len(calendar.walk("VEVENT")) == 2 * count
