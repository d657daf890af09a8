"""A self-contained Ansible project of some runbooks (SPEC §14), for AWX/AAP or any runner.

    DIR/
      README.md                   what this is and how to run it
      inventory/hosts.yml         the inventory given (ansible-runner's private data layout)
      project/                    the project AWX/AAP syncs; ansible-runner's project folder
        ansible.cfg               library, plugins and roles of this folder
        <runbook>.yml …           one compiled playbook per runbook (+ soak tasks, manifest)
        runbooks/                 the runbooks they were compiled from, for reviewers
        maintbook.yml             the policy and channels the lifecycle plugins read
        library/ action_plugins/ lookup_plugins/ callback_plugins/ doc_fragments/ roles/
        requirements.yml          the collections the roles and steps name
        requirements.txt          the Python package the plugins run on (maintbook)
        awx/job_templates.yml     a job template per playbook
        awx/schedules.yml         per recurring runbook, its RRULE as an AWX schedule

`cd DIR/project && ansible-playbook -i ../inventory/hosts.yml PLAYBOOK` and
`ansible-runner run DIR -p PLAYBOOK` both run the lifecycle. A recurring runbook's playbook
runs the occurrence whose window is open when it starts (a forced run: the next one).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from maintbook import __version__
from maintbook.build import ansible_cfg, compile_runbook
from maintbook.config import Config, load_config
from maintbook.emit import emit_data
from maintbook.errors import UsageError
from maintbook.model import Runbook
from maintbook.runner import PLUGIN_FOLDERS, PluginPaths

FQCN = re.compile(r"^\s*-?\s*(?:name:\s*)?([a-z_][a-z0-9_]*)\.([a-z_][a-z0-9_]*)\.[a-z_]",
                  re.MULTILINE)

README = """\
# maintbook export

Ansible playbooks compiled by maintbook {version} from: {runbooks}.

Each playbook runs the whole maintenance lifecycle: the gate and the lease, the status page,
the notices, the alert silence, the steps with their rollback, and the closing actions.

- Plain Ansible: `cd project && ansible-playbook -i ../inventory/hosts.yml PLAYBOOK`
- ansible-runner: `ansible-runner run . -p PLAYBOOK` (this folder is its private data dir)
- AWX/AAP: sync `project/` as a project; `awx/job_templates.yml` and `awx/schedules.yml`
  describe a job template per playbook and the schedule of each recurring runbook.

The lifecycle plugins run on the controller and need the `maintbook` Python package there
(`project/requirements.txt`; add it to the execution environment). Give the state database
as a PostgreSQL URL in `project/maintbook.yml` (`state: {{url: ...}}`) when jobs run on
fresh copies of the project, as AWX runs them: a SQLite file would be lost after each job.
Secrets are never in these files: the channels name environment variables (`*_env`).
"""


@dataclass(frozen=True)
class Exported:
    folder: Path
    playbooks: list[str]
    schedules: list[dict[str, object]]


def _copy_tree(source: Path, target: Path) -> None:
    if source.is_dir():
        shutil.copytree(source, target, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("__pycache__", "molecule", "*.pyc"))


def _collections(texts: Sequence[str]) -> list[str]:
    """`namespace.collection` of every FQCN module the playbooks and roles name."""
    found = {f"{a}.{b}" for text in texts for a, b in FQCN.findall(text)}
    return sorted(c for c in found if c not in ("ansible.builtin", "ansible.legacy"))


def awx_schedule(runbook: Runbook, template: str, today: datetime) -> dict[str, object]:
    """The series' rule as an AWX schedule (DTSTART in the rule's zone, then the RRULE)."""
    assert runbook.recurrence is not None
    rule = runbook.recurrence
    start = today.strftime("%Y%m%d") + f"T{rule.start:%H%M}00"
    return {
        "name": f"{runbook.id} ({rule.rrule} at {rule.start:%H:%M} {rule.tz})",
        "unified_job_template": template,
        "rrule": f"DTSTART;TZID={rule.tz}:{start} RRULE:{rule.rrule}",
        "enabled": rule.run == "auto",
        "description": "maintbook runbook " + runbook.id + ": each occurrence runs in its "
        "window; a moved or skipped occurrence is refused by the gate at its planned time.",
    }


def export(runbooks: Sequence[tuple[Path, Runbook]], config: Config, inventory: Path,
           target: Path, paths: PluginPaths, pick: Callable[[Runbook, Config], Runbook],
           today: datetime) -> Exported:
    """Write the project; `pick` chooses the occurrence a recurring runbook compiles for."""
    if target.exists() and any(target.iterdir()):
        raise UsageError(f"{target}: not empty; export writes a new folder")
    project = target / "project"
    (project / "runbooks").mkdir(parents=True)
    (target / "inventory").mkdir()
    shutil.copy(inventory, target / "inventory" / "hosts.yml")
    if config.file:
        shutil.copy(config.file, project / "maintbook.yml")
    else:
        (project / "maintbook.yml").write_text("# The built-in defaults.\n{}\n")
    for folder, _, _ in PLUGIN_FOLDERS:
        for source in reversed(paths[folder]):  # the project's own last: it wins
            _copy_tree(source, project / folder)
    (project / "ansible.cfg").write_text(ansible_cfg(
        str, "Written by maintbook export: everything the playbooks need is in this folder."))
    exported, loaded = _compile(runbooks, project, pick)
    texts = [p.read_text(errors="replace") for p in project.rglob("*.yml")]
    (project / "requirements.yml").write_text(emit_data(
        {"collections": [{"name": c} for c in _collections(texts)]},
        "Collections the roles and steps name (none beyond ansible.builtin: empty)."))
    (project / "requirements.txt").write_text(f"maintbook=={__version__}\n")
    templates = [{"name": f"maintbook {rb.id}", "playbook": name, "job_type": "run",
                  "ask_variables_on_launch": True} for name, rb in zip(exported, loaded,
                                                                        strict=True)]
    schedules = [awx_schedule(rb, f"maintbook {rb.id}", today) for rb in loaded
                 if rb.recurrence is not None]
    (project / "awx").mkdir()
    (project / "awx" / "job_templates.yml").write_text(emit_data({"job_templates": templates}))
    (project / "awx" / "schedules.yml").write_text(emit_data({"schedules": schedules}))
    (target / "README.md").write_text(README.format(
        version=__version__, runbooks=", ".join(rb.id for rb in loaded)))
    return Exported(target, exported, schedules)


def _compile(runbooks: Sequence[tuple[Path, Runbook]], project: Path,
             pick: Callable[[Runbook, Config], Runbook]) -> tuple[list[str], list[Runbook]]:
    config, problems = load_config(project / "maintbook.yml")
    if config is None:
        raise UsageError("maintbook.yml: " + "; ".join(p.message for p in problems))
    names, loaded = [], []
    for path, runbook in runbooks:
        copy = project / "runbooks" / path.name
        shutil.copy(path, copy)
        concrete = pick(runbook, config)
        compiled = compile_runbook(concrete, copy, config, project, path.stem)
        for name, text in compiled.files.items():
            (project / name).write_text(text)
        names.append(compiled.playbook)
        loaded.append(runbook)
    return names, loaded
