"""The lifecycle plugin calls of the compiled playbook: window, status page, silence, notices.

Every call carries what the plugin needs as arguments — the maintenance's context
(`maintbook_context`, literal data) and the project root — so the plugins never read the
runbook file. Paths in the context are relative to the root, so the playbook reads the same
on every machine.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from maintbook.config import Config
from maintbook.context import Context, build_context
from maintbook.emit import Unsafe
from maintbook.model import Runbook

CONTROLLER_VARS = {"ansible_python_interpreter": "{{ ansible_playbook_python }}"}
# The open step reads the compiled context (play variables); every later call reads what the
# open step left on the controller — the context of the maintenance it opened (for a
# recurring runbook, the occurrence it resolved), the project root and the run — so a call
# delegated from a play on the targets sees the same.
OPENING = {"context": "{{ maintbook_context }}", "root": "{{ maintbook_root }}"}
OPENED = {"context": "{{ hostvars['localhost'].maintbook_context }}",
          "root": "{{ hostvars['localhost'].maintbook_root_dir }}",
          "run": "{{ hostvars['localhost'].maintbook_run }}"}


@dataclass(frozen=True)
class Target:
    """Where the compiled playbook will live, relative to the project it belongs to."""

    config: Config
    runbook_file: str  # relative to the project root
    playbook_dir: Path  # where the playbook is written

    @property
    def root_from_playbook(self) -> str:
        relative = os.path.relpath(self.config.root, self.playbook_dir.resolve())
        return "{{ playbook_dir }}" + ("" if relative == "." else "/" + relative.replace(
            os.sep, "/"))


def literal(value: Any) -> Any:
    """Data that Ansible must never template: every string marked `!unsafe` where needed."""
    if isinstance(value, str):
        return Unsafe(value)
    if isinstance(value, dict):
        return {k: literal(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [literal(v) for v in value]
    return value


class Calls:
    """Builds the lifecycle tasks of one runbook."""

    def __init__(self, runbook: Runbook, target: Target) -> None:
        self.rb = runbook
        self.target = target
        self.config = target.config
        self.file = target.runbook_file
        self.context: Context = build_context(runbook, target.config)

    def play_vars(self) -> dict[str, Any]:
        return {
            "maintbook_root": self.target.root_from_playbook,
            "maintbook_context": literal(self.context.to_dict(self.config.root)),
        }

    def window(self, state: str, name: str, **args: Any) -> dict[str, Any]:
        common = OPENING if state in ("open", "check") else OPENED
        return {"name": name, "maintenance_window": {"state": state, **common, **args}}

    def page(self, state: str, name: str, **args: Any) -> dict[str, Any]:
        return {"name": name,
                "statuspage_maintenance": {"state": state, **OPENED, **args}}

    def silence(self, state: str, name: str) -> list[dict[str, Any]]:
        if self.context.silence is None:
            return []
        return [{"name": name,
                 "alertmanager_silence": {"state": state, **OPENED}}]

    def notice(self, kind: str, name: str, **args: Any) -> list[dict[str, Any]]:
        if not self.rb.notify:
            return []
        return [{"name": name,
                 "maintenance_notify": {"notice": kind, **OPENED, **args},
                 "tags": ["notify"]}]
