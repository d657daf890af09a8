"""The whole lifecycle through ansible-runner against this machine (Ansible is not mocked)."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.run.conftest import Project, iso

pytestmark = pytest.mark.integration


def statuses(project: Project) -> list[str]:
    (maintenance,) = project.status()["maintenances"]
    return [update["status"] for update in maintenance["updates"]]


def reservation(project: Project) -> list[str]:
    with sqlite3.connect(project.root / ".maintbook/state.db") as db:
        return [row[0] for row in db.execute("SELECT status FROM reservations")]


def test_success_moves_the_page_sends_notices_and_records_every_step(project, maintbook):
    path = project.runbook(
        precheck=[{"name": "The mark folder exists", "command": f"test -d {project.marks}"}],
        steps=[
            {"name": "Touch the first mark", "command": f"touch {project.marks}/first"},
            {"name": "Write the order", "command": project.mark("step")},
        ],
        verify=[
            {"name": "The first mark exists", "command": f"test -f {project.marks}/first"},
            {
                "name": "Maintenance mode is on",
                "command": "test -f {{ maintenance_mode_flag_path }}",
            },
        ],
        maintenance_mode=True,
    )
    result = maintbook("run", str(path))
    assert result.exit_code == 0, result.output
    assert not (project.root / ".maintbook/maintenance.flag").exists()
    assert statuses(project) == ["scheduled", "in_progress", "verifying", "completed"]
    (maintenance,) = project.status()["maintenances"]
    assert maintenance["id"] == "MNT-2026-0101"
    assert maintenance["components"] == {"web": "operational"}
    assert [n["notice"] for n in project.outbox()] == ["start", "complete"]
    (record,) = project.records()
    assert record["outcome"] == "succeeded"
    assert [(s["phase"], s["name"], s["host"], s["result"]) for s in record["steps"]] == [
        ("precheck", "The mark folder exists", "localhost", "ok"),
        ("steps", "Touch the first mark", "localhost", "changed"),
        ("steps", "Write the order", "localhost", "changed"),
        ("verify", "The first mark exists", "localhost", "ok"),
        ("verify", "Maintenance mode is on", "localhost", "ok"),
    ]
    assert reservation(project) == ["released"]
    folder = project.run_folder()
    families = {
        f.name: f for f in text_string_to_metric_families((folder / "metrics.prom").read_text())
    }
    assert set(families) >= {
        "maintbook_run_duration_seconds",
        "maintbook_run_success",
        "maintbook_run_last_timestamp_seconds",
    }
    (sample,) = families["maintbook_run_success"].samples
    assert sample.value == 1 and sample.labels == {
        "runbook": "MNT-2026-0101",
        "type": "zero-downtime",
    }
    assert "## Issues encountered" in (folder / "report.md").read_text()
    assert (folder / "playbook.yml").is_file() and (folder / "artifacts").is_dir()


def test_a_failed_step_runs_its_rollback_then_the_runbooks_and_still_closes(project, maintbook):
    path = project.runbook(
        steps=[
            {"name": "Write the first mark", "command": project.mark("step1")},
            {
                "name": "Fail on purpose",
                "command": "false",
                "rollback": [{"name": "Undo the failed step", "command": project.mark("own")}],
            },
            {"name": "Never reached", "command": project.mark("never")},
        ],
        rollback=[{"name": "Restore everything", "command": project.mark("runbook")}],
    )
    result = maintbook("run", str(path))
    assert result.exit_code == 1, result.output
    assert project.order() == ["step1", "own", "runbook"]
    (record,) = project.records()
    assert record["outcome"] == "rolled_back"
    assert [n["notice"] for n in project.outbox()] == ["start", "rollback", "complete"]
    assert statuses(project)[-1] == "completed"
    assert reservation(project) == ["released"]
    results = {(s["phase"], s["name"]): s["result"] for s in record["steps"]}
    assert results[("steps", "Fail on purpose")] == "failed"
    assert results[("steps", "Write the first mark")] == "rolled_back"
    assert results[("rollback", "Undo the failed step")] == "changed"
    assert ("steps", "Never reached") not in results


def test_a_failed_rollback_exits_3_and_still_closes(project, maintbook):
    path = project.runbook(
        steps=[{"name": "Fail on purpose", "command": "false"}],
        rollback=[
            {"name": "Rollback that fails", "command": "false"},
            {"name": "Never reached", "command": project.mark("never")},
        ],
    )
    result = maintbook("run", str(path))
    assert result.exit_code == 3, result.output
    (record,) = project.records()
    assert record["outcome"] == "rollback_failed"
    assert project.order() == []
    assert statuses(project)[-1] == "completed"
    assert [n["notice"] for n in project.outbox()] == ["start", "rollback", "complete"]
    assert reservation(project) == ["released"]


def test_a_failed_precheck_runs_no_step_cancels_the_page_and_releases(project, maintbook):
    path = project.runbook(
        precheck=[{"name": "Impossible precondition", "command": "test -f /nonexistent/file"}],
        steps=[{"name": "Must not run", "command": project.mark("step")}],
    )
    result = maintbook("run", str(path))
    assert result.exit_code == 1, result.output
    assert project.order() == []
    assert statuses(project) == ["scheduled", "cancelled"]
    assert reservation(project) == ["released"]
    (record,) = project.records()
    assert [(s["phase"], s["result"]) for s in record["steps"]] == [
        ("precheck", "failed"),
        ("steps", "skipped"),
    ]


def refused(project: Project, result) -> dict:
    assert result.exit_code == 2, result.output
    assert not (project.root / ".maintbook/status/status.json").exists()
    assert project.outbox() == []
    assert project.order() == []
    (record,) = project.records()
    assert record["outcome"] == "refused"
    return record


def test_refused_outside_the_window(project, maintbook):
    start = datetime.now(UTC) + timedelta(hours=3)
    path = project.runbook(
        window={"start": iso(start), "duration": "1h"},
        steps=[{"name": "Must not run", "command": project.mark("x")}],
    )
    record = refused(project, maintbook("run", str(path)))
    assert "outside the run window" in " ".join(record["refused_because"])


def test_refused_without_the_required_approval(project, maintbook):
    path = project.runbook(
        approvals=[], steps=[{"name": "Must not run", "command": project.mark("x")}]
    )
    record = refused(project, maintbook("run", str(path)))
    assert "team-lead" in " ".join(record["refused_because"])


def test_an_approval_by_the_owner_does_not_count(project, maintbook):
    path = project.runbook(
        approvals=[{"role": "team-lead", "by": "sre-team"}],
        steps=[{"name": "Must not run", "command": project.mark("x")}],
    )
    record = refused(project, maintbook("run", str(path)))
    assert "owner" in " ".join(record["refused_because"])


def test_refused_while_another_live_run_holds_a_shared_system(project, maintbook):
    from maintbook import state
    from maintbook.policy import Reservation

    now = datetime.now(UTC)
    held = Reservation(
        "MNT-2026-0999", ("web",), ("db1",), now - timedelta(minutes=10), now + timedelta(hours=1)
    )
    state.reserve(project.root / ".maintbook/state.db", held, "other-run", now, None, None)
    path = project.runbook(steps=[{"name": "Must not run", "command": project.mark("x")}])
    record = refused(project, maintbook("run", str(path)))
    assert "MNT-2026-0999" in " ".join(record["refused_because"])


def test_check_mode_changes_nothing(project, maintbook):
    path = project.runbook(steps=[{"name": "Would write", "command": project.mark("x")}])
    result = maintbook("run", str(path), "--check")
    assert result.exit_code == 0, result.output
    assert project.order() == []
    assert project.outbox() == []
    assert not (project.root / ".maintbook/status/status.json").exists()
    (record,) = project.records()
    assert record["check_mode"] is True


def test_running_twice_keeps_one_maintenance_and_one_notice_per_run(project, maintbook):
    path = project.runbook()
    assert maintbook("run", str(path)).exit_code == 0
    assert maintbook("run", str(path)).exit_code == 0
    assert len(project.status()["maintenances"]) == 1
    starts = [n for n in project.outbox() if n["notice"] == "start"]
    assert len(starts) == 2
    assert len(project.records()) == 2


def test_a_templated_title_stays_literal_and_never_runs(project, maintbook, tmp_path):
    canary = tmp_path / "canary"
    title = f"Upgrade {{{{ lookup('pipe', 'touch {canary}') }}}} now"
    path = project.runbook(
        title=title,
        description=title,
        steps=[{"name": f"Step {{{{ lookup('pipe', 'touch {canary}') }}}}", "command": "true"}],
    )
    result = maintbook("run", str(path))
    assert result.exit_code == 0, result.output
    assert not canary.exists()
    (maintenance,) = project.status()["maintenances"]
    assert maintenance["name"] == title
    assert all(title in n["subject"] + n["body"] for n in project.outbox())
    (record,) = project.records()
    assert record["steps"][0]["name"] == f"Step {{{{ lookup('pipe', 'touch {canary}') }}}}"


def test_forced_run_with_extra_vars_reports_json_events_and_records_who(project, maintbook):
    start = datetime.now(UTC) + timedelta(days=2)
    path = project.runbook(
        window={"start": iso(start), "duration": "1h"},
        steps=[
            {"name": "Use an extra variable", "command": "touch {{ marker }}"},
            {"name": "Write the order", "command": project.mark("step")},
        ],
    )
    marker = project.marks / "from-extra-vars"
    result = maintbook(
        "run",
        str(path),
        "--force-window",
        "--reason",
        "hotfix for INC-7",
        "-e",
        f"marker={marker}",
        "--format",
        "json",
    )
    assert result.exit_code == 0, result.output
    assert marker.exists()
    events = [json.loads(line) for line in result.output.splitlines()]
    starts = [e for e in events if e["event"] == "task_start" and e["phase"] == "steps"]
    assert [(e["k"], e["n"], e["percent"]) for e in starts] == [(1, 2, 50.0), (2, 2, 100.0)]
    assert events[-1] == {"event": "run_end", "outcome": "succeeded"}
    (record,) = project.records()
    assert record["forced"]["reason"] == "hotfix for INC-7"
    assert record["forced"]["by"]


def test_force_window_needs_a_reason(project, maintbook):
    result = maintbook("run", str(project.runbook()), "--force-window")
    assert result.exit_code == 2
    assert "--force-window needs --reason" in result.output


def test_an_emergency_runs_through_a_blackout_and_the_record_says_so(project, maintbook):
    now = datetime.now(UTC)
    (project.root / "maintbook.yml").write_text(
        "policy:\n  blackouts:\n"
        f"    - {{name: incident freeze, from: {iso(now - timedelta(hours=1))}, "
        f"to: {iso(now + timedelta(hours=1))}}}\n"
    )
    planned = project.runbook("planned", steps=[{"name": "Must not run", "command": "false"}])
    record = refused(project, maintbook("run", str(planned)))
    assert "incident freeze" in " ".join(record["refused_because"])
    emergency_id = "EMT-" + now.strftime("%Y%m%d%H%M")
    path = project.runbook(
        "emergency",
        id=emergency_id,
        type="emergency",
        approvals=[{"role": "vp-engineering", "by": "bob"}],
        steps=[{"name": "Patch", "command": project.mark("patched")}],
    )
    result = maintbook("run", str(path))
    assert result.exit_code == 0, result.output
    assert project.order() == ["patched"]
    (record,) = project.records(emergency_id)
    assert record["outcome"] == "succeeded"
    assert len(record["overridden_blackouts"]) == 1
    assert record["overridden_blackouts"][0].startswith("incident freeze (")
    assert (
        "Ran through blackout incident freeze"
        in (project.run_folder(emergency_id) / "report.md").read_text()
    )
    assert [n["notice"] for n in project.outbox(emergency_id)] == ["emergency", "complete"]


def test_report_prints_the_review_of_a_recorded_run(project, maintbook):
    assert maintbook("run", str(project.runbook())).exit_code == 0
    (record,) = project.records()
    review = maintbook("report", record["run_id"])
    assert review.exit_code == 0, review.output
    assert review.output.startswith("# Post-maintenance review: MNT-2026-0101\n")
    assert "- Outcome: **succeeded**" in review.output
    assert "| steps | Touch the first mark | localhost | changed |" in review.output
    as_json = maintbook("report", record["run_id"], "--format", "json")
    assert json.loads(as_json.output)["run_id"] == record["run_id"]
    missing = maintbook("report", "MNT-2026-0101-20000101T000000Z")
    assert missing.exit_code == 2
    assert "no recorded run" in missing.output


def test_refused_while_another_live_run_holds_a_target_host(project, maintbook):
    from maintbook import state
    from maintbook.policy import Reservation

    now = datetime.now(UTC)
    held = Reservation(
        "MNT-2026-0998",
        ("database",),
        ("localhost",),
        now - timedelta(minutes=10),
        now + timedelta(hours=1),
    )
    state.reserve(project.root / ".maintbook/state.db", held, "other-run", now, None, None)
    # The runbook names the group `web`; the inventory resolves it to localhost.
    path = project.runbook(steps=[{"name": "Must not run", "command": project.mark("x")}])
    record = refused(project, maintbook("run", str(path)))
    assert "MNT-2026-0998 holds a reservation on host localhost" in " ".join(
        record["refused_because"]
    )


def test_refused_when_the_targets_match_no_host(project, maintbook):
    path = project.runbook(targets={"hosts": "no_such_group"})
    record = refused(project, maintbook("run", str(path)))
    assert record["refused_because"] == [
        "targets.hosts no_such_group matches no host of this inventory"
    ]
