"""Compiled playbooks: deterministic, valid, lint-clean; literal text stays literal."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from maintbook.build import compiled_ansible_cfg
from maintbook.resources import shipped
from maintbook.runner import TRANSPORT, RunRequest, ansible_settings, plugin_paths
from tests.run.conftest import REPO, Project
from tests.support.ansible_doc import LIFECYCLE, documented, missing_fragment_options

BIN = Path(sys.executable).parent


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


def load(text: str) -> list[dict]:
    plays = YAML(typ="safe", pure=True)
    plays.constructor.add_constructor("!unsafe", lambda loader, node: node.value)
    return plays.load(text)


def test_compiling_twice_gives_identical_bytes(project, maintbook, tmp_path):
    runbook = full_runbook(project)
    first = compile_to(maintbook, runbook, tmp_path / "a")
    second = compile_to(maintbook, runbook, tmp_path / "b")
    for name in (first.name, "rb.steps.json", "ansible.cfg"):
        assert (first.parent / name).read_bytes() == (second.parent / name).read_bytes()


def test_compile_and_run_give_ansible_the_same_plugin_folders(project):
    """ansible.cfg of compile -o names each folder `maintbook run` sets in its environment,
    the documentation fragments' included."""
    paths = plugin_paths(project.root, shipped)
    env = ansible_settings(RunRequest(playbook=Path("p.yml"), inventory=Path("hosts"),
                                      artifact_dir=project.root, paths=paths, extravars={}))
    folders = dict(re.findall(r"^(library|\w+_plugins|roles_path) = (.*)$",
                              compiled_ansible_cfg(paths), re.MULTILINE))
    assert folders["doc_fragment_plugins"] == str(shipped("doc_fragments").resolve())
    assert {f"ANSIBLE_{key.upper()}": value for key, value in folders.items()} == {
        name: value for name, value in env.items() if name in
        {"ANSIBLE_LIBRARY", "ANSIBLE_ROLES_PATH"} or name.endswith("_PLUGINS")}


def _ansible_options(matches) -> set[tuple[str, str]]:
    """Ansible's options (core's and every built-in connection plugin's) that `matches`."""
    import ansible.constants as C
    from ansible.plugins.loader import connection_loader

    found = {("core", name) for name, option in C.config.get_configuration_definitions().items()
             if matches(option)}
    for plugin in ("local", "ssh", "paramiko_ssh", "psrp", "winrm"):
        connection_loader.get(plugin, class_only=True)
        found |= {(plugin, name) for name, option in
                  C.config.get_configuration_definitions("connection", plugin).items()
                  if matches(option)}
    return found


@pytest.mark.filterwarnings("ignore:DSA is deprecated")  # cryptography, as ansible imports ssh
@pytest.mark.parametrize("section,key,variable,value", TRANSPORT,
                         ids=[variable for _, _, variable, _ in TRANSPORT])
def test_each_transport_variable_sets_what_its_ansible_cfg_key_sets(section, key, variable,
                                                                    value):
    """`maintbook run` (the variable) and a compiled folder's ansible.cfg (the key) tune the
    same options: ANSIBLE_PIPELINING would turn pipelining on for `local` connections too,
    where the key in [ssh_connection] does not (and where it slows every task)."""
    by_variable = _ansible_options(
        lambda option: {"name": variable} in option.get("env", []))
    by_key = _ansible_options(
        lambda option: {"section": section, "key": key} in option.get("ini", []))
    assert by_variable and by_variable == by_key


def test_literal_text_is_unsafe_and_arguments_stay_templated(project, maintbook, tmp_path):
    playbook = compile_to(maintbook, full_runbook(project), tmp_path)
    text = playbook.read_text()
    assert "title: !unsafe \"Rotate {{ lookup('pipe', 'id') }} certificates\"" in text
    assert '- name: !unsafe "Step | Restart {{ nginx }}"' in text
    assert "inventory_hostname != 'db1'" in text
    data = load(text)
    assert [play["name"] for play in data] == [
        "Open maintenance MNT-2026-0101",
        "Precheck MNT-2026-0101",
        "Maintain MNT-2026-0101",
        "Close maintenance MNT-2026-0101",
    ]
    assert data[2]["serial"] == "50%"


@pytest.mark.parametrize("field, value", [
    ("systems", ["{{ lookup('pipe', 'touch X') }}"]),
    ("statuspage", {"components": ["{{ lookup('pipe', 'touch X') }}"]}),
    ("silence", {"matchers": ['service="{{ lookup(\'pipe\', \'touch X\') }}"']}),
    ("targets", {"hosts": "{{ lookup('pipe', 'touch X') }}"}),
    ("owner", "{{ lookup('pipe', 'touch X') }}"),
])
def test_data_fields_go_in_as_literal_text(project, maintbook, tmp_path, field, value):
    """Only action arguments and `when` are templated (SPEC §2); the rest is !unsafe data."""
    text = compile_to(maintbook, project.runbook(**{field: value}), tmp_path).read_text()
    for line in text.splitlines():
        if "lookup('pipe', 'touch X')" in line or "lookup(\\'pipe" in line:
            assert "!unsafe" in line, line


def test_every_step_task_points_at_its_runbook_line(project, maintbook, tmp_path):
    runbook = full_runbook(project)
    lines = runbook.read_text().splitlines()
    text = compile_to(maintbook, runbook, tmp_path).read_text().splitlines()
    pointers = [(i, line) for i, line in enumerate(text)
                if line.strip().startswith("# runbooks/rb.yml:")]
    assert len(pointers) >= 10
    for index, line in pointers:
        number = int(line.rsplit(":", 1)[1])
        match = re.match(r'\s*- name: (?:!unsafe )?"?(.*?)"?(?:  # noqa.*)?$', text[index + 1])
        assert match, text[index + 1]
        step = match.group(1).split(" | ", 1)[1]
        assert lines[number - 1].lstrip().startswith("- name:"), (number, lines[number - 1])
        assert step in lines[number - 1], (step, lines[number - 1])


def test_the_manifest_names_every_step_task(project, maintbook, tmp_path):
    import json

    compile_to(maintbook, full_runbook(project), tmp_path)
    manifest = json.loads((tmp_path / "rb.steps.json").read_text())
    phases = sorted({ref["phase"] for ref in manifest.values()})
    assert phases == ["precheck", "recheck", "rollback", "steps", "verify"]
    assert manifest["Rollback | Start nginx again"]["undoes"] == \
        "Restart {{ nginx }}"


@pytest.mark.integration
def test_compiled_playbooks_pass_syntax_check_and_production_lint(project, maintbook, tmp_path):
    playbooks = [compile_to(maintbook, full_runbook(project), tmp_path)]
    playbooks += [compile_to(maintbook, p, tmp_path)
                  for p in sorted((REPO / "runbooks").glob("*.yml"))]
    for playbook in playbooks:
        done = subprocess.run([BIN / "ansible-playbook", "--syntax-check", "-i",
                               str(REPO / "inventory/local.yml"), playbook.name],
                              capture_output=True, text=True, cwd=tmp_path, check=False)
        assert done.returncode == 0, done.stdout + done.stderr
    done = subprocess.run([BIN / "ansible-lint", "--nocolor", "--offline", "--profile",
                           "production", *[p.name for p in playbooks]],
                          capture_output=True, text=True, cwd=tmp_path, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_compiled_folders_ansible_cfg_finds_the_documentation_fragment(
        project, maintbook, tmp_path_factory):
    """ansible-doc in a compile -o folder, with no ANSIBLE_* of the caller, renders each
    lifecycle module with the options of maintbook's documentation fragment."""
    out = tmp_path_factory.mktemp("elsewhere") / "build"
    compile_to(maintbook, project.runbook(), out)
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    assert missing_fragment_options(documented(LIFECYCLE, out, clean)) == {}


@pytest.mark.integration
def test_a_compiled_folder_outside_the_project_runs_with_plain_ansible_playbook(
        project, maintbook, tmp_path_factory):
    """compile -o DIR writes an ansible.cfg: `cd DIR && ansible-playbook -i INV PLAYBOOK` runs
    the same lifecycle: the page completed, the notices, the run in the state database."""
    path = project.runbook(
        type="brief-interruption",
        approvals=[{"role": "engineering-manager", "by": "dana"}],
        steps=[{"name": "Touch", "command": f"touch {project.marks}/plain"}])
    out = tmp_path_factory.mktemp("elsewhere") / "build"
    playbook = compile_to(maintbook, path, out)
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    check = subprocess.run([BIN / "ansible-playbook", "--syntax-check", "-i",
                            str(project.root / "inventory/local.yml"), playbook.name],
                           cwd=out, env=clean, capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stdout + check.stderr
    inventory = str(project.root / "inventory/local.yml")
    done = subprocess.run([BIN / "ansible-playbook", "-i", inventory,
                           playbook.name, "-e", "maintbook_force_reason=plain run"],
                          cwd=out, env=clean, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (project.marks / "plain").exists()
    assert project.page_statuses() == ["in_progress", "completed"]
    assert [n["notice"] for n in project.outbox()] == ["start", "complete"]
    assert project.rows("SELECT outcome FROM runs") == [("succeeded",)]
    assert project.rows("SELECT state FROM maintenances") == [("succeeded",)]
    report = maintbook("report", "MNT-2026-0101")
    assert report.exit_code == 0 and "succeeded" in report.output
