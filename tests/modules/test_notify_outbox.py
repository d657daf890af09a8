"""maintenance_notify, channel outbox: run for real through ansible-playbook."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from conftest import RunPlay

HOSTILE = "Monthly PostgreSQL {{ lookup('pipe', 'touch MARKER') }} <b>maintenance</b>"


def runbook(title: str = "Monthly PostgreSQL maintenance") -> dict[str, Any]:
    return {
        "id": "MNT-2026-0042",
        "title": title,
        "type": "planned-outage",
        "owner": "sre-team",
        "description": "VACUUM FULL on bloated tables.",
        "systems": ["database", "api"],
        "window_start": "2026-12-06T02:00:00Z",
        "window_end": "2026-12-06T04:00:00Z",
    }


def notify(tmp_path: Path, notice: str, **extra: Any) -> dict[str, Any]:
    base = {
        "notice": notice,
        "channel": "outbox",
        "channel_config": {"type": "outbox", "path": str(tmp_path / "outbox")},
        "runbook": runbook(),
        "run_id": "run-1",
        "state_db": str(tmp_path / "state.db"),
        "retry_delay": 0,
    }
    base.update(extra)
    return base


def outbox(tmp_path: Path) -> list[dict[str, Any]]:
    lines = (tmp_path / "outbox" / "MNT-2026-0042.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


def ledger(tmp_path: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(tmp_path / "state.db") as db:
        return db.execute(
            "SELECT runbook, run_id, notice, channel, status, attempts FROM notices ORDER BY rowid"
        ).fetchall()


def test_outbox_lines_and_ledger(run_play: RunPlay, tmp_path: Path) -> None:
    results = run_play(
        [
            ("maintenance_notify", notify(tmp_path, "start")),
            ("maintenance_notify", notify(tmp_path, "progress", message="step 3 of 7: Vacuum")),
            ("maintenance_notify", notify(tmp_path, "complete", outcome="succeeded")),
        ]
    )
    assert [(r["changed"], r["delivered"], r["attempts"]) for r in results] == [(True, True, 1)] * 3
    lines = outbox(tmp_path)
    assert [set(line) for line in lines] == [
        {"notice", "runbook", "channel", "subject", "body", "sent_at"}
    ] * 3
    assert [line["notice"] for line in lines] == ["start", "progress", "complete"]
    assert {line["runbook"] for line in lines} == {"MNT-2026-0042"}
    assert lines[0]["subject"] == "[Maintenance started] Monthly PostgreSQL maintenance"
    assert lines[0]["subject"] == results[0]["subject"]
    assert "step 3 of 7: Vacuum" in lines[1]["body"]
    assert "Affected systems: database, api" in lines[0]["body"]
    assert lines[2]["subject"] == "[Maintenance completed] Monthly PostgreSQL maintenance"
    assert ledger(tmp_path) == [
        ("MNT-2026-0042", "run-1", n, "outbox", "sent", 1)
        for n in ("start", "progress", "complete")
    ]


def test_notice_is_sent_once_per_run(run_play: RunPlay, tmp_path: Path) -> None:
    first = run_play(
        [
            ("maintenance_notify", notify(tmp_path, "start")),
            ("maintenance_notify", notify(tmp_path, "start")),
        ]
    )
    later = run_play(
        [
            ("maintenance_notify", notify(tmp_path, "start")),
            ("maintenance_notify", notify(tmp_path, "start", run_id="run-2")),
        ]
    )
    assert [r["changed"] for r in first + later] == [True, False, False, True]
    assert first[1]["skipped_reason"] == "already sent"
    assert first[1]["attempts"] == 0
    assert len(outbox(tmp_path)) == 2


def test_progress_min_interval_and_sequence(run_play: RunPlay, tmp_path: Path) -> None:
    results = run_play(
        [
            ("maintenance_notify", notify(tmp_path, "progress", message="step 1 of 3")),
            (
                "maintenance_notify",
                notify(tmp_path, "progress", message="step 2 of 3", min_interval=3600),
            ),
            ("maintenance_notify", notify(tmp_path, "progress", message="step 2 of 3")),
            ("maintenance_notify", notify(tmp_path, "progress", message="step 2 of 3")),
        ]
    )
    assert [r["changed"] for r in results] == [True, False, True, False]
    assert [r["skipped_reason"] for r in results] == [None, "min_interval", None, "already sent"]
    assert [line["body"].count("step ") for line in outbox(tmp_path)] == [1, 1]


def test_check_mode_sends_and_records_nothing(run_play: RunPlay, tmp_path: Path) -> None:
    (result,) = run_play([("maintenance_notify", notify(tmp_path, "announce"))], check=True)
    assert result["changed"] is True
    assert result["delivered"] is False
    assert result["subject"].startswith("[Scheduled maintenance] Monthly PostgreSQL")
    assert not (tmp_path / "outbox").exists()
    assert not (tmp_path / "state.db").exists()


def test_hostile_title_is_literal(run_play: RunPlay, tmp_path: Path, unique_marker: Path) -> None:
    title = HOSTILE.replace("MARKER", str(unique_marker))
    (result,) = run_play(
        [("maintenance_notify", notify(tmp_path, "start", runbook=runbook(title)))]
    )
    assert result["changed"] is True
    (line,) = outbox(tmp_path)
    assert line["subject"] == f"[Maintenance started] {title}"
    assert f"Maintenance: {title} (MNT-2026-0042)" in line["body"]


def test_project_template_override(run_play: RunPlay, tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "start.subject.j2").write_text(
        "Heads up: {{ runbook.title }} ({{ runbook.id }})\n"
    )
    (result,) = run_play(
        [("maintenance_notify", notify(tmp_path, "start", templates_dir=str(templates)))]
    )
    assert result["subject"] == "Heads up: Monthly PostgreSQL maintenance (MNT-2026-0042)"
    assert "Maintenance has started" in outbox(tmp_path)[0]["body"]


def test_unwritable_outbox_not_required_is_ok_and_recorded(
    run_play: RunPlay, tmp_path: Path
) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where the folder should be")
    config = {"type": "outbox", "path": str(blocker / "outbox")}
    results = run_play(
        [
            ("maintenance_notify", notify(tmp_path, "start", channel_config=config, retries=1)),
            (
                "maintenance_notify",
                notify(tmp_path, "complete", required=True, channel_config=config, retries=0),
            ),
        ]
    )
    assert results[0].get("failed", False) is False
    assert results[0]["delivered"] is False
    assert results[0]["attempts"] == 2
    assert results[0]["ledger"]["status"] == "failed"
    assert any("not delivered" in w for w in results[0]["warnings"])
    assert results[1]["failed"] is True
    assert "notice complete to channel outbox not delivered" in results[1]["msg"]
    assert [row[4] for row in ledger(tmp_path)] == ["failed", "failed"]


def test_check_mode_reads_the_existing_ledger(run_play: RunPlay, tmp_path: Path) -> None:
    run_play([("maintenance_notify", notify(tmp_path, "start"))])
    before = (tmp_path / "state.db").read_bytes()
    again, other = run_play(
        [
            ("maintenance_notify", notify(tmp_path, "start")),
            ("maintenance_notify", notify(tmp_path, "complete")),
        ],
        check=True,
    )
    assert (again["changed"], again["skipped_reason"]) == (False, "already sent")
    assert (other["changed"], other["delivered"]) == (True, False)
    assert len(outbox(tmp_path)) == 1
    assert (tmp_path / "state.db").read_bytes() == before
