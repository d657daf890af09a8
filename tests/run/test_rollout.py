"""Safe execution (SPEC §12) on stand-in hosts that are all this machine (connection local):
tiers, batches, max_fail_percentage, --limit, the deadline and `extend`, the soak. Order and
records are real Ansible behaviour; real effects on real services are in tests/runbooks."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.run.conftest import Project, iso

pytestmark = pytest.mark.integration
MAINTBOOK = str(Path(sys.executable).parent / "maintbook")
LOCAL = ('          ansible_connection: local\n'
         '          ansible_python_interpreter: "{{ ansible_playbook_python }}"\n')


def inventory(project: Project, groups: dict[str, tuple[str, ...]]) -> Path:
    path = project.root / "inventory" / "hosts.yml"
    text = "all:\n  children:\n"
    for group, hosts in groups.items():
        text += f"    {group}:\n      hosts:\n" + "".join(f"        {h}:\n{LOCAL}" for h in hosts)
    path.write_text(text)
    return path


def rollout(project: Project, serial: int, max_fail: int) -> Path:
    return project.runbook(
        targets={"hosts": "web", "serial": serial, "max_fail_percentage": max_fail},
        steps=[
            {"name": "Record the host", "command": project.mark("{{ inventory_hostname }}")},
            {"name": "Fail on h1",
             "command": "{{ 'false' if inventory_hostname == 'h1' else 'true' }}"},
        ],
        rollback=[{"name": "Undo on the host",
                   "command": project.mark("undo-{{ inventory_hostname }}")}],
    )


FOUR = {"web": ("h1", "h2", "h3", "h4")}


def test_a_failing_batch_rolls_back_whole_and_later_batches_never_start(project, maintbook):
    result = maintbook("run", str(rollout(project, 2, 0)), "-i", str(inventory(project, FOUR)))
    assert result.exit_code == 1, result.output
    assert sorted(project.order()) == ["h1", "h2", "undo-h1", "undo-h2"]
    (record,) = project.records()
    assert record["hosts"] == {"h1": "rolled_back", "h2": "rolled_back",
                               "h3": "not_started", "h4": "not_started"}
    assert record["outcome"] == "rolled_back"


def test_a_failure_within_max_fail_percentage_undoes_only_that_host(project, maintbook):
    result = maintbook("run", str(rollout(project, 2, 50)), "-i", str(inventory(project, FOUR)))
    assert result.exit_code == 1, result.output
    assert sorted(project.order()) == ["h1", "h2", "h3", "h4", "undo-h1"]
    (record,) = project.records()
    assert record["hosts"] == {"h1": "rolled_back", "h2": "succeeded", "h3": "succeeded",
                               "h4": "succeeded"}


@pytest.mark.parametrize(("max_fail", "order", "hosts"), [
    (0, ["h1", "undo-h1"],
     {"h1": "rolled_back", "h2": "not_started", "h3": "not_started", "h4": "not_started"}),
    (100, ["h1", "h2", "h3", "h4", "undo-h1"],
     {"h1": "rolled_back", "h2": "succeeded", "h3": "succeeded", "h4": "succeeded"}),
])
def test_one_host_at_a_time_a_failure_stops_the_rest_unless_allowed(
        project, maintbook, max_fail, order, hosts):
    """serial 1: a batch of one host fails with that host (its batch-mates are not read)."""
    result = maintbook("run", str(rollout(project, 1, max_fail)),
                       "-i", str(inventory(project, FOUR)))
    assert result.exit_code == 1, result.output
    assert sorted(project.order()) == order
    (record,) = project.records()
    assert record["hosts"] == hosts


def test_limit_runs_the_steps_on_the_named_hosts_only(project, maintbook):
    path = rollout(project, 1, 0)
    result = maintbook("run", str(path), "-i", str(inventory(project, FOUR)), "--limit", "h3:h4")
    assert result.exit_code == 0, result.output
    assert project.order() == ["h3", "h4"]
    (record,) = project.records()
    assert record["hosts"] == {"h1": "not_started", "h2": "not_started", "h3": "succeeded",
                               "h4": "succeeded"}


def test_a_failing_tier_stops_the_other_before_its_next_step(project, maintbook):
    """The db step fails: the web host never starts its deploy, and only the db rolls back."""
    path = project.runbook(
        systems=["database", "web"],
        targets={"hosts": "db:web"},
        steps=[
            {"name": "Upgrade the database", "hosts": "db",
             "shell": project.mark("db-upgrade") + "; exit 1",
             "rollback": [{"name": "Restore the database", "command": project.mark("db-restore")}]},
            {"name": "Deploy the release", "hosts": "web", "command": project.mark("web-deploy"),
             "rollback": [{"name": "Deploy the previous release",
                           "command": project.mark("web-previous")}]},
        ],
    )
    groups = {"db": ("db1",), "web": ("web1",)}
    result = maintbook("run", str(path), "-i", str(inventory(project, groups)))
    assert result.exit_code == 1, result.output
    assert project.order() == ["db-upgrade", "db-restore"]
    (record,) = project.records()
    assert record["hosts"] == {"db1": "rolled_back", "web1": "not_started"}


def deadline_runbook(project: Project, sleep: int) -> Path:
    """A 3-minute window that began 50 s ago with a 2-minute reserve: the deadline is ~10 s
    away when the run starts; the first step outlasts it."""
    start = datetime.now(UTC) - timedelta(seconds=50)
    return project.runbook(
        window={"start": iso(start), "duration": "3m"},
        rollback_reserve="2m",
        steps=[
            {"name": "Slow step", "shell": f"touch {project.marks}/slow; sleep {sleep}; "
             + project.mark("slow-done")},
            {"name": "After the deadline", "command": project.mark("late")},
        ],
        rollback=[{"name": "Undo", "command": project.mark("undo")}],
    )


def test_reaching_the_deadline_rolls_back(project, maintbook):
    result = maintbook("run", str(deadline_runbook(project, 15)))
    assert result.exit_code == 1, result.output
    assert project.order() == ["slow-done", "undo"]
    (record,) = project.records()
    assert record["outcome"] == "rolled_back" and record["stop_reason"] == "deadline"


def test_extend_moves_the_deadline_and_the_run_completes(project, maintbook):
    path = deadline_runbook(project, 20)
    process = subprocess.Popen([MAINTBOOK, "run", str(path)], cwd=project.root,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    while not (project.marks / "slow").exists():
        assert process.poll() is None, process.communicate()[0]
        time.sleep(0.2)
    extended = maintbook("extend", str(path), "--by", "30m", "--reason", "the copy is slow")
    assert extended.exit_code == 0, extended.output
    output, _ = process.communicate(timeout=120)
    assert process.returncode == 0, output
    assert project.order() == ["slow-done", "late"]
    entry = project.entry()
    assert entry["status"] == "completed"
    assert any(u["body"] == "The maintenance will take longer than planned."
               for u in entry["updates"])
    extended_notices = [n for n in project.outbox() if n["notice"] == "extended"]
    assert len(extended_notices) == 1 and "the copy is slow" in extended_notices[0]["body"]


def test_extend_refuses_a_maintenance_that_is_not_running(project, maintbook):
    path = project.runbook()
    result = maintbook("extend", str(path), "--by", "30m", "--reason", "x")
    assert result.exit_code == 2 and "not running" in result.output


def test_a_soak_check_that_starts_failing_rolls_back(project, maintbook):
    """Round 1 and 2 pass; from round 3 on the check fails."""
    counter = project.marks / "rounds"
    path = project.runbook(
        maintenance_mode=True,
        steps=[{"name": "Change", "command": project.mark("change")}],
        soak={"duration": "8s", "every": "1s", "checks": [
            {"name": "Error rate stays low",
             "shell": f"echo x >> {counter}; test $(wc -l < {counter}) -lt 3"}]},
        rollback=[{"name": "Undo", "command": project.mark("undo")}],
    )
    result = maintbook("run", str(path))
    assert result.exit_code == 1, result.output
    assert counter.read_text().count("x") == 3  # no round after the failing one
    assert project.order() == ["change", "undo"]
    (record,) = project.records()
    assert record["outcome"] == "rolled_back"
    soak = [s for s in record["steps"] if s["phase"] == "soak" and s["result"] != "skipped"]
    assert [s["result"] for s in soak] == ["ok", "ok", "failed"]
    assert not (project.root / ".maintbook/maintenance.flag").exists()


def test_a_soak_that_holds_succeeds(project, maintbook):
    path = project.runbook(
        steps=[{"name": "Change", "command": project.mark("change")}],
        soak={"duration": "3s", "every": "1s", "checks": [{"name": "Fine", "command": "true"}]},
    )
    result = maintbook("run", str(path))
    assert result.exit_code == 0, result.output
    (record,) = project.records()
    assert [s["result"] for s in record["steps"] if s["phase"] == "soak"] == ["ok"] * 3
