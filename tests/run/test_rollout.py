"""Rolling batches, max_fail_percentage and --limit, on four inventory hosts that are all
this machine (connection local), so batches and failures are real Ansible behaviour."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.run.conftest import Project

pytestmark = pytest.mark.integration
HOSTS = ("h1", "h2", "h3", "h4")


def inventory(project: Project) -> Path:
    path = project.root / "inventory" / "four.yml"
    hosts = "".join(
        f"        {name}:\n          ansible_connection: local\n"
        '          ansible_python_interpreter: "{{ ansible_playbook_python }}"\n'
        for name in HOSTS
    )
    path.write_text(f"all:\n  children:\n    web:\n      hosts:\n{hosts}")
    return path


def rollout(project: Project, serial: int, max_fail: int) -> Path:
    return project.runbook(
        targets={"hosts": "web", "serial": serial, "max_fail_percentage": max_fail},
        steps=[
            {"name": "Record the host", "command": project.mark("{{ inventory_hostname }}")},
            {
                "name": "Fail on h1",
                "command": "{{ 'false' if inventory_hostname == 'h1' else 'true' }}",
            },
        ],
        rollback=[
            {"name": "Undo on the host", "command": project.mark("undo-{{ inventory_hostname }}")}
        ],
    )


def test_a_failure_beyond_max_fail_percentage_stops_the_rollout(project, maintbook):
    result = maintbook("run", str(rollout(project, 2, 0)), "-i", str(inventory(project)))
    assert result.exit_code == 1, result.output
    assert sorted(project.order()) == ["h1", "h2", "undo-h1"]
    (record,) = project.records()
    assert record["hosts"] == {
        "h1": "rolled_back",
        "h2": "succeeded",
        "h3": "skipped",
        "h4": "skipped",
    }
    assert record["outcome"] == "rolled_back"


def test_a_failure_within_max_fail_percentage_lets_the_rollout_go_on(project, maintbook):
    result = maintbook("run", str(rollout(project, 2, 50)), "-i", str(inventory(project)))
    assert result.exit_code == 1, result.output
    assert sorted(project.order()) == ["h1", "h2", "h3", "h4", "undo-h1"]
    (record,) = project.records()
    assert record["hosts"] == {
        "h1": "rolled_back",
        "h2": "succeeded",
        "h3": "succeeded",
        "h4": "succeeded",
    }


def test_limit_runs_the_steps_on_the_named_hosts_only(project, maintbook):
    path = rollout(project, 1, 0)
    result = maintbook("run", str(path), "-i", str(inventory(project)), "--limit", "h3:h4")
    assert result.exit_code == 0, result.output
    assert project.order() == ["h3", "h4"]
    (record,) = project.records()
    assert record["hosts"] == {"h3": "succeeded", "h4": "succeeded"}
