"""Every module documents itself (ansible-doc) and a playbook using them is ansible-lint clean."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import BIN, LIBRARY, ansible_env

MODULES = sorted(path.stem for path in LIBRARY.glob("*.py"))
PLAYBOOK = """---
- name: Maintenance MNT-2026-0042
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Open the status-page maintenance
      statuspage_maintenance:
        runbook_id: MNT-2026-0042
        name: !unsafe "Monthly {{ maintenance }}"
        state: STATE
        scheduled_for: "2026-12-06T02:00:00Z"
        scheduled_until: "2026-12-06T04:00:00Z"
        components: [api, database]
      delegate_to: localhost
    - name: Silence postgres alerts
      alertmanager_silence:
        url: http://127.0.0.1:9093
        runbook_id: MNT-2026-0042
        matchers: ['service="postgres"', 'env=~"prod|staging"']
        ends_at: "2026-12-06T04:00:00Z"
      delegate_to: localhost
    - name: Send the start notice
      maintenance_notify:
        notice: start
        channel: ops-slack
        channel_config: {type: slack, webhook_env: SLACK_WEBHOOK_URL}
        runbook: {id: MNT-2026-0042, title: Monthly PostgreSQL maintenance}
        run_id: run-1
      delegate_to: localhost
"""


@pytest.mark.parametrize("module", MODULES)
def test_ansible_doc_renders(module: str, tmp_path: Path) -> None:
    proc = subprocess.run(
        [str(BIN / "ansible-doc"), "-M", str(LIBRARY), module],
        env=ansible_env(tmp_path),
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip() == ""
    for section in ("OPTIONS", "EXAMPLES", "RETURN VALUES"):
        assert section in proc.stdout


def lint(tmp_path: Path, state: str, *options: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "site.yml").write_text(PLAYBOOK.replace("STATE", state))
    return subprocess.run(
        [
            str(BIN / "ansible-lint"),
            "--offline",
            "--strict",
            *options,
            "--format",
            "pep8",
            "site.yml",
        ],
        cwd=tmp_path,
        env=ansible_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_ansible_lint_production_profile_is_clean(tmp_path: Path) -> None:
    proc = lint(tmp_path, "scheduled", "--profile", "production")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_ansible_lint_checks_arguments_against_argument_spec(tmp_path: Path) -> None:
    # the args rule is "experimental", so it runs only outside --profile; --strict makes it count
    assert lint(tmp_path, "scheduled").returncode == 0
    proc = lint(tmp_path, "bogus")
    assert proc.returncode == 2
    assert "args[module]" in proc.stdout + proc.stderr
    assert "value of state must be one of" in proc.stdout + proc.stderr
