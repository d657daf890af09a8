"""Compiled output: one playbook per runbook, and what it needs to run anywhere.

Beside each playbook: its soak tasks (when the runbook soaks) and its step manifest
(`<name>.steps.json`: task name → step, for records). With `-o DIR`, also an `ansible.cfg`
naming maintbook's modules, plugins and roles, so `cd DIR && ansible-playbook -i INVENTORY
PLAYBOOK` runs the same lifecycle as `maintbook run` (SPEC §7).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from maintbook.calls import Target
from maintbook.compiler import Compiler, playbook_header, soak_file_name
from maintbook.config import Config
from maintbook.emit import emit
from maintbook.model import Runbook
from maintbook.runner import PLUGIN_FOLDERS, TRANSPORT, PluginPaths
from maintbook.vocabulary import dump_manifest


@dataclass(frozen=True)
class Compiled:
    """The files of one compiled runbook: name → text."""

    playbook: str
    files: dict[str, str]


def project_relative(path: Path, config: Config) -> str:
    """The runbook's path relative to the project root, with forward slashes."""
    return os.path.relpath(path.resolve(), config.root).replace(os.sep, "/")


def compile_runbook(runbook: Runbook, path: Path, config: Config, out_dir: Path,
                    stem: str) -> Compiled:
    target = Target(config, project_relative(path, config), out_dir)
    compiler = Compiler(runbook, target)
    soak = soak_file_name(stem)
    files = {f"{stem}.yml": emit(compiler.plays(soak), playbook_header(runbook, target))}
    if runbook.soak is not None:
        files[soak] = emit(compiler.soak_tasks(), f"Soak round of {runbook.maintenance_id}, "
                           f"included by {stem}.yml.")
    files[f"{stem}.steps.json"] = dump_manifest(compiler.refs)
    return Compiled(f"{stem}.yml", files)


def unwind_playbook(runbook: Runbook, path: Path, config: Config, out_dir: Path) -> str:
    target = Target(config, project_relative(path, config), out_dir)
    return emit(Compiler(runbook, target).unwind_plays(),
                f"Unwind of {runbook.maintenance_id} after an interrupt, written by "
                "maintbook run.")


def ansible_cfg(where: Callable[[str], str], header: str) -> str:
    """An ansible.cfg naming maintbook's folders (`where` says where each of PLUGIN_FOLDERS
    is) with the tuned transport of `maintbook run`."""

    def tuned(section: str) -> list[str]:
        return [f"{key} = {value}" for part, key, _, value in TRANSPORT if part == section]

    return "\n".join([
        f"# {header}",
        "[defaults]",
        *(f"{key} = {where(folder)}" for folder, key, _ in PLUGIN_FOLDERS),
        "callbacks_enabled = maintbook_supervisor",
        "retry_files_enabled = False",
        *tuned("defaults"),
        "",
        "[ssh_connection]",
        *tuned("ssh_connection"),
        "",
    ])


def compiled_ansible_cfg(paths: PluginPaths) -> str:
    """The ansible.cfg of `compile -o DIR`: maintbook's folders where they are."""
    return ansible_cfg(lambda folder: ":".join(str(p) for p in paths[folder]),
                       "Written by maintbook compile: the paths of maintbook's modules, "
                       "plugins and roles.")


def write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


