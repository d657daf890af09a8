"""The ansible-runner adapter: explicit parameters in, RunResult out, events to a callback.

This is the only module that imports ansible_runner. What it adds around it:
- secrets the configuration names (`*_env`) are taken out of the Ansible process environment
  (ansible-runner writes that environment into its artifacts); the plugins ask the run's
  `SecretServer` for them instead;
- the run's own extra variables go in through a YAML file where every value is `!unsafe`, so
  an operator name or a `--reason` is text, never a template;
- `cancel()` stops the playbook at once (ansible-runner kills its process group), and the
  playbook watches its supervisor: if `maintbook run` dies, so does the playbook;
- with a `Worker` (`maintbook run --remote`), the job goes to `ansible-runner worker` over
  SSH (`transmit`) and its events and artifacts come back (`process`) into the same
  artifact folder, through the same event callback (maintbook.remote says what the worker
  needs and how secrets reach it).
"""

from __future__ import annotations

import json
import os
import pwd
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from maintbook import remote
from maintbook.emit import Unsafe, emit_data
from maintbook.process import kill_tree
from maintbook.remote import SUPERVISOR_ENV, Worker
from maintbook.secrets import SOCKET_ENV

Event = dict[str, Any]
IDENT = "ansible"  # the artifacts of a run are in artifact_dir/IDENT
SETTINGS = {"pexpect_timeout": 0.5}

# The tuned transport (issue 14): what Ansible's defaults leave slow over SSH. Each setting as
# (ansible.cfg section, key, environment variable, value); `maintbook run` sets the variables,
# `maintbook compile -o`/`export` write the same settings into ansible.cfg. A variable means
# exactly what its key does: pipelining is the SSH plugin's own (ANSIBLE_SSH_PIPELINING, not
# ANSIBLE_PIPELINING, which turns it on for every connection: on `local` it made each task
# about 25 ms slower, measured with bench/run_overhead.py's playbook).
TRANSPORT = (
    ("defaults", "gathering", "ANSIBLE_GATHERING", "explicit"),  # facts only when asked for
    ("ssh_connection", "pipelining", "ANSIBLE_SSH_PIPELINING", "True"),  # no temp files per task
    ("ssh_connection", "ssh_args", "ANSIBLE_SSH_ARGS",  # one connection per host, reused
     "-o ControlMaster=auto -o ControlPersist=60s"),
)
DEFAULT_FORKS = 5  # Ansible's own default
MAX_FORKS = 50


def batch_forks(serial: int | str | None) -> int | None:
    """Forks sized to a rolling run's batch, so a whole batch runs at once (never fewer than
    Ansible's default, at most MAX_FORKS); None leaves Ansible's default. A percentage's
    batch size is Ansible's to know (it counts the inventory): it gets MAX_FORKS, which costs
    nothing beyond the batch, as Ansible starts one worker per host of the batch at most."""
    if isinstance(serial, int) and not isinstance(serial, bool):
        return min(MAX_FORKS, max(DEFAULT_FORKS, serial))
    if isinstance(serial, str) and serial.endswith("%"):
        return MAX_FORKS
    return None


# Where Ansible finds each of maintbook's folders: (folder, its key in ansible.cfg's
# [defaults], its environment variable). `maintbook run` sets the variables; `compile -o` and
# `export` write the keys (build.ansible_cfg); `export` copies the folders.
PLUGIN_FOLDERS = (
    ("library", "library", "ANSIBLE_LIBRARY"),
    ("action_plugins", "action_plugins", "ANSIBLE_ACTION_PLUGINS"),
    ("lookup_plugins", "lookup_plugins", "ANSIBLE_LOOKUP_PLUGINS"),
    ("callback_plugins", "callback_plugins", "ANSIBLE_CALLBACK_PLUGINS"),
    ("doc_fragments", "doc_fragment_plugins", "ANSIBLE_DOC_FRAGMENT_PLUGINS"),
    ("roles", "roles_path", "ANSIBLE_ROLES_PATH"),
)


@dataclass(frozen=True)
class PluginPaths:
    """Where Ansible finds maintbook's modules, plugins, documentation fragments and roles:
    for each folder of PLUGIN_FOLDERS, the project's own first, then the shipped one."""

    folders: Mapping[str, tuple[Path, ...]]

    def __getitem__(self, folder: str) -> tuple[Path, ...]:
        return self.folders[folder]


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
    worker: Worker | None = None  # run on this worker (`--remote`), else here


@dataclass
class RunResult:
    """How the playbook ended. Its events went to the callback as they came; none is kept
    here (maintbook.trace folds what a run needs of them)."""

    status: str
    rc: int
    output_tail: str = ""
    cancelled: bool = False
    problem: str = ""  # why a worker's stream ended early (the connection, the worker)


def _join(paths: Sequence[Path]) -> str:
    return os.pathsep.join(str(p) for p in paths)


def ansible_env(request: RunRequest) -> dict[str, str]:
    """The settings of a local run: `ansible_settings`, this Python's tools first on the PATH,
    the account it runs as, the supervisor and the secret server."""
    env = {
        **ansible_settings(request),
        **account(),
        "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""),
        SUPERVISOR_ENV: str(os.getpid()),
    }
    if request.secrets_socket:
        env[SOCKET_ENV] = request.secrets_socket
    return env


def account() -> dict[str, str]:
    """USER and LOGNAME as the account this process runs as, not as the environment claims.
    Ansible's `local` connection takes its user from them and writes it, unquoted, into the
    shell command that makes its temporary folder (`~USER/.ansible/tmp`): a claimed name
    with shell syntax in it failed every local step that needs one (every step, now that
    pipelining is for SSH only). The operator's name in the record is still the one claimed."""
    try:
        name = pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:  # an account with no entry (a container's arbitrary uid)
        return {}
    return {"USER": name, "LOGNAME": name}


def ansible_settings(request: RunRequest) -> dict[str, str]:
    """The tuned settings of SPEC §14 / issue 14: no fact gathering, pipelining over SSH,
    connection reuse, and maintbook's plugin paths."""
    paths = request.paths
    env = {
        **{variable: _join(paths[folder]) for folder, _, variable in PLUGIN_FOLDERS},
        "ANSIBLE_CALLBACKS_ENABLED": "maintbook_supervisor",
        "ANSIBLE_RETRY_FILES_ENABLED": "false",
        "ANSIBLE_NOCOLOR": "true",
        "ANSIBLE_DEPRECATION_WARNINGS": "false",
        **{variable: value for _, _, variable, value in TRANSPORT},
    }
    if request.forks:
        env["ANSIBLE_FORKS"] = str(request.forks)
    return env


def _secret_like(env: Mapping[str, str]) -> set[str]:
    """Variables that look secret even when no configuration names them."""
    markers = ("TOKEN", "PASSWORD", "SECRET", "WEBHOOK", "API_KEY")
    return {name for name in env
            if any(m in name.upper() for m in markers) and name != SOCKET_ENV}


def _private_dir(request: RunRequest, folder: Path) -> Path:
    """ansible-runner's private data directory: only the extra variables, in `env/extravars`
    (ansible-runner passes them as `-e @file`; a worker receives them with the job)."""
    data = folder / "data"
    (data / "env").mkdir(parents=True)
    _extravars_file(request, data / "env" / "extravars")
    return data


def _extravars_file(request: RunRequest, path: Path) -> Path:
    """maintbook's own variables as literal text (`!unsafe`), the operator's -e as given."""
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
    """Run one playbook, here or on its worker; every event goes to `on_event` as it happens;
    `cancel()` returning true stops it at once."""
    cancelled = False

    def handle(event: Event) -> bool:
        on_event(event)
        return True

    def should_cancel() -> bool:
        nonlocal cancelled
        if not cancelled and cancel():
            cancelled = True
            # The running task's processes first: ansible-runner kills only the playbook's
            # process group, and a module's command may have a session of its own. On a
            # worker, this ends the SSH connection, and the worker's playbook with it.
            kill_tree(os.getpid(), include_root=False)
        return cancelled

    with tempfile.TemporaryDirectory(prefix="maintbook-ansible-") as private:
        data = _private_dir(request, Path(private))
        if request.worker is None:
            status, rc, problem = _run_here(request, data, handle, should_cancel)
        else:
            status, rc, problem = _run_on_worker(request, request.worker, data, handle,
                                                 should_cancel)
    stdout = request.artifact_dir / IDENT / "stdout"
    lines = stdout.read_text(encoding="utf-8", errors="replace").splitlines() \
        if stdout.exists() else []
    lines += problem.splitlines()
    return RunResult(
        status=status,
        rc=rc,
        output_tail="\n".join(line for line in lines[-15:] if line.strip()),
        cancelled=cancelled,
        problem=problem,
    )


Outcome = tuple[str, int, str]  # ansible-runner's status, the playbook's rc, a problem


def _run_here(request: RunRequest, data: Path, handle: Callable[[Event], bool],
              should_cancel: Callable[[], bool]) -> Outcome:
    import ansible_runner

    runner = ansible_runner.interface.init_runner(
        private_data_dir=str(data),
        artifact_dir=str(request.artifact_dir),
        playbook=str(request.playbook),
        inventory=str(request.inventory),
        envvars=ansible_env(request),
        cmdline="--check" if request.check else None,
        event_handler=handle,
        cancel_callback=should_cancel,
        settings=SETTINGS,
        quiet=True,
        suppress_env_files=True,
        ident=IDENT,
    )
    for name in set(request.secret_names) | _secret_like(runner.config.env):
        runner.config.env.pop(name, None)
    runner.run()
    return str(runner.status), int(runner.rc or 0), ""


def _worker_env(request: RunRequest, remote_socket: str | None) -> dict[str, str]:
    """A worker's settings: no PATH or supervisor of this machine; the forwarded socket."""
    env = ansible_settings(request)
    if remote_socket:
        env[SOCKET_ENV] = remote_socket
    return env


def _run_on_worker(request: RunRequest, worker: Worker, data: Path,
                   handle: Callable[[Event], bool], should_cancel: Callable[[], bool]
                   ) -> Outcome:
    """transmit | ssh WORKER ansible-runner worker | process, into the same artifacts."""
    import ansible_runner

    remote_socket = remote.socket_path() if request.secrets_socket else None
    options = remote.forwarding(remote_socket, request.secrets_socket) \
        if remote_socket and request.secrets_socket else []
    command = worker.ssh(options, remote.worker_command(remote_socket, request.secret_names))
    artifacts = request.artifact_dir / IDENT
    with tempfile.TemporaryFile() as errors, subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errors) as ssh:
        assert ssh.stdin is not None and ssh.stdout is not None
        try:
            ansible_runner.run(
                streamer="transmit", _output=ssh.stdin, private_data_dir=str(data),
                playbook=str(request.playbook), inventory=str(request.inventory),
                envvars=_worker_env(request, remote_socket),
                cmdline="--check" if request.check else None, settings=SETTINGS,
                quiet=True, suppress_env_files=True, ident=IDENT,
                cancel_callback=should_cancel)
            ssh.stdin.close()
        except OSError:
            pass  # the worker went away: `process` reads why
        with _watching(ssh, should_cancel):
            processor = ansible_runner.run(
                streamer="process", _input=ssh.stdout, private_data_dir=str(data),
                artifact_dir=str(artifacts), event_handler=handle,
                cancel_callback=should_cancel, quiet=True)
        code = ssh.wait()
        errors.seek(0)
        said = errors.read().decode(errors="replace").strip()
    _scrub_command(artifacts / "command", request.secret_names)
    return _worker_outcome(str(processor.status), artifacts, code, said, worker)


def _scrub_command(path: Path, names: Sequence[str]) -> None:
    """The worker's `command` artifact holds its environment: keep no secret-like variable
    (the configured ones were unset on the worker already)."""
    if not path.exists():
        return
    try:
        command = json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        path.unlink()
        return
    env = command.get("env") if isinstance(command, dict) else None
    if isinstance(env, dict):
        for name in set(names) | _secret_like(env):
            env.pop(name, None)
        path.write_text(json.dumps(command), encoding="utf-8")


@contextmanager
def _watching(ssh: subprocess.Popen[bytes], should_cancel: Callable[[], bool]
              ) -> Iterator[None]:
    """Ask `should_cancel` twice a second while the worker runs (`process` never asks)."""
    done = threading.Event()

    def watch() -> None:
        while not done.wait(SETTINGS["pexpect_timeout"]) and ssh.poll() is None:
            if should_cancel():
                ssh.kill()

    thread = threading.Thread(target=watch, daemon=True, name="worker-cancel")
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join(timeout=5)


def _worker_outcome(status: str, artifacts: Path, code: int, said: str,
                    worker: Worker) -> Outcome:
    rc_file = artifacts / "rc"
    text = rc_file.read_text().strip() if rc_file.exists() else ""
    rc = int(text) if text.lstrip("-").isdigit() else (0 if status == "successful" else 1)
    if code == 0:
        return status, rc, ""
    problem = f"worker {worker.destination}: ssh ended with exit code {code}" \
        + (f": {said.splitlines()[-1]}" if said else "")
    return ("error" if status == "successful" else status), rc or 1, problem


def plugin_paths(project_root: Path, shipped: Callable[[str], Path]) -> PluginPaths:
    """The project's own folders first, then the shipped ones."""

    def ordered(name: str) -> tuple[Path, ...]:
        unique: list[Path] = []
        for path in (project_root / name, shipped(name)):
            if path.is_dir() and path.resolve() not in unique:
                unique.append(path.resolve())
        return tuple(unique)

    return PluginPaths({folder: ordered(folder) for folder, _, _ in PLUGIN_FOLDERS})
