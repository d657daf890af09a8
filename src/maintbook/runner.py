"""The ansible-runner adapter: explicit parameters in, RunResult out, events to a callback.

This is the only module that imports ansible_runner. What it adds around it:
- secrets the configuration names (`*_env`) are taken out of the Ansible process environment
  (ansible-runner writes that environment into its artifacts); the plugins ask the run's
  `SecretServer` for them instead;
- the run's own extra variables go in through a YAML file where every value is `!unsafe`, so
  an operator name or a `--reason` is text, never a template;
- `cancel()` stops the playbook at once (ansible-runner kills its process group), and the
  playbook watches its supervisor: if `maintbook run` dies, so does the playbook.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from maintbook.emit import Unsafe, emit_data
from maintbook.process import kill_tree
from maintbook.secrets import SOCKET_ENV

Event = dict[str, Any]
SUPERVISOR_ENV = "MAINTBOOK_SUPERVISOR_PID"

# The tuned transport (issue 14): what Ansible's defaults leave slow over SSH. Each setting as
# (ansible.cfg section, key, environment variable, value); `maintbook run` sets the variables,
# `maintbook compile -o`/`export` write the same settings into ansible.cfg.
TRANSPORT = (
    ("defaults", "gathering", "ANSIBLE_GATHERING", "explicit"),  # facts only when asked for
    ("ssh_connection", "pipelining", "ANSIBLE_PIPELINING", "True"),  # no temp files per task
    ("ssh_connection", "ssh_args", "ANSIBLE_SSH_ARGS",  # one connection per host, reused
     "-o ControlMaster=auto -o ControlPersist=60s"),
)
DEFAULT_FORKS = 5  # Ansible's own default
MAX_FORKS = 50


def batch_forks(serial: int | str | None) -> int | None:
    """Forks sized to a rolling run's batch, so a whole batch runs at once (never fewer than
    Ansible's default, at most MAX_FORKS); None leaves Ansible's default. A percentage needs
    the inventory's size, which is Ansible's to know: it keeps the default."""
    if isinstance(serial, int) and not isinstance(serial, bool):
        return min(MAX_FORKS, max(DEFAULT_FORKS, serial))
    return None


@dataclass(frozen=True)
class PluginPaths:
    """Where Ansible finds maintbook's modules, plugins and roles (project's first)."""

    library: tuple[Path, ...]
    action: tuple[Path, ...]
    lookup: tuple[Path, ...]
    callback: tuple[Path, ...]
    roles: tuple[Path, ...]


@dataclass(frozen=True)
class RunRequest:
    """Everything one playbook run needs, spelled out."""

    playbook: Path
    inventory: Path
    artifact_dir: Path
    paths: PluginPaths
    extravars: Mapping[str, Any]  # maintbook's own: every string goes in as literal text
    user_vars: Mapping[str, str] = field(default_factory=dict)  # -e K=V, templated as usual
    secret_names: tuple[str, ...] = ()
    secrets_socket: str | None = None
    check: bool = False
    forks: int | None = None


@dataclass
class RunResult:
    """How the playbook ended. Its events went to the callback as they came; none is kept
    here (maintbook.trace folds what a run needs of them)."""

    status: str
    rc: int
    output_tail: str = ""
    cancelled: bool = False


def _join(paths: Sequence[Path]) -> str:
    return os.pathsep.join(str(p) for p in paths)


def ansible_env(request: RunRequest) -> dict[str, str]:
    """The tuned settings of SPEC §14 / issue 14: no fact gathering, pipelining over SSH,
    connection reuse, and maintbook's plugin paths."""
    paths = request.paths
    env = {
        "ANSIBLE_LIBRARY": _join(paths.library),
        "ANSIBLE_ACTION_PLUGINS": _join(paths.action),
        "ANSIBLE_LOOKUP_PLUGINS": _join(paths.lookup),
        "ANSIBLE_CALLBACK_PLUGINS": _join(paths.callback),
        "ANSIBLE_CALLBACKS_ENABLED": "maintbook_supervisor",
        "ANSIBLE_ROLES_PATH": _join(paths.roles),
        "ANSIBLE_RETRY_FILES_ENABLED": "false",
        "ANSIBLE_NOCOLOR": "true",
        "ANSIBLE_DEPRECATION_WARNINGS": "false",
        **{variable: value for _, _, variable, value in TRANSPORT},
        "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""),
        SUPERVISOR_ENV: str(os.getpid()),
    }
    if request.forks:
        env["ANSIBLE_FORKS"] = str(request.forks)
    if request.secrets_socket:
        env[SOCKET_ENV] = request.secrets_socket
    return env


def _secret_like(env: Mapping[str, str]) -> set[str]:
    """Variables that look secret even when no configuration names them."""
    markers = ("TOKEN", "PASSWORD", "SECRET", "WEBHOOK", "API_KEY")
    return {name for name in env
            if any(m in name.upper() for m in markers) and name != SOCKET_ENV}


def _extravars_file(request: RunRequest, folder: Path) -> Path:
    """maintbook's own variables as literal text (`!unsafe`), the operator's -e as given."""
    path = folder / "extravars.yml"
    values: dict[str, Any] = dict(request.user_vars)
    values.update({k: _literal(v) for k, v in request.extravars.items()})
    path.write_text(emit_data(values), encoding="utf-8")
    return path


def _literal(value: Any) -> Any:
    if isinstance(value, str):
        return Unsafe(value)
    if isinstance(value, dict):
        return {k: _literal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_literal(v) for v in value]
    return value


def run_playbook(request: RunRequest, on_event: Callable[[Event], None],
                 cancel: Callable[[], bool] = lambda: False) -> RunResult:
    """Run one playbook; every event goes to `on_event` as it happens; `cancel()` returning
    true stops it at once."""
    import ansible_runner

    cancelled = False

    def handle(event: Event) -> bool:
        on_event(event)
        return True

    def should_cancel() -> bool:
        nonlocal cancelled
        if not cancelled and cancel():
            cancelled = True
            # The running task's processes first: ansible-runner kills only the playbook's
            # process group, and a module's command may have a session of its own.
            kill_tree(os.getpid(), include_root=False)
        return cancelled

    with tempfile.TemporaryDirectory(prefix="maintbook-ansible-") as private:
        data = Path(private)
        (data / "data").mkdir()
        cmdline = ["-e", f"@{_extravars_file(request, data)}"]
        if request.check:
            cmdline.append("--check")
        runner = ansible_runner.interface.init_runner(
            private_data_dir=str(data / "data"),
            artifact_dir=str(request.artifact_dir),
            playbook=str(request.playbook),
            inventory=str(request.inventory),
            envvars=ansible_env(request),
            cmdline=" ".join(cmdline),
            event_handler=handle,
            cancel_callback=should_cancel,
            settings={"pexpect_timeout": 0.5},
            quiet=True,
            suppress_env_files=True,
            ident="ansible",
        )
        for name in set(request.secret_names) | _secret_like(runner.config.env):
            runner.config.env.pop(name, None)
        runner.run()
    stdout = request.artifact_dir / "ansible" / "stdout"
    lines = stdout.read_text(encoding="utf-8", errors="replace").splitlines() \
        if stdout.exists() else []
    return RunResult(
        status=str(runner.status),
        rc=int(runner.rc or 0),
        output_tail="\n".join(line for line in lines[-15:] if line.strip()),
        cancelled=cancelled,
    )


def plugin_paths(project_root: Path, shipped: Callable[[str], Path]) -> PluginPaths:
    """The project's own folders first, then the shipped ones."""

    def ordered(name: str) -> tuple[Path, ...]:
        unique: list[Path] = []
        for path in (project_root / name, shipped(name)):
            if path.is_dir() and path.resolve() not in unique:
                unique.append(path.resolve())
        return tuple(unique)

    return PluginPaths(ordered("library"), ordered("action_plugins"), ordered("lookup_plugins"),
                       ordered("callback_plugins"), ordered("roles"))
