"""`maintbook run --remote WORKER`: the playbook runs on another machine (docs/remote.md).

WORKER is an SSH destination (`host`, `user@host`, `ssh://user@host:port` or a Host of the
SSH configuration, `--ssh-config FILE`). maintbook reaches it with the system's `ssh` in
batch mode and starts `ansible-runner worker` there; `maintbook.runner` streams the job to it
(`ansible-runner transmit`) and reads the events back (`ansible-runner process`).

What the worker must have, checked by `check_worker` before any run opens:
- `ansible-runner` on its PATH, and maintbook installed at the same path as here (the
  lifecycle's action plugins are loaded from it);
- this project at the same path, byte for byte (a shared checkout): the playbook finds its
  project from its own place, and the lifecycle plugins read maintbook.yml and write the
  status page and outboxes there;
- the same state database: a `postgresql://` state the worker reaches, or a SQLite file on
  the same disk (the same device and inode: one machine, e.g. a network namespace or a
  container with the project mounted). SQLite over a network file system is refused.

Secrets never travel in the job: the run's secret server is forwarded to the worker over the
SSH connection (`ssh -R`, a fresh socket path, 0600, removed when the worker ends), and the
names of the configured secrets are unset from the worker's own environment, which
ansible-runner would otherwise write into its artifacts. The worker's playbook watches its
SSH session: when the connection ends, the playbook stops, as a local one does when
`maintbook run` dies.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shlex
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from maintbook.errors import MaintbookError

SUPERVISOR_ENV = "MAINTBOOK_SUPERVISOR_PID"
PROBE_TIMEOUT = 60


class WorkerError(MaintbookError):
    """The worker cannot run this project's playbook; nothing was started (exit 2)."""


@dataclass(frozen=True)
class Worker:
    """An SSH destination that runs `ansible-runner worker`."""

    destination: str
    ssh_config: Path | None = None

    def __post_init__(self) -> None:
        if not self.destination or self.destination.startswith("-") \
                or any(c.isspace() for c in self.destination):
            raise WorkerError(f"--remote {self.destination!r}: give an SSH destination "
                              "(host, user@host or ssh://user@host:port)")
        if self.ssh_config is not None and not self.ssh_config.is_file():
            raise WorkerError(f"--ssh-config {self.ssh_config}: no such file")

    def ssh(self, options: Sequence[str], command: str) -> list[str]:
        """The ssh command line that runs `command` (one shell line) on the worker."""
        config = ["-F", str(self.ssh_config)] if self.ssh_config else []
        return ["ssh", "-T", "-o", "BatchMode=yes", "-o", "ConnectTimeout=10",
                "-o", "ServerAliveInterval=15", "-o", "ServerAliveCountMax=4",
                *config, *options, "--", self.destination, command]


def socket_path() -> str:
    """A fresh path on the worker for the forwarded secret server."""
    return f"/tmp/maintbook-secrets-{secrets.token_hex(8)}.sock"


def forwarding(remote_socket: str, local_socket: str) -> list[str]:
    """ssh options that serve the local secret server at `remote_socket` on the worker."""
    return ["-o", "ExitOnForwardFailure=yes", "-R", f"{remote_socket}:{local_socket}"]


def worker_command(remote_socket: str | None, unset: Sequence[str]) -> str:
    """`ansible-runner worker`, watching its SSH session, without the secrets' names in its
    environment, removing the forwarded socket when it ends."""
    words = ["env", *(f"-u {shlex.quote(n)}" for n in sorted(set(unset))),
             f"{SUPERVISOR_ENV}=$PPID", "ansible-runner", "worker", "--delete"]
    if remote_socket is None:
        return " ".join(words)
    return f"trap {shlex.quote('rm -f ' + shlex.quote(remote_socket))} EXIT; " + " ".join(words)


# ---------------------------------------------------------------- the check before a run


@dataclass(frozen=True)
class Expected:
    """What the worker must see as this machine does."""

    playbook: Path
    plugins: Path  # maintbook's shipped action plugins
    state_file: Path | None  # a SQLite state database, None for PostgreSQL


def _identity(path: Path) -> str:
    found = os.stat(path)
    return f"{found.st_dev}:{found.st_ino}"


def probe_script(expected: Expected) -> str:
    """One shell line that reports what the worker has, as `key=value` lines."""
    lines = [
        "command -v ansible-runner >/dev/null 2>&1 && echo runner=yes",
        f"test -d {shlex.quote(str(expected.plugins))} && echo maintbook=yes",
        f"echo playbook=$(sha256sum < {shlex.quote(str(expected.playbook))} 2>/dev/null "
        "| cut -d' ' -f1)",
    ]
    if expected.state_file is not None:
        lines.append(f"echo state=$(stat -c %d:%i {shlex.quote(str(expected.state_file))}"
                     " 2>/dev/null)")
    return "; ".join(lines) + "; true"


def _answers(text: str) -> dict[str, str]:
    return dict(line.partition("=")[::2] for line in text.splitlines() if "=" in line)


def problems(worker: Worker, expected: Expected, answers: dict[str, str]) -> list[str]:
    """Everything the worker lacks, each with what would fix it."""
    name, found = worker.destination, []
    if answers.get("runner") != "yes":
        found.append(f"worker {name} has no ansible-runner on its PATH (install ansible-runner "
                     "and maintbook there)")
    if answers.get("maintbook") != "yes":
        found.append(f"worker {name} has no maintbook at {expected.plugins.parent} (the worker "
                     "loads the lifecycle plugins from the same installation path)")
    digest = hashlib.sha256(expected.playbook.read_bytes()).hexdigest()
    if answers.get("playbook") != digest:
        found.append(f"worker {name} does not see this project's playbook at "
                     f"{expected.playbook} (the worker reads the project from the same path)")
    if expected.state_file is not None and answers.get("state") != _identity(
            expected.state_file):
        found.append(f"worker {name} does not see the state database {expected.state_file} on "
                     "the same disk (a worker on another machine needs state: postgresql://…)")
    return found


def check_worker(worker: Worker, expected: Expected) -> None:
    """Raise WorkerError, naming every problem, unless the worker can run the playbook."""
    try:
        done = subprocess.run(worker.ssh([], probe_script(expected)), capture_output=True,
                              text=True, timeout=PROBE_TIMEOUT, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise WorkerError(f"worker {worker.destination} did not answer within "
                          f"{PROBE_TIMEOUT} s; no run was opened") from None
    except OSError as exc:
        raise WorkerError(f"cannot start ssh for worker {worker.destination}: {exc}") from None
    if done.returncode == 255:
        reason = done.stderr.strip().splitlines()[-1:] or ["ssh failed"]
        raise WorkerError(f"worker {worker.destination} is unreachable: {reason[0]}; "
                          "no run was opened")
    found = problems(worker, expected, _answers(done.stdout))
    if found:
        raise WorkerError("; ".join(found) + "; no run was opened")
