"""Compiled playbooks: deterministic, valid, lint-clean; literal text stays literal."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from tests.run.conftest import REPO, Project

BIN = Path(sys.executable).parent
ENV = {
    **os.environ,
    "ANSIBLE_LIBRARY": str(REPO / "library"),
    "ANSIBLE_ROLES_PATH": str(REPO / "roles"),
    "NO_COLOR": "1",
}


def full_runbook(project: Project) -> Path:
    """Every action kind and step option, with template syntax in the literal fields."""
    return project.runbook(
        title="Rotate {{ lookup('pipe', 'id') }} certificates",
        maintenance_mode=True,
        progress_every="30m",
        targets={"hosts": "web", "serial": "50%", "max_fail_percentage": 25},
        precheck=[
            {
                "name": "API answers",
                "http": {
                    "url": "http://127.0.0.1:9/health",
                    "status": [200, 204],
                    "contains": "ok",
                    "max_latency": "500ms",
                },
            }
        ],
        steps=[
            {
                "name": "Back up the database",
                "role": "postgres_maintenance",
                "vars": {"operation": "backup", "database": "app"},
                "timeout": "45m",
            },
            {
                "name": "Restart {{ nginx }}",
                "command": "systemctl restart nginx",
                "retries": 2,
                "delay": "10s",
                "when": "inventory_hostname != 'db1'",
                "rollback": [{"name": "Start nginx again", "command": "systemctl start nginx"}],
            },
            {"name": "Let caches warm", "wait": "30s", "run_once": True},
            {
                "name": "Clear the cache",
                "shell": "rm -rf /var/cache/app/* | cat",
                "delegate_to": "localhost",
                "tags": ["cache"],
            },
            {
                "name": "Reload a service",
                "module": {
                    "name": "ansible.builtin.service",
                    "args": {"name": "nginx", "state": "reloaded"},
                },
            },
        ],
        verify=[{"name": "API healthy", "http": {"url": "http://127.0.0.1:9/health"}}],
        rollback=[
            {
                "name": "Restore",
                "role": "postgres_maintenance",
                "vars": {"operation": "restore", "database": "app"},
            }
        ],
    )


def compile_to(maintbook, runbook: Path, out: Path) -> Path:
    result = maintbook("compile", str(runbook), "-o", str(out))
    assert result.exit_code == 0, result.output
    return out / f"{runbook.stem}.yml"


def test_compiling_twice_gives_identical_bytes(project, maintbook, tmp_path):
    runbook = full_runbook(project)
    first = compile_to(maintbook, runbook, tmp_path / "a").read_bytes()
    second = compile_to(maintbook, runbook, tmp_path / "b").read_bytes()
    assert first == second


def test_literal_text_is_unsafe_and_arguments_stay_templated(project, maintbook, tmp_path):
    playbook = compile_to(maintbook, full_runbook(project), tmp_path)
    text = playbook.read_text()
    assert "title: !unsafe \"Rotate {{ lookup('pipe', 'id') }} certificates\"" in text
    assert '- name: !unsafe "Step | Restart {{ nginx }}"' in text
    assert "when: \"inventory_hostname != 'db1'\"" in text
    plays = YAML(typ="safe", pure=True)
    plays.constructor.add_constructor("!unsafe", lambda loader, node: node.value)
    data = plays.load(text)
    assert [play["name"] for play in data] == [
        "Open maintenance MNT-2026-0101",
        "Precheck MNT-2026-0101",
        "Maintain MNT-2026-0101",
        "Close maintenance MNT-2026-0101",
    ]
    assert data[2]["serial"] == "50%"


def test_every_task_points_at_its_runbook_line(project, maintbook, tmp_path):
    runbook = full_runbook(project)
    lines = runbook.read_text().splitlines()
    text = compile_to(maintbook, runbook, tmp_path).read_text().splitlines()
    pointers = [
        (i, line) for i, line in enumerate(text) if line.strip().startswith("# runbooks/rb.yml:")
    ]
    assert len(pointers) == 10
    for index, line in pointers:
        number = int(line.rsplit(":", 1)[1])
        match = re.match(r'\s*- name: (?:!unsafe )?"?(.*?)"?(?:  # noqa.*)?$', text[index + 1])
        assert match, text[index + 1]
        step = match.group(1).split(" | ", 1)[1].removesuffix(" (with its rollback)")
        assert lines[number - 1].lstrip().startswith("- name:"), (number, lines[number - 1])
        assert step in lines[number - 1], (step, lines[number - 1])


@pytest.mark.integration
def test_compiled_playbooks_pass_syntax_check_and_production_lint(project, maintbook, tmp_path):
    playbooks = [compile_to(maintbook, full_runbook(project), tmp_path)]
    playbooks += [
        compile_to(maintbook, p, tmp_path / "std")
        for p in sorted((REPO / "runbooks").glob("*.yml"))
    ]
    for playbook in playbooks:
        done = subprocess.run(
            [
                BIN / "ansible-playbook",
                "--syntax-check",
                "-i",
                str(REPO / "inventory/local.yml"),
                str(playbook),
            ],
            capture_output=True,
            text=True,
            env=ENV,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
    done = subprocess.run(
        [
            BIN / "ansible-lint",
            "--nocolor",
            "--offline",
            "--profile",
            "production",
            *map(str, playbooks),
        ],
        capture_output=True,
        text=True,
        env=ENV,
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
