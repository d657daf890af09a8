"""`maintbook run --remote WORKER`: the playbook runs on a worker in a network namespace.

Three namespace hosts (tests/support/netns.py): `worker`, and the targets `t1`, `t2` (group
web). The worker reaches the targets over veth links of its own (the machine does not
forward between namespaces), at the same addresses as this machine does, so one inventory
serves a local and a remote run. The worker's sshd on port 2222 puts this virtualenv on the
PATH (the worker shares the file system: same project path, same installation), behind an
`ansible-runner` that keeps a copy of every job it receives: what was transmitted.

The same runbook runs locally in one project and remotely in another; the records, reports
and state rows must be the same apart from times, ids and paths.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import io
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from ansible_runner.utils.streaming import unstream_dir
from click.testing import CliRunner, Result

from maintbook.cli import main
from tests.support import netns
from tests.support.slack_receiver import slack_receiver

pytestmark = pytest.mark.integration

VENV_BIN = Path(sys.executable).parent
PREFIX = f"mbw{os.getpid() % 10000}"
WORKER_PORT, BLIND_PORT = 2222, 2223
HOOK_TOKEN = "hook-token-5d9e0a7c"
HOOK_SECRET = "hmac-secret-41be93"
WORKER_TOKEN, WORKER_SECRET = "worker-own-token-0a1b", "worker-own-secret-9f8e"  # its env
SECRETS = (HOOK_TOKEN, HOOK_SECRET, WORKER_TOKEN, WORKER_SECRET)
TIMES = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")
RUN_IDS = re.compile(r"MNT-2026-0101-\d{8}T\d+Z|\d{8}T\d{6}\d*Z")
SOCKET = re.compile(r"/tmp/maintbook-secrets-[0-9a-f]+\.sock")
DURATIONS = re.compile(r"\((\d+h ?)?(\d+m ?)?(\d+s)?\)")
FORCED = ("--force-window", "--reason", "outside the weekly window: a test")
HOLDER = {"pid", "pid_start", "hostname", "playbook_pid"}  # who held the lease, where


@dataclass
class Fleet:
    root: Path
    worker: netns.SSHHost
    targets: list[netns.SSHHost]
    ssh_config: Path
    captured: Path  # every job the worker's ansible-runner received

    def inventory(self) -> str:
        hosts = {t.name: t.inventory_vars() for t in self.targets}
        return json.dumps({"all": {"children": {"web": {"hosts": hosts}}}})


def _ip(*argv: str) -> None:
    subprocess.run(["ip", *argv], check=True, capture_output=True)


def _link(worker: netns.SSHHost, target: netns.SSHHost, index: int) -> None:
    """A veth between the worker and a target: each reaches the other's own address."""
    near, far = f"{PREFIX}w{index}", f"{PREFIX}t{index}"
    _ip("link", "add", near, "type", "veth", "peer", "name", far)
    _ip("link", "set", near, "netns", worker.namespace)
    _ip("link", "set", far, "netns", target.namespace)
    for namespace, device, peer in ((worker.namespace, near, target.address),
                                    (target.namespace, far, worker.address)):
        _ip("netns", "exec", namespace, "ip", "link", "set", device, "up")
        _ip("netns", "exec", namespace, "ip", "route", "add", f"{peer}/32", "dev", device)


def _runner_that_keeps_jobs(folder: Path, captured: Path) -> Path:
    """A bin folder whose ansible-runner copies its standard input (the job) to `captured`."""
    bin_dir = folder / "bin"
    bin_dir.mkdir()
    script = bin_dir / "ansible-runner"
    script.write_text(
        "#!/bin/sh\n"
        f'if [ "$1" = worker ]; then tee -a {captured} | {VENV_BIN}/ansible-runner "$@"; '
        "exit $?; fi\n"
        f'exec {VENV_BIN}/ansible-runner "$@"\n'
    )
    script.chmod(0o755)
    return bin_dir


def _worker_sshd(state: Path, worker: netns.SSHHost, bin_dir: Path, port: int,
                 hidden: Path | None = None) -> None:
    """The worker's sshd on `port`; with `hidden`, it sees an empty folder there (a mount
    namespace of its own), as a machine without this project would."""
    config = state / f"sshd-worker-{port}.conf"
    base = (state / f"sshd-{worker.namespace}.conf").read_text()
    config.write_text(
        base.replace("Port 22\n", f"Port {port}\n").replace(
            f"sshd-{worker.namespace}.pid", f"sshd-worker-{port}.pid")
        + f"SetEnv PATH={bin_dir}:{VENV_BIN}:/usr/bin:/bin "
        f"ANSIBLE_SSH_CONTROL_PATH_DIR={state}/cp-worker "
        f"DEPLOY_TOKEN={WORKER_TOKEN} AUDIT_SECRET={WORKER_SECRET}\n"
    )
    start = f"exec /usr/sbin/sshd -f {config}"
    if hidden is not None:
        hidden.mkdir()
        start = f"mount -t tmpfs none {hidden} && {start}"
    _ip("netns", "exec", worker.namespace, "unshare", "--mount", "--propagation", "private",
        "sh", "-c", start)
    netns._wait_for_port(worker.address, port)


def _ssh_config(path: Path, worker: netns.SSHHost) -> None:
    common = (f"  HostName {worker.address}\n  User root\n  IdentityFile {worker.key}\n"
              "  StrictHostKeyChecking no\n  UserKnownHostsFile /dev/null\n  LogLevel ERROR\n")
    path.write_text(
        f"Host worker\n  Port {WORKER_PORT}\n{common}"
        f"Host bare\n  Port 22\n{common}"  # the machine's PATH: no ansible-runner
        f"Host gone\n  Port 9\n{common}"  # nothing listens
        f"Host blind\n  Port {BLIND_PORT}\n{common}"  # sees no project under hidden/
    )


@pytest.fixture(scope="module")
def fleet() -> Iterator[Fleet]:
    with tempfile.TemporaryDirectory(prefix="mb-remote-") as temp:
        root = Path(temp)
        state = root / "netns"
        try:
            worker, *targets = netns.up(PREFIX, 3, state, names=["worker", "t1", "t2"])
            for index, target in enumerate(targets, start=1):
                _link(worker, target, index)
            captured = root / "transmitted"
            bin_dir = _runner_that_keeps_jobs(root, captured)
            _worker_sshd(state, worker, bin_dir, WORKER_PORT)
            _worker_sshd(state, worker, bin_dir, BLIND_PORT, root / "hidden")
            _ssh_config(root / "ssh_config", worker)
            yield Fleet(root, worker, targets, root / "ssh_config", captured)
        finally:
            netns.down(PREFIX, state)


# ---------------------------------------------------------------- projects


def _runbook(marks: Path) -> str:
    start = (datetime.now(UTC) - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"""\
runbook: 1
id: MNT-2026-0101
title: Patch the web tier
owner: sre-team
type: brief-interruption
systems: [web]
window: {{start: "{start}", duration: 2h}}
approvals: [{{role: engineering-manager, by: dana}}]
targets: {{hosts: web}}
notify: [outbox, audit]
steps:
  - name: Note where the step came from
    command: "sh -c 'echo $SSH_CONNECTION >> {marks}/{{{{ inventory_hostname }}}}'"
  - name: Check the host is up
    command: "true"
"""


AUDIT = ("channels:\n"
         "  audit: {type: webhook, url_env: AUDIT_WEBHOOK_URL, secret_env: AUDIT_SECRET}\n")


def _project(fleet: Fleet, name: str, runbook: str, channels: str = AUDIT) -> Path:
    root = fleet.root / name
    (root / "runbooks").mkdir(parents=True)
    (root / "maintbook.yml").write_text(
        "policy:\n  blackouts: []\n  types:\n    brief-interruption: {notice: 0}\n" + channels
    )
    (root / "inventory.json").write_text(fleet.inventory())
    (root / "runbooks" / "rb.yml").write_text(runbook)
    return root


def _run(root: Path, *extra: str) -> Result:
    old = Path.cwd()
    os.chdir(root)
    try:
        return CliRunner().invoke(main, ["run", "runbooks/rb.yml", "-i", "inventory.json",
                                         *extra], catch_exceptions=False)
    finally:
        os.chdir(old)


def _folder(root: Path) -> Path:
    return sorted((root / ".maintbook/runs/MNT-2026-0101").iterdir())[-1]


def _plain(text: str, root: Path) -> str:
    text = text.replace(str(root), "<root>")
    return DURATIONS.sub("(<d>)", RUN_IDS.sub("<run>", TIMES.sub("<time>", text)))


def _same(value: Any, root: Path) -> Any:
    """`value` with times, run ids and the project's path made the same for every run."""
    if isinstance(value, dict):
        return {k: _same(v, root) for k, v in value.items()}
    if isinstance(value, list):
        return [_same(v, root) for v in value]
    return _plain(value, root) if isinstance(value, str) else value


def _report(root: Path) -> list[str]:
    """report.md's lines, the same for every run of this runbook (step rows in any order)."""
    return sorted(_plain((_folder(root) / "report.md").read_text(), root).splitlines())


def _rows(root: Path) -> dict[str, list[dict[str, Any]]]:
    tables = ("maintenances", "runs", "notices", "transitions", "leases")
    with contextlib.closing(sqlite3.connect(root / ".maintbook/state.db")) as db:
        found = {}
        for table in tables:
            cursor = db.execute(f"SELECT * FROM {table} ORDER BY 1")  # noqa: S608
            names = [d[0] for d in cursor.description]
            found[table] = [{n: v for n, v in zip(names, row, strict=True) if n not in HOLDER}
                            for row in cursor.fetchall()]
    return _same(found, root)


def _transmitted(captured: Path, into: Path) -> list[str]:
    """The texts of every job the worker received: the job's arguments and its files."""
    stream, texts = io.BytesIO(captured.read_bytes()), []
    while line := stream.readline():
        header = json.loads(line)
        if "zipfile" in header:
            folder = into / f"job{len(texts)}"
            unstream_dir(stream, header["zipfile"], str(folder))  # type: ignore[arg-type]
            texts += [f.read_text(errors="replace") for f in folder.rglob("*") if f.is_file()]
        else:
            texts.append(line.decode())
    return texts


# ---------------------------------------------------------------- tests


def test_a_remote_run_gives_the_record_of_a_local_run(fleet, monkeypatch, tmp_path):
    with slack_receiver(host=fleet.worker.address.rsplit(".", 1)[0] + ".1") as (url, box):
        hook = f"{url}/hook/{HOOK_TOKEN}"
        monkeypatch.setenv("AUDIT_WEBHOOK_URL", hook)
        monkeypatch.setenv("AUDIT_SECRET", HOOK_SECRET)
        marks = fleet.root / "marks"
        marks.mkdir()
        runbook = _runbook(marks)
        here = _project(fleet, "here", runbook)
        there = _project(fleet, "there", runbook)

        began = time.monotonic()
        local = _run(here, *FORCED)
        assert local.exit_code == 0, local.output
        from_here = {t.name: (marks / t.name).read_text() for t in fleet.targets}
        fleet.captured.unlink(missing_ok=True)
        middle = time.monotonic()
        remote = _run(there, *FORCED, "--remote", "worker", "--ssh-config",
                      str(fleet.ssh_config))
        assert remote.exit_code == 0, remote.output
        print(f"\nlocal run {middle - began:.1f} s, remote run {time.monotonic() - middle:.1f} s"
              f", job sent {fleet.captured.stat().st_size} bytes")

    # The step ran over SSH from the worker's address the second time, from here the first.
    for target in fleet.targets:
        first, second = (marks / target.name).read_text().splitlines()
        assert first == from_here[target.name].strip()
        assert first.split()[0] != fleet.worker.address
        assert second.split()[0] == fleet.worker.address
    posted = box.posted("/hook/")
    assert len(posted) == 4  # started and completed, once per run
    for request in posted:  # signed with this machine's secret, not the worker's own
        digest = hmac.new(HOOK_SECRET.encode(), request["raw"], hashlib.sha256).hexdigest()
        assert request["headers"]["X-Maintbook-Signature"] == f"sha256={digest}"

    record_here = json.loads((_folder(here) / "record.json").read_text())
    record_there = json.loads((_folder(there) / "record.json").read_text())
    assert record_there["outcome"] == "succeeded"
    assert sorted(s["host"] for s in record_there["steps"]) == ["t1", "t1", "t2", "t2"]
    plain_here, plain_there = _same(record_here, here), _same(record_there, there)
    for record in (plain_here, plain_there):  # hosts run in parallel: either may end first
        record["steps"].sort(key=lambda s: (s["name"], s["host"]))
    for key in plain_here.keys() | plain_there.keys():
        assert plain_there.get(key) == plain_here.get(key), key
    assert _report(there) == _report(here)
    assert _rows(there) == _rows(here)
    assert _same(json.loads((there / ".maintbook/status/status.json").read_text()), there) \
        == _same(json.loads((here / ".maintbook/status/status.json").read_text()), here)

    # Nothing transmitted or kept holds a secret, and the worker removed its socket.
    texts = _transmitted(fleet.captured, tmp_path)
    assert any("playbook.yml" in t for t in texts) and any("maintbook_run_id" in t
                                                           for t in texts)
    leaked = [t for t in texts if any(s in t for s in SECRETS)]
    for file in (there / ".maintbook").rglob("*"):
        if file.is_file() and any(s.encode() in file.read_bytes() for s in SECRETS):
            leaked.append(str(file))
    assert leaked == []
    assert (_folder(there) / "artifacts/ansible/command").exists()
    assert not any(s in remote.output for s in SECRETS)
    (kwargs,) = [json.loads(t)["kwargs"] for t in texts if t.startswith('{"kwargs"')]
    socket = Path(kwargs["envvars"]["MAINTBOOK_SECRETS_SOCKET"])
    assert socket.name.startswith("maintbook-secrets-") and not socket.exists()


def _refused(fleet: Fleet, name: str, destination: str) -> tuple[Result, Path]:
    root = _project(fleet, name, _runbook(fleet.root / "marks"))
    result = _run(root, "--remote", destination, "--ssh-config", str(fleet.ssh_config))
    return result, root


def _nothing_opened(root: Path) -> None:
    with contextlib.closing(sqlite3.connect(root / ".maintbook/state.db")) as db:
        assert db.execute("SELECT count(*) FROM runs").fetchone() == (0,)
        assert db.execute("SELECT count(*) FROM leases").fetchone() == (0,)
        assert db.execute("SELECT count(*) FROM maintenances").fetchone() == (0,)


def test_an_unreachable_worker_opens_nothing(fleet):
    result, root = _refused(fleet, "gone", "gone")
    assert result.exit_code == 2
    assert result.output.startswith("maintbook: worker gone is unreachable: ")
    assert result.output.rstrip().endswith("no run was opened")
    assert "Traceback" not in result.output
    _nothing_opened(root)


def test_a_worker_without_ansible_runner_is_refused_before_anything_opens(fleet):
    result, root = _refused(fleet, "bare", "bare")
    assert result.exit_code == 2
    assert "worker bare has no ansible-runner on its PATH" in result.output
    assert "Traceback" not in result.output
    _nothing_opened(root)


def test_a_worker_that_does_not_see_the_project_or_its_state_is_refused(fleet):
    result, root = _refused(fleet, "hidden/project", "blind")
    assert result.exit_code == 2
    folder = _folder(root)
    assert result.output == (
        f"maintbook: worker blind does not see this project's playbook at "
        f"{folder / 'playbook.yml'} (the worker reads the project from the same path); "
        f"worker blind does not see the state database {root / '.maintbook/state.db'} on the "
        "same disk (a worker on another machine needs state: postgresql://…); "
        "no run was opened\n")
    _nothing_opened(root)


# ---------------------------------------------------------------- a run cut off


def _slow_runbook(marks: Path) -> str:
    """Step 1 changes and can be undone; step 2 announces itself, then sleeps."""
    start = (datetime.now(UTC) - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    log = f"{marks}/{{{{ inventory_hostname }}}}"
    return f"""\
runbook: 1
id: MNT-2026-0101
title: Patch the web tier
owner: sre-team
type: brief-interruption
systems: [web]
window: {{start: "{start}", duration: 2h}}
approvals: [{{role: engineering-manager, by: dana}}]
targets: {{hosts: web}}
notify: [outbox]
steps:
  - name: Change
    command: "sh -c 'echo change >> {log}'"
    rollback: [{{name: Undo the change, command: "sh -c 'echo undo >> {log}'"}}]
  - name: Long step
    shell: "touch {log}.sleeping; sleep 30"
  - name: Never
    command: "sh -c 'echo never >> {log}'"
"""


def _start(fleet: Fleet, name: str) -> tuple[subprocess.Popen[str], Path, Path]:
    marks = fleet.root / f"marks-{name}"
    marks.mkdir()
    root = _project(fleet, name, _slow_runbook(marks), "")
    process = subprocess.Popen(
        [str(VENV_BIN / "maintbook"), "run", "runbooks/rb.yml", "-i", "inventory.json",
         *FORCED, "--remote", "worker", "--ssh-config", str(fleet.ssh_config)],
        cwd=root, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True)
    deadline = time.monotonic() + 120
    while not all((marks / f"{t.name}.sleeping").exists() for t in fleet.targets):
        assert process.poll() is None and time.monotonic() < deadline, process.stdout
        time.sleep(0.1)
    return process, root, marks


def _worker_playbooks(fleet: Fleet) -> list[int]:
    """ansible-playbook processes running in the worker's namespace."""
    found = []
    for pid in netns._namespace_pids(fleet.worker.namespace):
        with contextlib.suppress(OSError):
            if b"ansible-playbook" in Path(f"/proc/{pid}/cmdline").read_bytes():
                found.append(pid)
    return found


def _forwarded_sockets(fleet: Fleet) -> set[Path]:
    """The secret server's sockets that the worker's running commands name."""
    found = set()
    for pid in netns._namespace_pids(fleet.worker.namespace):
        with contextlib.suppress(OSError):
            command = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
            found |= {Path(m) for m in SOCKET.findall(command)}
    return found


def _gone(fleet: Fleet, timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while _worker_playbooks(fleet) and time.monotonic() < deadline:
        time.sleep(0.2)
    return not _worker_playbooks(fleet)


def _live_leases(root: Path) -> list[str]:
    with contextlib.closing(sqlite3.connect(root / ".maintbook/state.db")) as db:
        return [r[0] for r in db.execute("SELECT run_id FROM leases WHERE status = 'live'")]


def test_an_interrupt_stops_the_worker_and_unwinds_there(fleet):
    process, root, marks = _start(fleet, "interrupted")
    sockets = _forwarded_sockets(fleet)
    assert sockets
    os.killpg(process.pid, signal.SIGINT)
    output, _ = process.communicate(timeout=180)
    assert process.returncode == 130, output
    for target in fleet.targets:
        assert (marks / target.name).read_text().split() == ["change", "undo"]
    record = json.loads((_folder(root) / "record.json").read_text())
    assert record["outcome"] == "interrupted" and record["stop_reason"] == "interrupt"
    assert record["hosts"] == {"t1": "rolled_back", "t2": "rolled_back"}, output
    assert _live_leases(root) == []
    assert _gone(fleet)
    deadline = time.monotonic() + 30  # the worker's shell removes it once the worker ends
    while any(s.exists() for s in sockets) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(s.exists() for s in sockets)


def test_a_lost_worker_connection_closes_the_run_here_and_stops_the_worker(fleet):
    process, root, marks = _start(fleet, "lost")
    sessions = [pid for pid in netns._namespace_pids(fleet.worker.namespace)
                if Path(f"/proc/{pid}/cmdline").read_bytes().startswith(b"sshd: root@notty")]
    assert sessions
    for pid in sessions:  # the worker's end of the connection goes away
        os.kill(pid, signal.SIGKILL)
    output, _ = process.communicate(timeout=180)
    assert process.returncode == 1, output
    assert "maintbook: worker worker: ssh ended with exit code 255" in output
    record = json.loads((_folder(root) / "record.json").read_text())
    assert record["outcome"] == "failed"
    assert record["hosts"] == {"t1": "failed", "t2": "failed"}
    assert record["note"].startswith("the playbook stopped before it could close the run: "
                                     "worker worker: ssh ended with exit code 255")
    assert record["note"].endswith("(cut off: t1, t2)")
    assert _live_leases(root) == []
    assert _gone(fleet)  # the worker's playbook watched its SSH session
    for target in fleet.targets:
        assert "never" not in (marks / target.name).read_text().split()


@pytest.mark.parametrize(("args", "message"), [
    (["--remote", "-oProxyCommand=touch /tmp/x"], "--remote '-oProxyCommand=touch /tmp/x': "
     "give an SSH destination (host, user@host or ssh://user@host:port)"),
    (["--ssh-config", "maintbook.yml"], "--ssh-config goes with --remote WORKER"),
    (["--remote", "worker", "--ssh-config", "missing.conf"],
     "--ssh-config missing.conf: no such file"),
])
def test_a_bad_worker_is_a_usage_error(tmp_path, args, message):
    root = tmp_path / "p"
    (root / "runbooks").mkdir(parents=True)
    (root / "maintbook.yml").write_text(
        "policy:\n  blackouts: []\n  types:\n    brief-interruption: {notice: 0}\n")
    (root / "inventory.json").write_text('{"all": {"hosts": {"localhost": {}}}}')
    (root / "runbooks" / "rb.yml").write_text(
        _runbook(tmp_path).replace("notify: [outbox, audit]", "notify: [outbox]"))
    result = _run(root, *FORCED, *args)
    assert result.exit_code == 2
    assert result.output == f"maintbook: {message}\n"
