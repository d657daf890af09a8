"""The ansible-runner adapter: explicit parameters in, RunResult out, events to a callback.

This is the only module that imports ansible_runner. Secrets the configuration names
(`*_env`) are taken out of the Ansible process environment, which ansible-runner
writes into its artifacts, and handed over in a private file outside the project.
"""

from __future__ import annotations

import os
import shlex
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from maintbook.secrets import SECRETS_FILE_ENV, write_private

Event = dict[str, Any]


@dataclass(frozen=True)
class RunRequest:
    """Everything one playbook run needs, spelled out."""

    playbook: Path
    inventory: Path
    artifact_dir: Path
    library_paths: tuple[Path, ...]
    role_paths: tuple[Path, ...]
    extravars: Mapping[str, Any]
    secret_names: tuple[str, ...] = ()
    check: bool = False


@dataclass
class RunResult:
    status: str
    rc: int
    events: list[Event] = field(default_factory=list)
    output_tail: str = ""

    @property
    def started(self) -> bool:
        """Whether Ansible got as far as running a play (not stopped at a parse error)."""
        return any(e.get("event") == "playbook_on_play_start" for e in self.events)


def _envvars(request: RunRequest, secrets_file: Path) -> dict[str, str]:
    bin_dir = str(Path(sys.executable).parent)
    return {
        "ANSIBLE_LIBRARY": os.pathsep.join(str(p) for p in request.library_paths),
        "ANSIBLE_ROLES_PATH": os.pathsep.join(str(p) for p in request.role_paths),
        "ANSIBLE_RETRY_FILES_ENABLED": "false",
        "ANSIBLE_NOCOLOR": "true",
        "ANSIBLE_DEPRECATION_WARNINGS": "false",
        "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
        SECRETS_FILE_ENV: str(secrets_file),
    }


def _cmdline(request: RunRequest) -> str:
    parts = []
    if request.check:
        parts.append("--check")
    return " ".join(shlex.quote(p) for p in parts)


def run_playbook(request: RunRequest, on_event: Callable[[Event], None]) -> RunResult:
    """Run one playbook; every event goes to `on_event` as it happens."""
    import ansible_runner

    events: list[Event] = []

    def handle(event: Event) -> bool:
        events.append(event)
        on_event(event)
        return True

    secrets = {name: os.environ[name] for name in request.secret_names if os.environ.get(name)}
    with tempfile.TemporaryDirectory(prefix="maintbook-") as private:
        secrets_file = Path(private) / "secrets.json"
        (Path(private) / "data").mkdir()
        write_private(secrets, secrets_file)
        runner = ansible_runner.interface.init_runner(
            private_data_dir=str(Path(private) / "data"),
            artifact_dir=str(request.artifact_dir),
            playbook=str(request.playbook),
            inventory=str(request.inventory),
            extravars=dict(request.extravars),
            envvars=_envvars(request, secrets_file),
            cmdline=_cmdline(request) or None,
            event_handler=handle,
            quiet=True,
            suppress_env_files=True,
            ident="ansible",
        )
        for name in set(request.secret_names) | _secret_like(runner.config.env):
            runner.config.env.pop(name, None)
        runner.run()
    stdout = request.artifact_dir / "ansible" / "stdout"
    lines = (
        stdout.read_text(encoding="utf-8", errors="replace").splitlines() if stdout.exists() else []
    )
    return RunResult(
        status=str(runner.status),
        rc=int(runner.rc or 0),
        events=events,
        output_tail="\n".join(line for line in lines[-15:] if line.strip()),
    )


def _secret_like(env: Mapping[str, str]) -> set[str]:
    """Variables that look secret even when no configuration names them."""
    markers = ("TOKEN", "PASSWORD", "SECRET", "WEBHOOK", "API_KEY")
    return {
        name for name in env if any(m in name.upper() for m in markers) and name != SECRETS_FILE_ENV
    }


def library_and_roles(
    project_root: Path, shipped_library: Path, shipped_roles: Path
) -> tuple[tuple[Path, ...], tuple[Path, ...]]:
    """The project's own library/ and roles/ first, then the shipped ones."""

    def ordered(paths: Sequence[Path]) -> tuple[Path, ...]:
        unique: list[Path] = []
        for path in paths:
            if path.is_dir() and path.resolve() not in unique:
                unique.append(path.resolve())
        return tuple(unique)

    return (
        ordered([project_root / "library", shipped_library]),
        ordered([project_root / "roles", shipped_roles]),
    )
