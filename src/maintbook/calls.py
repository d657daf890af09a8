"""The controller-side module calls of the lifecycle: window, status page, notices, silence.

Every path the modules write is given relative to the project root (`maintbook_root`),
so the compiled playbook reads the same on every machine.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from maintbook.config import Config
from maintbook.emit import Unsafe
from maintbook.model import Runbook
from maintbook.timeparse import format_utc


@dataclass(frozen=True)
class Target:
    """What the compiled playbook needs to know about the project it runs in."""

    config: Config
    runbook_file: str  # relative to the project root


def runbook_facts(rb: Runbook) -> dict[str, Any]:
    """What notices and pages say about a runbook; its text stays literal."""
    return {
        "id": rb.id,
        "title": Unsafe(rb.title),
        "type": rb.type,
        "owner": Unsafe(rb.owner),
        "description": Unsafe(rb.description),
        "systems": list(rb.systems),
        "window_start": format_utc(rb.start),
        "window_end": format_utc(rb.end),
    }


class Calls:
    """Builds the lifecycle tasks of one runbook."""

    def __init__(self, runbook: Runbook, target: Target) -> None:
        self.rb = runbook
        self.config = target.config
        self.file = target.runbook_file

    # shared pieces ----------------------------------------------------------------

    def root_path(self, path: str | os.PathLike[str]) -> str:
        relative = os.path.relpath(self.config.path(str(path)), self.config.root)
        return "{{ maintbook_root }}/" + relative.replace(os.sep, "/")

    def runbook_vars(self) -> dict[str, Any]:
        return runbook_facts(self.rb)

    def play_vars(self) -> dict[str, Any]:
        return {
            "maintbook_root": "{{ playbook_dir }}/../..",
            "maintbook_targets": self.rb.targets.hosts,
            "maintbook_runbook": self.runbook_vars(),
        }

    def channels(self) -> list[dict[str, Any]]:
        out = []
        for name in self.rb.notify:
            options = self.config.channel(name)
            if options.get("type") == "outbox":
                options["path"] = self.root_path(options["path"])
            out.append({"name": name, "config": options})
        return out

    def notice(self, kind: str, name: str, **args: Any) -> list[dict[str, Any]]:
        if not self.rb.notify:
            return []
        params: dict[str, Any] = {
            "notice": kind,
            "channel": "{{ item.name }}",
            "channel_config": "{{ item.config }}",
            "runbook": "{{ maintbook_runbook }}",
            "run_id": "{{ maintbook_run_id | default('manual') }}",
            "state_db": self.root_path(self.config.state),
            "retries": "{{ item.config.retries | default(3) }}",
            "retry_delay": "{{ item.config.retry_delay | default(2) }}",
        }
        if self.config.templates is not None:
            params["templates_dir"] = self.root_path(self.config.templates)
        params.update(args)
        return [
            {
                "name": name,
                "maintenance_notify": params,
                "loop": self.channels(),
                "loop_control": {"label": "{{ item.name }}"},
                "tags": ["notify"],
            }
        ]

    def page(self, state: str, name: str, **args: Any) -> dict[str, Any]:
        page = self.config.statuspage
        params: dict[str, Any] = {
            "provider": page.get("provider", "file"),
            "runbook_id": self.rb.id,
            "name": "{{ maintbook_runbook.title }}",
            "state": state,
            "scheduled_for": format_utc(self.rb.start),
            "scheduled_until": format_utc(self.rb.end),
            "components": list(self.rb.components),
        }
        if params["provider"] == "file":
            params["path"] = self.root_path(self.config.status_path())
        else:
            params["page_id"] = page["page_id"]
            params["api_key_env"] = page["api_key_env"]
            if "base_url" in page:
                params["base_url"] = page["base_url"]
        params.update(args)
        return {"name": name, "statuspage_maintenance": params}

    def window(self, state: str, name: str, **args: Any) -> dict[str, Any]:
        params: dict[str, Any] = {
            "state": state,
            "runbook_file": "{{ maintbook_root }}/" + self.file,
            "state_db": self.root_path(self.config.state),
            "run_id": "{{ maintbook_run_id | default('manual') }}",
            # The hosts the pattern names in this inventory, so reservations compare real hosts.
            "hosts": "{{ query('inventory_hostnames', maintbook_targets) }}",
        }
        if self.config.file:
            params["config_file"] = self.root_path(self.config.file)
        params.update(args)
        return {"name": name, "maintenance_window": params}

    def silence(self, state: str, name: str) -> list[dict[str, Any]]:
        if not self.rb.silence or not self.config.alertmanager:
            return []
        params: dict[str, Any] = {
            "url": self.config.alertmanager["url"],
            "runbook_id": self.rb.id,
            "state": state,
        }
        if state == "present":
            params.update(
                {
                    "matchers": list(self.rb.silence),
                    "starts_at": format_utc(self.rb.start),
                    "ends_at": format_utc(self.rb.end),
                    "created_by": "maintbook",
                    "comment": "{{ maintbook_runbook.title }}",
                }
            )
        return [{"name": name, "alertmanager_silence": params}]

    # plays ------------------------------------------------------------------------
