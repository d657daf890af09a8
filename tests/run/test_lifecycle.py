"""The lifecycle through ansible-runner against this machine (nothing mocked): outcomes,
pages, notices and records that tell what happened (SPEC §9, §10, §12)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.run.conftest import Project, iso

pytestmark = pytest.mark.integration


def notices(project: Project) -> list[str]:
    return [n["notice"] for n in project.outbox()]


def test_success_opens_verifies_closes_and_records_every_step(project, maintbook):
    path = project.runbook(
        type="brief-interruption",
        approvals=[{"role": "engineering-manager", "by": "dana"}],
        window={"start": iso(datetime.now(UTC) - timedelta(minutes=1)), "duration": "5m"},
        precheck=[{"name": "The mark folder exists", "command": f"test -d {project.marks}"}],
        steps=[{"name": "Touch the first mark", "command": f"touch {project.marks}/first"},
               {"name": "Write the order", "command": project.mark("step")}],
        verify=[{"name": "The first mark exists", "command": f"test -f {project.marks}/first"},
                {"name": "Maintenance mode is on",
                 "command": "test -f {{ maintenance_mode_flag_path }}"}],
        maintenance_mode=True,
    )
    result = maintbook("run", str(path), "--force-window", "--reason", "outside the windows")
    assert result.exit_code == 0, result.output
    assert not (project.root / ".maintbook/maintenance.flag").exists()
    assert project.page_statuses() == ["in_progress", "verifying", "completed"]
    assert project.entry()["components"] == {"web": "operational"}
    assert notices(project) == ["start", "complete"]  # brief-interruption lists both
    (record,) = project.records()
    assert record["outcome"] == "succeeded" and record["hosts"] == {"localhost": "succeeded"}
    assert [(s["phase"], s["name"], s["result"]) for s in record["steps"]] == [
        ("precheck", "The mark folder exists", "ok"),
        ("steps", "Touch the first mark", "changed"),
        ("steps", "Write the order", "changed"),
        ("verify", "The first mark exists", "ok"),
        ("verify", "Maintenance mode is on", "ok"),
    ]
    assert project.state() == "succeeded" and project.live_leases() == []
    assert f"run:         {record['run_id']}" in result.output
    folder = project.run_folder()
    families = {f.name: f for f in text_string_to_metric_families(
        (folder / "metrics.prom").read_text())}
    (sample,) = families["maintbook_run_success"].samples
    assert sample.value == 1 and sample.labels == {"runbook": "MNT-2026-0101",
                                                   "type": "brief-interruption"}
    fixed = (project.root / ".maintbook/metrics.prom").read_text()
    assert fixed.count("maintbook_run_success{") == 1


def test_rollbacks_run_newest_first_each_exactly_once(project, maintbook):
    """Step A (own rollback), B (no rollback, changed) and C failing: C's own rollback,
    then A's own, then the runbook's; D never starts and is never undone."""
    path = project.runbook(
        steps=[
            {"name": "A", "command": project.mark("A"),
             "rollback": [{"name": "Undo A", "command": project.mark("undo-A")}]},
            {"name": "B", "command": project.mark("B")},
            {"name": "C", "shell": project.mark("C") + "; exit 4",
             "rollback": [{"name": "Undo C", "command": project.mark("undo-C")}]},
            {"name": "D", "command": project.mark("D"),
             "rollback": [{"name": "Undo D", "command": project.mark("undo-D")}]},
        ],
        rollback=[{"name": "Restore", "command": project.mark("runbook")}],
    )
    result = maintbook("run", str(path))
    assert result.exit_code == 1, result.output
    assert project.order() == ["A", "B", "C", "undo-C", "undo-A", "runbook"]
    (record,) = project.records()
    assert record["outcome"] == "rolled_back"
    assert record["hosts"] == {"localhost": "rolled_back"}
    assert notices(project) == ["rollback", "complete"]
    assert project.page_statuses()[-1] == "ended_early"
    assert project.state() == "rolled_back"


def test_a_failure_before_any_change_undoes_nothing(project, maintbook):
    path = project.runbook(
        steps=[{"name": "Read only", "command": "false"}],
        rollback=[{"name": "Restore", "command": project.mark("runbook")}],
    )
    result = maintbook("run", str(path))
    (record,) = project.records()
    # A command step counts as a change once it ran: the runbook's rollback is due.
    assert project.order() == ["runbook"] and record["outcome"] == "rolled_back"
    assert result.exit_code == 1


def test_a_precheck_failure_is_a_no_go_cancelled_before_any_change(project, maintbook):
    path = project.runbook(
        precheck=[{"name": "Impossible precondition", "command": "test -f /nonexistent/file"}],
        steps=[{"name": "Must not run", "command": project.mark("step")}],
        rollback=[{"name": "Must not undo", "command": project.mark("undo")}],
        notify=["outbox"],
    )
    result = maintbook("run", str(path))
    assert result.exit_code == 1, result.output
    assert project.order() == []
    (record,) = project.records()
    assert record["outcome"] == "no_go"
    assert project.entry()["status"] == "cancelled"
    assert "cancelled before any change" in project.entry()["updates"][-1]["body"]
    (complete,) = project.outbox()
    assert "cancelled before any change" in (complete["subject"] + complete["body"]).lower()
    assert project.state() == "no_go" and project.live_leases() == []


def test_a_failing_step_with_nothing_to_roll_back_is_failed(project, maintbook):
    path = project.runbook(steps=[{"name": "Fails", "command": "false"}], maintenance_mode=True)
    result = maintbook("run", str(path))
    assert result.exit_code == 1, result.output
    (record,) = project.records()
    assert record["outcome"] == "failed"
    assert record["hosts"] == {"localhost": "drained"} and record["drained"] == ["localhost"]
    assert (project.root / ".maintbook/maintenance.flag").exists()  # left drained
    assert "No rollback ran." in (project.run_folder() / "report.md").read_text()
    entry = project.entry()
    assert entry["status"] == "not_completed"
    assert entry["components"] == {"web": "degraded_performance"}


def test_a_failed_rollback_is_not_completed_and_not_operational(project, maintbook):
    path = project.runbook(
        steps=[{"name": "Fail on purpose", "command": "false"}],
        rollback=[{"name": "Rollback that fails", "command": "false"},
                  {"name": "Never reached", "command": project.mark("never")}],
    )
    result = maintbook("run", str(path))
    assert result.exit_code == 3, result.output
    (record,) = project.records()
    assert record["outcome"] == "rollback_failed"
    assert project.order() == []
    entry = project.entry()
    assert entry["status"] != "completed" and entry["components"] == {"web": "degraded_performance"}


def test_a_recheck_that_fails_after_the_rollback_is_rollback_failed(project, maintbook):
    flag = project.marks / "healthy"
    flag.touch()
    path = project.runbook(
        precheck=[{"name": "Healthy", "command": f"test -f {flag}"}],
        steps=[{"name": "Break it", "command": f"rm {flag}"},
               {"name": "Fail", "command": "false"}],
        rollback=[{"name": "Undo but not enough", "command": project.mark("undo")}],
    )
    result = maintbook("run", str(path))
    assert result.exit_code == 3, result.output
    (record,) = project.records()
    assert record["outcome"] == "rollback_failed"
    assert [s["phase"] for s in record["steps"]][-1] == "recheck"
    assert record["steps"][-1]["result"] == "failed"


def test_a_failure_reason_reaches_record_report_view_and_internal_notice(project, maintbook):
    path = project.runbook(
        type="brief-interruption",
        approvals=[{"role": "engineering-manager", "by": "dana"}],
        steps=[{"name": "Explode", "shell": "echo boom-123 >&2; exit 7"}],
    )
    result = maintbook("run", str(path), "--force-window", "--reason", "test")
    assert result.exit_code == 1
    assert "boom-123" in result.output  # the live view (and the summary)
    (record,) = project.records()
    (step,) = [s for s in record["steps"] if s["name"] == "Explode"]
    assert step["error"]["rc"] == 7 and step["error"]["stderr"] == ["boom-123"]
    assert "boom-123" in (project.run_folder() / "report.md").read_text()
    complete = [n for n in project.outbox() if n["notice"] == "complete"]
    assert complete and "boom-123" in complete[0]["body"]


def test_limit_that_matches_no_target_is_refused(project, maintbook):
    path = project.runbook(targets={"hosts": "localhost"},
                           steps=[{"name": "Must not run", "command": project.mark("x")}])
    result = maintbook("run", str(path), "--limit", "nosuchhost")
    assert result.exit_code == 2, result.output
    (record,) = project.records()
    assert record["outcome"] == "refused" and project.order() == []
    assert "--limit nosuchhost" in " ".join(record["refused_because"])


def test_check_outside_the_window_is_not_refused_and_says_check(project, maintbook):
    start = datetime.now(UTC) + timedelta(days=3)
    path = project.runbook(window={"start": iso(start), "duration": "1h"},
                           steps=[{"name": "Would write", "command": project.mark("x")}])
    result = maintbook("run", str(path), "--check")
    assert result.exit_code == 0, result.output
    assert project.order() == [] and project.outbox() == []
    (record,) = project.records()
    assert record["check"] is True and record["outcome"] == "succeeded"
    assert "nothing was changed" in (project.run_folder() / "report.md").read_text()
    assert project.state() == "draft" and project.live_leases() == []
    metrics = project.root / ".maintbook/metrics.prom"
    assert "MNT-2026-0101" not in metrics.read_text()


def test_a_succeeded_maintenance_does_not_run_again(project, maintbook):
    path = project.runbook()
    assert maintbook("run", str(path)).exit_code == 0
    again = maintbook("run", str(path))
    assert again.exit_code == 2
    assert "already succeeded" in again.output


def test_a_failed_maintenance_runs_again_as_a_retry(project, maintbook):
    flag = project.marks / "fail"
    flag.touch()
    path = project.runbook(
        type="brief-interruption",
        approvals=[{"role": "engineering-manager", "by": "dana"}],
        steps=[{"name": "Fails while the flag is there", "command": f"test ! -f {flag}"}])
    assert maintbook("run", str(path), "--force-window", "--reason", "t").exit_code == 1
    flag.unlink()
    assert maintbook("run", str(path), "--force-window", "--reason", "t").exit_code == 0
    first, second = project.records()
    assert not first["retry"] and second["retry"]
    starts = [n for n in project.outbox() if n["notice"] == "start"]
    assert len(starts) == 2 and "(retry)" in starts[1]["subject"]
    assert len(project.status()["maintenances"]) == 1
    assert project.entry()["status"] == "completed"


def test_literal_text_stays_literal_and_never_runs(project, maintbook, tmp_path):
    canary = tmp_path / "canary"
    title = f"Upgrade {{{{ lookup('pipe', 'touch {canary}') }}}} now"
    path = project.runbook(
        title=title, description=title,
        steps=[{"name": f"Step {{{{ lookup('pipe', 'touch {canary}') }}}}", "command": "true"}])
    result = maintbook("run", str(path), "--force-window", "--reason",
                       f"{{{{ lookup('pipe', 'touch {canary}') }}}}")
    assert result.exit_code == 0, result.output
    assert not canary.exists()
    assert project.entry()["name"] == title
    (record,) = project.records()
    assert record["steps"][0]["name"] == f"Step {{{{ lookup('pipe', 'touch {canary}') }}}}"
    assert record["forced"]["reason"] == f"{{{{ lookup('pipe', 'touch {canary}') }}}}"


def test_json_events_carry_time_and_a_percentage_that_never_goes_back(project, maintbook):
    path = project.runbook(
        precheck=[{"name": "Pre", "command": "true"}],
        steps=[{"name": "One", "command": "true"}, {"name": "Two", "command": "false"}],
        rollback=[{"name": "Undo", "command": "true"}])
    result = maintbook("run", str(path), "--format", "json")
    assert result.exit_code == 1
    events = [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]
    assert all(datetime.fromisoformat(e["at"].replace("Z", "+00:00")) for e in events)
    percents = [e["percent"] for e in events if "percent" in e]
    assert percents == sorted(percents) and percents[-1] > 0
    assert events[-1]["event"] == "run_end" and events[-1]["outcome"] == "rolled_back"
    failed = [e for e in events if e.get("result") == "failed"]
    assert failed and failed[0]["step"] == "Two" and failed[0]["error"]["rc"] == 1


def test_force_window_needs_a_reason(project, maintbook):
    result = maintbook("run", str(project.runbook()), "--force-window")
    assert result.exit_code == 2
    assert "--force-window needs --reason" in result.output
