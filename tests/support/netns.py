"""Real SSH test hosts in Linux network namespaces.

Each host is one network namespace with a veth pair carrying a private /30
(10.200.N.0/30: the host side is .1, the namespace side .2) and its own sshd
listening on the namespace address, with a host key and an authorized key
generated into a state directory.  Namespaces share the file system with the
machine, not the network.  Needs root, ``iproute2`` and ``openssh-server``.

Use it from pytest::

    from tests.support.netns import ssh_hosts

    with ssh_hosts(2, "mbrun") as hosts:
        for host in hosts:
            print(host.address, host.port, host.user, host.key)

or from a shell (Molecule's create.yml/destroy.yml do this)::

    python3 netns.py up --prefix mbmm --count 1 --state-dir DIR [--names a,b]
    python3 netns.py down --prefix mbmm --state-dir DIR

``up`` prints a JSON list of the hosts; ``down`` stops every process in the
namespaces, then deletes them and their veth pairs.  Only 10.200.0.0/16
addresses inside namespaces created here are used.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import fcntl
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

SUBNET_PREFIX = "10.200"
LOCK_FILE = Path("/run/lock/maintbook-netns.lock")
SSHD = "/usr/sbin/sshd"
PREFIX_RE = re.compile(r"^[a-z][a-z0-9]{0,9}$")


@dataclasses.dataclass(frozen=True)
class SSHHost:
    """One namespace SSH host, ready for an inventory."""

    name: str
    namespace: str
    address: str
    port: int
    user: str
    key: str

    def inventory_vars(self) -> dict[str, object]:
        """Return the Ansible connection variables for this host."""
        return {
            "ansible_host": self.address,
            "ansible_port": self.port,
            "ansible_user": self.user,
            "ansible_ssh_private_key_file": self.key,
            "ansible_ssh_common_args": (
                "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null"
            ),
            "ansible_python_interpreter": "/usr/bin/python3",
        }


def _run(*argv: str) -> str:
    done = subprocess.run(argv, check=True, capture_output=True, text=True)
    return done.stdout


def _namespace(prefix: str, index: int) -> str:
    return f"{prefix}{index}"


def _used_subnets() -> set[int]:
    used = set()
    for match in re.finditer(
        rf"inet {re.escape(SUBNET_PREFIX)}\.(\d+)\.", _run("ip", "-o", "-4", "addr")
    ):
        used.add(int(match.group(1)))
    return used


@contextlib.contextmanager
def _locked() -> Iterator[None]:
    LOCK_FILE.parent.mkdir(parents=True, exist_ok=True)
    with LOCK_FILE.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _keypair(path: Path) -> None:
    if not path.exists():
        _run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", path.name, "-f", str(path))


def _sshd_config(state: Path, namespace: str, address: str) -> Path:
    config = state / f"sshd-{namespace}.conf"
    config.write_text(
        f"ListenAddress {address}\n"
        "Port 22\n"
        f"HostKey {state / 'host_key'}\n"
        f"PidFile {state / f'sshd-{namespace}.pid'}\n"
        f"AuthorizedKeysFile {state / 'authorized_keys'}\n"
        "PermitRootLogin prohibit-password\n"
        "PasswordAuthentication no\n"
        "KbdInteractiveAuthentication no\n"
        "StrictModes no\n"
        "UsePAM no\n"
        "MaxStartups 50\n"
        "MaxSessions 50\n"
        "Subsystem sftp /usr/lib/openssh/sftp-server\n"
    )
    return config


def _wait_for_port(address: str, port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((address, port), timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"sshd on {address}:{port} did not answer within {timeout} s"
                ) from None
            time.sleep(0.05)


def _bring_up_one(state: Path, namespace: str, subnet: int) -> str:
    host_if, ns_if = f"{namespace}h", f"{namespace}n"
    host_ip, ns_ip = f"{SUBNET_PREFIX}.{subnet}.1", f"{SUBNET_PREFIX}.{subnet}.2"
    _run("ip", "netns", "add", namespace)
    _run("ip", "link", "add", host_if, "type", "veth", "peer", "name", ns_if)
    _run("ip", "link", "set", ns_if, "netns", namespace)
    _run("ip", "addr", "add", f"{host_ip}/30", "dev", host_if)
    _run("ip", "link", "set", host_if, "up")
    inside = ("ip", "netns", "exec", namespace)
    _run(*inside, "ip", "addr", "add", f"{ns_ip}/30", "dev", ns_if)
    _run(*inside, "ip", "link", "set", ns_if, "up")
    _run(*inside, "ip", "link", "set", "lo", "up")
    return ns_ip


def up(
    prefix: str, count: int, state_dir: str | os.PathLike[str], names: list[str] | None = None
) -> list[SSHHost]:
    """Create ``count`` namespace SSH hosts named ``prefix1``, ``prefix2``, ...

    ``names`` gives the inventory names (default: the namespace names).
    """
    if not PREFIX_RE.match(prefix):
        raise ValueError(
            f"prefix {prefix!r} must be 1-10 lowercase letters/digits starting with a letter"
        )
    names = names or [_namespace(prefix, i) for i in range(1, count + 1)]
    if len(names) != count:
        raise ValueError(f"{len(names)} names given for {count} hosts")
    state = Path(state_dir).resolve()
    state.mkdir(parents=True, exist_ok=True)
    down(prefix, state)
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    _keypair(state / "host_key")
    _keypair(state / "id_ed25519")
    shutil.copyfile(state / "id_ed25519.pub", state / "authorized_keys")
    hosts = []
    try:
        for index, name in enumerate(names, start=1):
            namespace = _namespace(prefix, index)
            with _locked():
                subnet = min(set(range(1, 255)) - _used_subnets())
                address = _bring_up_one(state, namespace, subnet)
            config = _sshd_config(state, namespace, address)
            _run("ip", "netns", "exec", namespace, SSHD, "-f", str(config))
            _wait_for_port(address, 22)
            hosts.append(SSHHost(name, namespace, address, 22, "root", str(state / "id_ed25519")))
    except Exception:
        down(prefix, state)
        raise
    (state / "hosts.json").write_text(json.dumps([dataclasses.asdict(h) for h in hosts], indent=2))
    return hosts


def _kill_namespace_pids(namespace: str) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        pids = _namespace_pids(namespace)
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        deadline = time.monotonic() + 5
        while pids and time.monotonic() < deadline:
            pids = _namespace_pids(namespace)
            time.sleep(0.05)
        if not pids:
            return


def _namespace_pids(namespace: str) -> list[int]:
    done = subprocess.run(["ip", "netns", "pids", namespace], capture_output=True, text=True)
    return [int(p) for p in done.stdout.split()]


def _our_namespaces(prefix: str) -> list[str]:
    listing = _run("ip", "netns", "list")
    pattern = re.compile(rf"^{re.escape(prefix)}\d+$")
    return [
        line.split()[0] for line in listing.splitlines() if line and pattern.match(line.split()[0])
    ]


def down(prefix: str, state_dir: str | os.PathLike[str] | None = None) -> None:
    """Stop every process in the ``prefix<N>`` namespaces and delete them."""
    for namespace in _our_namespaces(prefix):
        _kill_namespace_pids(namespace)
        subprocess.run(["ip", "link", "del", f"{namespace}h"], capture_output=True)
        subprocess.run(["ip", "netns", "del", namespace], capture_output=True)
    if state_dir is not None:
        hosts_file = Path(state_dir) / "hosts.json"
        hosts_file.unlink(missing_ok=True)


@contextlib.contextmanager
def ssh_hosts(
    count: int, prefix: str, state_dir: str | os.PathLike[str] | None = None
) -> Iterator[list[SSHHost]]:
    """Bring up ``count`` SSH hosts for the duration of a ``with`` block."""
    with contextlib.ExitStack() as stack:
        if state_dir is None:
            state_dir = stack.enter_context(tempfile.TemporaryDirectory(prefix=f"netns-{prefix}-"))
        try:
            yield up(prefix, count, state_dir)
        finally:
            down(prefix, state_dir)


def _instance_config(host: SSHHost) -> dict[str, object]:
    return {
        "instance": host.name,
        "address": host.address,
        "user": host.user,
        "port": host.port,
        "identity_file": host.key,
    }


def _main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=["up", "down"])
    parser.add_argument("--prefix", required=True, help="namespace name prefix, 1-10 chars")
    parser.add_argument("--count", type=int, default=1)
    parser.add_argument(
        "--state-dir", required=True, help="keys, sshd configs and hosts.json go here"
    )
    parser.add_argument("--names", default="", help="comma-separated inventory names")
    parser.add_argument(
        "--instance-config", help="also write Molecule's instance config (driver default) here"
    )
    args = parser.parse_args(argv)
    if args.action == "up":
        names = [n for n in args.names.split(",") if n] or None
        hosts = up(args.prefix, args.count, args.state_dir, names)
        print(json.dumps([dataclasses.asdict(h) for h in hosts]))
        if args.instance_config:
            Path(args.instance_config).write_text(
                json.dumps([_instance_config(h) for h in hosts], indent=2)
            )
    else:
        down(args.prefix, args.state_dir)
        if args.instance_config:
            Path(args.instance_config).write_text("[]\n")
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
