"""A PostgreSQL 15 primary and a streaming replica, each in its own network namespace.

The two namespaces come from ``tests/support/netns.py`` (one SSH host each). They cannot
reach each other through the machine (it does not forward packets), so :func:`link` adds a
veth pair straight between them with one host route on each side: the replica then reaches
the primary on the primary's own namespace address, and the primary sees the replica
connect from the replica's address, which is what ``pg_stat_replication.client_addr`` shows.

Each cluster listens on its namespace address and on a unix socket in its own folder; the
replica is made with ``pg_basebackup -R`` over that link. Use it from pytest::

    with pgpair.pair(root, "mbx1", "mbx2", port=55441) as pg:   # two netns.py namespaces
        pg.psql("primary", "SELECT 1")

or from a shell (Molecule's create.yml/destroy.yml do this)::

    python3 pgpair.py up --root DIR --primary NS --replica NS --port P [--max-connections N]
    python3 pgpair.py down --root DIR

Needs root, iproute2 and the Debian ``postgresql`` package (version 15).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

PG_BIN = Path("/usr/lib/postgresql/15/bin")
ROLES = ("primary", "replica")
_SESSION_IDS = itertools.count(1)


@dataclasses.dataclass(frozen=True)
class Pair:
    """Where the two clusters live and how to reach them."""

    root: Path
    port: int
    addresses: dict[str, str]
    namespaces: dict[str, str]
    max_connections: int

    def socket_dir(self, role: str) -> Path:
        return self.root / role

    def _psql_argv(self, role: str, database: str) -> list[str]:
        return [
            "runuser", "-u", "postgres", "--", str(PG_BIN / "psql"), "-X", "-q", "-At",
            "-v", "ON_ERROR_STOP=1", "-h", str(self.socket_dir(role)), "-p", str(self.port),
            "-d", database,
        ]  # fmt: skip

    def psql(self, role: str, sql: str, database: str = "postgres") -> str:
        """Run ``sql`` as postgres on the ``role`` cluster's socket; return its output."""
        return _run(*self._psql_argv(role, database), "-c", sql).stdout.strip()

    @contextlib.contextmanager
    def sessions(
        self, role: str, statements: list[str], database: str = "postgres"
    ) -> Iterator[None]:
        """Keep one open session per statement (each sent, not awaited) for a ``with`` block.

        The sessions carry one application name; on the way out their backends are
        terminated, their ``psql`` processes ended by process group, and the backends
        waited for until they are gone.
        """
        name = f"pgpair-{os.getpid()}-{next(_SESSION_IDS)}"
        procs = []
        try:
            for sql in statements:
                proc = subprocess.Popen(
                    self._psql_argv(role, database),
                    stdin=subprocess.PIPE,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    text=True,
                    env={**os.environ, "PGAPPNAME": name},
                    start_new_session=True,
                )
                procs.append(proc)
                assert proc.stdin is not None
                proc.stdin.write(sql + "\n")
                proc.stdin.flush()
            self._wait_for_sessions(role, name, len(statements))
            yield
        finally:
            self.psql(
                role,
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                f"WHERE application_name = '{name}'",
            )
            for proc in procs:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
            self._wait_for_sessions(role, name, 0)

    def _wait_for_sessions(self, role: str, name: str, count: int, timeout: float = 10.0) -> None:
        """Wait until exactly ``count`` sessions named ``name`` are connected."""
        sql = f"SELECT count(*) FROM pg_stat_activity WHERE application_name = '{name}'"
        deadline = time.monotonic() + timeout
        while int(self.psql(role, sql)) != count:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{count} sessions named {name} not there within {timeout} s")
            time.sleep(0.05)

    def restart_replica(self) -> None:
        """Restart the replica (fast shutdown), then wait until it streams again."""
        _as_postgres(
            self.namespaces["replica"], str(PG_BIN / "pg_ctl"), "-D",
            str(self.socket_dir("replica") / "data"), "-m", "fast", "-w", "stop",
        )  # fmt: skip
        _start(self, "replica")
        _wait_streaming(self)


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, check=True, capture_output=True, text=True, timeout=60)


def _address(namespace: str) -> str:
    listing = _run("ip", "-n", namespace, "-4", "-o", "addr", "show").stdout
    found = re.search(r"inet (10\.200\.\d+\.\d+)/30", listing)
    if not found:
        raise RuntimeError(f"namespace {namespace} has no 10.200.x.y/30 address")
    return found.group(1)


def link(namespace_a: str, namespace_b: str) -> None:
    """Connect two namespaces with a veth pair and a host route to each other's address."""
    address_a, address_b = _address(namespace_a), _address(namespace_b)
    if_a, if_b = f"{namespace_a}p", f"{namespace_b}p"
    _run("ip", "link", "add", if_a, "netns", namespace_a, "type", "veth",
         "peer", "name", if_b, "netns", namespace_b)  # fmt: skip
    for namespace, device, here, there in (
        (namespace_a, if_a, address_a, address_b),
        (namespace_b, if_b, address_b, address_a),
    ):
        _run("ip", "-n", namespace, "link", "set", device, "up")
        _run("ip", "-n", namespace, "route", "add", f"{there}/32", "dev", device, "src", here)


def _as_postgres(namespace: str, *argv: str) -> None:
    _run("ip", "netns", "exec", namespace, "runuser", "-u", "postgres", "--", *argv)


def _start(pair: Pair, role: str) -> None:
    folder = pair.socket_dir(role)
    options = (
        f"-k {folder} -p {pair.port} -c listen_addresses={pair.addresses[role]} "
        f"-c max_connections={pair.max_connections} -c fsync=off -c autovacuum=off "
        "-c wal_receiver_status_interval=1s"
    )
    _as_postgres(
        pair.namespaces[role], str(PG_BIN / "pg_ctl"), "-D", str(folder / "data"),
        "-l", str(folder / "server.log"), "-w", "-o", options, "start",
    )  # fmt: skip


def _wait_streaming(pair: Pair, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    sql = "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'"
    while pair.psql("primary", sql) != "1":
        if time.monotonic() > deadline:
            raise RuntimeError(f"the replica did not stream within {timeout} s")
        time.sleep(0.1)


def up(root: Path, primary: str, replica: str, port: int, max_connections: int = 20) -> Pair:
    """Start a primary in namespace ``primary`` and its streaming replica in ``replica``."""
    pair = Pair(
        root=root.resolve(),
        port=port,
        addresses={"primary": _address(primary), "replica": _address(replica)},
        namespaces={"primary": primary, "replica": replica},
        max_connections=max_connections,
    )
    down(pair.root)
    link(primary, replica)
    for role in ROLES:
        pair.socket_dir(role).mkdir(parents=True, exist_ok=True)
        shutil.chown(pair.socket_dir(role), "postgres", "postgres")
    data = pair.socket_dir("primary") / "data"
    _as_postgres(primary, str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust",
                 "-U", "postgres", "--no-sync")  # fmt: skip
    with (data / "pg_hba.conf").open("a") as hba:
        hba.write(f"host replication postgres {pair.addresses['replica']}/32 trust\n")
    _start(pair, "primary")
    _as_postgres(
        replica, str(PG_BIN / "pg_basebackup"), "-h", pair.addresses["primary"],
        "-p", str(port), "-U", "postgres", "-D", str(pair.socket_dir("replica") / "data"),
        "-R", "-X", "stream", "--no-sync",
    )  # fmt: skip
    _start(pair, "replica")
    _wait_streaming(pair)
    return pair


def down(root: Path) -> None:
    """Stop both clusters (immediate shutdown); the caller removes the namespaces and folder."""
    for role in ROLES:
        data = root / role / "data"
        if (data / "postmaster.pid").exists():
            subprocess.run(
                ["runuser", "-u", "postgres", "--", str(PG_BIN / "pg_ctl"), "-D", str(data),
                 "-m", "immediate", "-w", "stop"],
                capture_output=True, check=False, timeout=60,
            )  # fmt: skip


@contextlib.contextmanager
def pair(
    root: Path, primary: str, replica: str, port: int, max_connections: int = 20
) -> Iterator[Pair]:
    """A primary and its replica for the duration of a ``with`` block."""
    try:
        yield up(root, primary, replica, port, max_connections)
    finally:
        down(root)


def _main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=["up", "down"])
    parser.add_argument("--root", required=True, type=Path, help="cluster folders go here")
    parser.add_argument("--primary", help="namespace of the primary")
    parser.add_argument("--replica", help="namespace of the replica")
    parser.add_argument("--port", type=int, default=5432)
    parser.add_argument("--max-connections", type=int, default=20)
    args = parser.parse_args(argv)
    if args.action == "up":
        if not (args.primary and args.replica):
            parser.error("up needs --primary and --replica")
        args.root.mkdir(parents=True, exist_ok=True)
        args.root.chmod(0o755)
        started = up(args.root, args.primary, args.replica, args.port, args.max_connections)
        print(json.dumps(dataclasses.asdict(started), default=str))
    else:
        down(args.root)
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
