"""`maintbook export`: a self-contained project that plain Ansible, ansible-runner and AWX
can run (SPEC §14)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from tests.run.conftest import Project, iso
from tests.support.ansible_doc import LIFECYCLE, documented, missing_fragment_options
from tests.support.pgstate import state_rows

pytestmark = pytest.mark.integration
BIN = Path(sys.executable).parent


def clean_env() -> dict[str, str]:
    """No ANSIBLE_* of the caller: the export's own ansible.cfg must be enough."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    return env


def test_an_export_of_a_recurring_and_a_one_off_runbook_runs_with_ansible_runner(
        project: Project, maintbook, tmp_path_factory) -> None:
    now = datetime.now(UTC)
    daily = project.runbook(
        "daily", id="MNT-2026-0201", window={"duration": "1h"},
        recurrence={"rrule": "FREQ=DAILY", "start": f"{now - timedelta(minutes=10):%H:%M}",
                    "tz": "UTC", "run": "auto"},
        steps=[{"name": "Daily mark", "command": project.mark("daily")}])
    once = project.runbook(
        "once", id="MNT-2026-0202", systems=["db"],
        window={"start": iso(now - timedelta(minutes=5)), "duration": "1h"},
        steps=[{"name": "Once mark", "command": project.mark("once")}])
    out = tmp_path_factory.mktemp("exported") / "export"
    result = maintbook("export", str(daily), str(once), "--to", str(out))
    assert result.exit_code == 0, result.output
    schedules = YAML(typ="safe").load((out / "project/awx/schedules.yml").read_text())
    (schedule,) = schedules["schedules"]
    assert schedule["rrule"].endswith(" RRULE:FREQ=DAILY")
    assert schedule["rrule"].startswith("DTSTART;TZID=UTC:")
    templates = YAML(typ="safe").load((out / "project/awx/job_templates.yml").read_text())
    assert {t["playbook"] for t in templates["job_templates"]} == {"daily.yml", "once.yml"}
    for playbook in ("daily.yml", "once.yml"):
        done = subprocess.run([BIN / "ansible-runner", "run", str(out), "-p", playbook],
                              env=clean_env(), capture_output=True, text=True, check=False,
                              timeout=300)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert sorted(project.order()) == ["daily", "once"]
    rows = dict(state_rows(out / "project", "SELECT runbook, outcome FROM runs"))
    maintenances = [r[0] for r in state_rows(out / "project", "SELECT id FROM maintenances")]
    assert rows == {"MNT-2026-0201": "succeeded", "MNT-2026-0202": "succeeded"}
    assert any(m.startswith("MNT-2026-0201@") for m in maintenances)  # the open occurrence


def test_exported_playbooks_are_lint_clean(project: Project, maintbook, tmp_path) -> None:
    path = project.runbook(maintenance_mode=True, precheck=[{"name": "Pre", "command": "true"}],
                           rollback=[{"name": "Undo", "command": "true"}])
    out = tmp_path / "export"
    assert maintbook("export", str(path), "--to", str(out)).exit_code == 0
    done = subprocess.run([BIN / "ansible-lint", "--nocolor", "--offline", "--profile",
                           "production", "rb.yml"], cwd=out / "project", env=clean_env(),
                          capture_output=True, text=True, check=False, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_export_documents_its_modules_with_the_fragment(project: Project, maintbook,
                                                            tmp_path) -> None:
    """The export's own doc_fragments/ and ansible.cfg: ansible-doc in project/ renders each
    lifecycle module with the fragment's options."""
    out = tmp_path / "export"
    assert maintbook("export", str(project.runbook()), "--to", str(out)).exit_code == 0
    assert (out / "project/doc_fragments/maintbook.py").is_file()
    docs = documented(LIFECYCLE, out / "project", clean_env())
    assert missing_fragment_options(docs) == {}


def test_export_refuses_a_folder_that_is_not_empty(project: Project, maintbook,
                                                   tmp_path) -> None:
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "file").write_text("x")
    result = maintbook("export", str(project.runbook()), "--to", str(tmp_path / "busy"))
    assert result.exit_code == 2 and "not empty" in result.output
