"""A fleet of real web hosts: N namespace SSH hosts (tests/support/netns.py), each with nginx.

Every host is a network namespace with its own sshd (as in netns.py) and its own nginx, run
as root from a folder of its own under the fleet's state directory:

    http://ADDRESS:8080/health   200 "ok" while HOME/www/health exists, else 404 (what a
                                 health check of the application reads)
    http://ADDRESS:80/           the public side: 200 "serving", or 503 while the
                                 maintenance_mode role's flag file exists

Inventories choose the maintenance_mode role's variant per fleet: `nginx` (the default: the
role installs its maintenance page and the snippet this server includes, and reloads this
nginx, so the 503 carries the role's page) or `flag` (the role only writes and removes the
flag; a snippet the harness installs answers 503 while the flag exists: fewer tasks, for
tests and benchmarks about batches rather than the page).

Hosts come up in parallel: one `ip -batch` creates every namespace, veth pair and host-side
address under netns.py's lock (so the subnets of parallel test runs never collide), then a
thread per host finishes its namespace side and starts sshd and nginx. `down` stops them
in parallel, deletes the namespaces and veth pairs, and closes the SSH control masters
Ansible left (their sockets live under the state directory). `leftovers` lists whatever of
a fleet still exists, so a test can check that nothing leaks.

    with fleet(20, "mbfl", tmp_path) as hosts:
        hosts.write_inventory(tmp_path / "inventory.yml", group="web")
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from tests.support import netns

WORKERS = 8
HEALTH_PORT = 8080
PUBLIC_PORT = 80

NGINX_CONF = """\
user root;
worker_processes 1;
daemon on;
pid {home}/nginx.pid;
error_log {home}/error.log;
events {{ worker_connections 64; }}
http {{
  access_log off;
  client_body_temp_path {home}/tmp;
  proxy_temp_path {home}/tmp;
  fastcgi_temp_path {home}/tmp;
  uwsgi_temp_path {home}/tmp;
  scgi_temp_path {home}/tmp;
  server {{
    listen {address}:{health};
    location = /health {{ root {home}/www; default_type text/plain; }}
  }}
  server {{
    listen {address}:{public};
    include {home}/snippets/*.conf;
    location / {{ default_type text/plain; return 200 "serving\\n"; }}
  }}
}}
"""


@dataclasses.dataclass(frozen=True)
class FleetHost:
    """One web host of the fleet: its SSH endpoint and its nginx folder."""

    ssh: netns.SSHHost
    home: Path

    @property
    def name(self) -> str:
        return self.ssh.name

    @property
    def address(self) -> str:
        return self.ssh.address

    @property
    def health_url(self) -> str:
        return f"http://{self.address}:{HEALTH_PORT}/health"

    @property
    def public_url(self) -> str:
        return f"http://{self.address}:{PUBLIC_PORT}/"

    @property
    def flag(self) -> Path:
        return self.home / "state" / "maintenance.flag"

    def nginx_args(self) -> str:
        return f"-c {self.home}/nginx.conf -p {self.home} -e {self.home}/error.log"

    def inventory_vars(self, control_dir: Path, variant: str) -> dict[str, Any]:
        """Connection variables plus the maintenance_mode role's settings for this host."""
        return {
            **self.ssh.inventory_vars(),
            "ansible_control_path_dir": str(control_dir),
            "maintenance_mode_variant": variant,
            "maintenance_mode_flag_path": str(self.flag),
            "maintenance_mode_page_path": f"{self.home}/pages/maintenance.html",
            "maintenance_mode_nginx_snippet_path": f"{self.home}/snippets/maintenance_mode.conf",
            "maintenance_mode_nginx_test_command": f"nginx -t -q {self.nginx_args()}",
            "maintenance_mode_nginx_reload_command": f"nginx -s reload {self.nginx_args()}",
            "fleet_home": str(self.home),
        }


@dataclasses.dataclass(frozen=True)
class Fleet:
    """The hosts of one fleet, named `<prefix>1` … in order."""

    prefix: str
    state: Path
    hosts: tuple[FleetHost, ...]

    @property
    def control_dir(self) -> Path:
        """Where Ansible's SSH control sockets go (so `down` can close their masters)."""
        return self.state / "cp"

    def inventory(self, group: str = "fleet", count: int | None = None,
                  variant: str = "nginx") -> dict[str, Any]:
        """The first `count` hosts (all by default) as the inventory group `group`."""
        hosts = {h.name: h.inventory_vars(self.control_dir, variant)
                 for h in self.hosts[:count]}
        return {"all": {"children": {group: {"hosts": hosts}}}}

    def write_inventory(self, path: Path, group: str = "fleet", count: int | None = None,
                        variant: str = "nginx") -> Path:
        path.write_text(json.dumps(self.inventory(group, count, variant), indent=2),
                        encoding="utf-8")
        return path

    def status(self, host: FleetHost) -> int:
        """The HTTP status the host's public side answers now."""
        return http_status(host.public_url)


def http_get(url: str, timeout: float = 5) -> tuple[int, str]:
    """The status and body a URL answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:
            return int(answer.status), answer.read().decode(errors="replace")
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read().decode(errors="replace")


def http_status(url: str, timeout: float = 5) -> int:
    return http_get(url, timeout)[0]


def _batch(lines: Sequence[str], namespace: str | None = None) -> None:
    argv = ["ip", *(["-n", namespace] if namespace else []), "-batch", "-"]
    subprocess.run(argv, input="\n".join(lines) + "\n", text=True, check=True,
                   capture_output=True)


def _links(namespaces: Sequence[str]) -> list[int]:
    """Create the namespaces, their veth pairs and host-side addresses; their subnets."""
    with netns._locked():
        free = sorted(set(range(1, 255)) - netns._used_subnets())
        if len(free) < len(namespaces):
            raise RuntimeError(f"only {len(free)} free {netns.SUBNET_PREFIX}.N.0/30 subnets "
                               f"for {len(namespaces)} hosts")
        subnets = free[: len(namespaces)]
        lines = []
        for namespace, subnet in zip(namespaces, subnets, strict=True):
            lines += [f"netns add {namespace}",
                      f"link add {namespace}h type veth peer name {namespace}n netns {namespace}",
                      f"addr add {netns.SUBNET_PREFIX}.{subnet}.1/30 dev {namespace}h",
                      f"link set {namespace}h up"]
        _batch(lines)
    return subnets


def _start_host(state: Path, namespace: str, subnet: int) -> FleetHost:
    address = f"{netns.SUBNET_PREFIX}.{subnet}.2"
    _batch([f"addr add {address}/30 dev {namespace}n", f"link set {namespace}n up",
            "link set lo up"], namespace)
    config = netns._sshd_config(state, namespace, address)
    home = state / namespace
    for folder in ("tmp", "snippets", "pages", "state", "www"):
        (home / folder).mkdir(parents=True, exist_ok=True)
    (home / "www" / "health").write_text("ok\n")
    (home / "snippets" / "00-flag.conf").write_text(
        f"if (-f {home}/state/maintenance.flag) {{ return 503; }}\n")
    (home / "nginx.conf").write_text(NGINX_CONF.format(
        home=home, address=address, health=HEALTH_PORT, public=PUBLIC_PORT))
    inside = ["ip", "netns", "exec", namespace]
    subprocess.run([*inside, netns.SSHD, "-f", str(config)], check=True, capture_output=True)
    subprocess.run([*inside, "nginx", "-c", str(home / "nginx.conf"), "-p", str(home),
                    "-e", str(home / "error.log")], check=True, capture_output=True)
    netns._wait_for_port(address, 22)
    netns._wait_for_port(address, HEALTH_PORT)
    ssh = netns.SSHHost(namespace, namespace, address, 22, "root", str(state / "id_ed25519"))
    return FleetHost(ssh, home)


def up(count: int, prefix: str, state_dir: str | os.PathLike[str]) -> Fleet:
    """Bring up `count` web hosts named `<prefix>1` … `<prefix><count>`."""
    if not netns.PREFIX_RE.match(prefix):
        raise ValueError(f"prefix {prefix!r} must be 1-10 lowercase letters/digits "
                         "starting with a letter")
    state = Path(state_dir).resolve()
    state.mkdir(parents=True, exist_ok=True)
    down(prefix, state)
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    netns._keypair(state / "host_key")
    netns._keypair(state / "id_ed25519")
    shutil.copyfile(state / "id_ed25519.pub", state / "authorized_keys")
    (state / "cp").mkdir(exist_ok=True)
    namespaces = [f"{prefix}{i}" for i in range(1, count + 1)]
    try:
        subnets = _links(namespaces)
        with ThreadPoolExecutor(WORKERS) as pool:
            hosts = tuple(pool.map(lambda pair: _start_host(state, *pair),
                                   zip(namespaces, subnets, strict=True)))
    except BaseException:
        down(prefix, state)
        raise
    return Fleet(prefix, state, hosts)


def _close_masters(state: Path) -> None:
    """SSH control masters (ControlPersist) whose sockets lie under `state`."""
    for pid in _processes_mentioning(str(state)):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)


def _down_one(namespace: str) -> None:
    netns._kill_namespace_pids(namespace)
    subprocess.run(["ip", "link", "del", f"{namespace}h"], capture_output=True, check=False)
    subprocess.run(["ip", "netns", "del", namespace], capture_output=True, check=False)


def down(prefix: str, state_dir: str | os.PathLike[str] | None = None) -> None:
    """Stop every process of the fleet and delete its namespaces and veth pairs."""
    with ThreadPoolExecutor(WORKERS) as pool:
        list(pool.map(_down_one, netns._our_namespaces(prefix)))
    if state_dir is not None:
        _close_masters(Path(state_dir).resolve())


@contextlib.contextmanager
def fleet(count: int, prefix: str, state_dir: str | os.PathLike[str] | None = None
          ) -> Iterator[Fleet]:
    """`count` web hosts for the duration of a `with` block."""
    with contextlib.ExitStack() as stack:
        if state_dir is None:
            state_dir = stack.enter_context(tempfile.TemporaryDirectory(prefix=f"{prefix}-"))
        try:
            yield up(count, prefix, state_dir)
        finally:
            down(prefix, state_dir)


def _processes_mentioning(text: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        with contextlib.suppress(OSError):
            if text in (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(
                    errors="replace"):
                found.append(int(entry.name))
    return found


def leftovers(prefix: str, state_dir: str | os.PathLike[str]) -> list[str]:
    """What of the fleet still exists: namespaces, veth pairs, processes (empty: nothing)."""
    pattern = re.compile(rf"\b{re.escape(prefix)}\d+[hn]?\b")
    found = [f"namespace {n}" for n in netns._our_namespaces(prefix)]
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True,
                           check=True).stdout
    found += [f"link {m.group(0)}" for m in pattern.finditer(links)]
    state = str(Path(state_dir).resolve())
    found += [f"process {pid}" for pid in _processes_mentioning(state)]
    return found


def wait_until(condition: Callable[[], bool], timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True
