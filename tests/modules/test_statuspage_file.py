"""statuspage_maintenance, provider file: run for real through ansible-playbook."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from conftest import RunPlay
from icalendar import Calendar

TITLE = "Monthly <script>alert(1)</script> PostgreSQL {{ lookup('pipe', 'touch MARKER') }}"


def args(path: Path, state: str, title: str = "Monthly PostgreSQL", **extra: Any) -> dict[str, Any]:
    return {
        "runbook_id": "MNT-2026-0042",
        "name": title,
        "state": state,
        "scheduled_for": "2026-12-06T02:00:00Z",
        "scheduled_until": "2026-12-06T04:00:00Z",
        "components": ["api", "database"],
        "path": str(path),
        **extra,
    }


def status(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((path / "status.json").read_text())
    return data


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.chunks: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        self.tags.append(tag)

    def handle_data(self, data: str) -> None:
        self.chunks.append(data)


def test_transitions_scheduled_to_completed(run_play: RunPlay, tmp_path: Path) -> None:
    page = tmp_path / "status"
    states = ["scheduled", "in_progress", "verifying", "completed"]
    results = run_play([("statuspage_maintenance", args(page, s)) for s in states])
    assert [r["changed"] for r in results] == [True, True, True, True]
    assert [r["maintenance"]["components"]["api"] for r in results] == [
        "operational",
        "under_maintenance",
        "under_maintenance",
        "operational",
    ]
    data = status(page)
    assert len(data["maintenances"]) == 1
    record = data["maintenances"][0]
    assert set(record) == {
        "id",
        "name",
        "status",
        "scheduled_for",
        "scheduled_until",
        "components",
        "updates",
    }
    assert record["id"] == "MNT-2026-0042"
    assert record["status"] == "completed"
    assert record["components"] == {"api": "operational", "database": "operational"}
    assert [u["status"] for u in record["updates"]] == states
    assert all(set(u) == {"status", "body", "at"} and u["body"] for u in record["updates"])
    assert record == results[-1]["maintenance"]


def test_rerun_changes_nothing_and_never_duplicates(run_play: RunPlay, tmp_path: Path) -> None:
    page = tmp_path / "status"
    first = run_play(
        [
            ("statuspage_maintenance", args(page, "scheduled")),
            ("statuspage_maintenance", args(page, "in_progress")),
        ]
    )
    before = (page / "status.json").read_text()
    again = run_play(
        [
            ("statuspage_maintenance", args(page, "in_progress")),
            ("statuspage_maintenance", args(page, "in_progress")),
        ]
    )
    assert [r["changed"] for r in first + again] == [True, True, False, False]
    assert (page / "status.json").read_text() == before
    assert len(status(page)["maintenances"]) == 1
    assert len(status(page)["maintenances"][0]["updates"]) == 2


def test_cancelled_and_final_states_are_final(run_play: RunPlay, tmp_path: Path) -> None:
    page = tmp_path / "status"
    results = run_play(
        [
            ("statuspage_maintenance", args(page, "scheduled")),
            ("statuspage_maintenance", args(page, "cancelled", body="Postponed.")),
            ("statuspage_maintenance", args(page, "in_progress")),
        ]
    )
    assert results[1]["changed"] is True
    assert results[1]["maintenance"]["updates"][-1]["body"] == "Postponed."
    assert results[2]["failed"] is True
    assert "already cancelled" in results[2]["msg"]
    record = status(page)["maintenances"][0]
    assert record["status"] == "cancelled"
    cal = Calendar.from_ical((page / "maintenance.ics").read_bytes())
    (event,) = cal.walk("VEVENT")
    assert str(event["STATUS"]) == "CANCELLED"


def test_check_mode_writes_nothing(run_play: RunPlay, tmp_path: Path) -> None:
    page = tmp_path / "status"
    (result,) = run_play([("statuspage_maintenance", args(page, "scheduled"))], check=True)
    assert result["changed"] is True
    assert result["maintenance"]["status"] == "scheduled"
    assert not page.exists()


def test_two_runbooks_share_the_page(run_play: RunPlay, tmp_path: Path) -> None:
    page = tmp_path / "status"
    other = args(page, "scheduled", runbook_id="MNT-2026-0043")
    run_play(
        [("statuspage_maintenance", args(page, "scheduled")), ("statuspage_maintenance", other)]
    )
    assert [m["id"] for m in status(page)["maintenances"]] == ["MNT-2026-0042", "MNT-2026-0043"]
    assert len(Calendar.from_ical((page / "maintenance.ics").read_bytes()).walk("VEVENT")) == 2


def test_hostile_title_is_literal_everywhere(
    run_play: RunPlay, tmp_path: Path, unique_marker: Path
) -> None:
    page = tmp_path / "status"
    title = TITLE.replace("MARKER", str(unique_marker))
    (result,) = run_play([("statuspage_maintenance", args(page, "in_progress", title=title))])
    assert result["changed"] is True
    assert status(page)["maintenances"][0]["name"] == title
    html = (page / "index.html").read_text()
    assert "<script>" not in html
    parser = _Text()
    parser.feed(html)
    assert "script" not in parser.tags
    assert title in "".join(parser.chunks)
    cal = Calendar.from_ical((page / "maintenance.ics").read_bytes())
    (event,) = cal.walk("VEVENT")
    assert str(event["SUMMARY"]) == title
    assert event.decoded("DTSTART").isoformat() == "2026-12-06T02:00:00+00:00"
    assert event.decoded("DTEND").isoformat() == "2026-12-06T04:00:00+00:00"
    assert str(event["UID"]) == "MNT-2026-0042@maintbook"


def test_creating_without_window_fails_clearly(run_play: RunPlay, tmp_path: Path) -> None:
    (result,) = run_play(
        [
            (
                "statuspage_maintenance",
                {"runbook_id": "MNT-2026-0001", "state": "scheduled", "path": str(tmp_path / "s")},
            )
        ]
    )
    assert result["failed"] is True
    assert "scheduled_for and scheduled_until are required" in result["msg"]
