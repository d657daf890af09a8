"""The state database of test projects: SQLite (the default) or a real PostgreSQL.

`MAINTBOOK_TEST_STATE=postgresql` (or `pytest --state-backend postgresql`) makes every test
project point `state:` at its own fresh database in one PostgreSQL 15 cluster that the test
session starts (initdb + pg_ctl as the postgres user, in a temp folder, on 127.0.0.1 and a
unix socket). maintbook connects over TCP as the role `maintbook`, with a password that
exists only in this process's environment (`password_env`), never in maintbook.yml.

Every fixture writes maintbook.yml through `write_config`, and reads the state through
`state_rows`, so a test runs unchanged on both backends::

    write_config(root, "policy:\\n  blackouts: []\\n")
    state_rows(root, "SELECT state FROM maintenances WHERE id = ?", ("MNT-2026-0101",))
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from maintbook.config import load_config
from maintbook.store import Location, Store

PG_BIN = Path("/usr/lib/postgresql/15/bin")
SWITCH = "MAINTBOOK_TEST_STATE"
BACKENDS = ("sqlite", "postgresql")
PASSWORD_ENV = "MAINTBOOK_TEST_DB_PASSWORD"
ROLE = "maintbook"
_DATABASES = itertools.count(1)
_MADE: list[tuple[Cluster, str]] = []  # databases made and not dropped yet
_DATABASE_OF: dict[Path, str] = {}  # a project root's own database


def backend() -> str:
    """The backend chosen for this session: sqlite unless the switch says postgresql."""
    chosen = os.environ.get(SWITCH, "sqlite") or "sqlite"
    if chosen not in BACKENDS:
        raise ValueError(f"{SWITCH}={chosen}: allowed: {', '.join(BACKENDS)}")
    return chosen


@dataclass(frozen=True)
class Cluster:
    """A running PostgreSQL cluster: its folder (data, socket, log) and TCP port."""

    root: Path
    port: int
    password: str

    def psql(self, sql: str, database: str = "postgres") -> str:
        """Run `sql` as the postgres superuser over the unix socket; its output. The SQL goes
        on stdin, never in a command line that `ps` shows (the role's password is in one)."""
        argv = ["runuser", "-u", "postgres", "--", str(PG_BIN / "psql"), "-X", "-q", "-At",
                "-v", "ON_ERROR_STOP=1", "-h", str(self.root), "-p", str(self.port),
                "-d", database]
        return subprocess.run(argv, input=sql, capture_output=True, text=True, check=True,
                              timeout=60).stdout.strip()

    def url(self, database: str, user: str = ROLE) -> str:
        return f"postgresql://{user}@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """A fresh, empty database owned by the maintbook role; its URL (no password)."""
        name = f"mb_{os.getpid()}_{next(_DATABASES)}"
        self.psql(f"CREATE DATABASE {name} OWNER {ROLE}")
        _MADE.append((self, name))
        return self.url(name)


def drop_made() -> None:
    """Drop the databases made since the last call (each copies template1: ~8 MB)."""
    while _MADE:
        cluster, name = _MADE.pop()
        cluster.psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    _DATABASE_OF.clear()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _as_postgres(*argv: str) -> None:
    subprocess.run(["runuser", "-u", "postgres", "--", *argv], capture_output=True, text=True,
                   check=True, timeout=120)


@contextlib.contextmanager
def cluster() -> Iterator[Cluster]:
    """initdb + pg_ctl start in a temp folder; stopped (immediate) and removed on the way out.

    Local (socket) connections trust; TCP asks for a SCRAM password.
    """
    root = Path(tempfile.mkdtemp(prefix="mbpg-", dir="/tmp"))
    root.chmod(0o755)
    shutil.chown(root, "postgres", "postgres")
    data = root / "data"
    found = Cluster(root, _free_port(), secrets.token_urlsafe(18))
    _as_postgres(str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "--no-sync",
                 "--auth-local=trust", "--auth-host=scram-sha-256")
    options = (f"-k {root} -p {found.port} -c listen_addresses=127.0.0.1 -c fsync=off "
               "-c synchronous_commit=off -c full_page_writes=off -c max_connections=300")
    try:
        _as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(root / "server.log"),
                     "-w", "-o", options, "start")
        found.psql(f"CREATE ROLE {ROLE} LOGIN PASSWORD '{found.password}'")
        yield found
    finally:
        subprocess.run(["runuser", "-u", "postgres", "--", str(PG_BIN / "pg_ctl"), "-D",
                        str(data), "-m", "immediate", "-w", "stop"],
                       capture_output=True, check=False, timeout=120)
        shutil.rmtree(root, ignore_errors=True)


# The session's cluster, set by the `state_backend` fixture (tests/conftest.py) when the
# switch says postgresql: plain helper functions that write projects use it too.
ACTIVE: list[Cluster] = []


def state_yaml(url: str) -> str:
    """The `state:` block for a PostgreSQL URL; the password is only named."""
    return f"state:\n  url: \"{url}\"\n  password_env: {PASSWORD_ENV}\n"


_STATE_KEY = re.compile(r"^state:.*(\n[ \t]+.*)*\n?", re.MULTILINE)


def database_of(root: Path) -> str:
    """The project's own database (made on first use, the same on every rewrite)."""
    key = root.resolve()
    if key not in _DATABASE_OF:
        _DATABASE_OF[key] = ACTIVE[0].new_database()
    return _DATABASE_OF[key]


def config_text(text: str, root: Path) -> str:
    """`text` (a maintbook.yml) with `state:` pointing at the project's own database when the
    session runs on PostgreSQL; unchanged on SQLite."""
    if not ACTIVE:
        return text
    kept = _STATE_KEY.sub("", text)
    if kept.strip() in ("", "{}"):
        kept = ""
    elif not kept.endswith("\n"):
        kept += "\n"
    return kept + state_yaml(database_of(root))


def write_config(root: Path, text: str = "") -> Path:
    """Write `root`/maintbook.yml: `text`, with the session's state backend."""
    path = root / "maintbook.yml"
    path.write_text(config_text(text, root), encoding="utf-8")
    return path


def state_location(root: Path) -> Location:
    config, problems = load_config(root / "maintbook.yml")
    assert config is not None, [p.message for p in problems]
    return config.state


def state_rows(root: Path, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """Rows of `sql` (`?` placeholders) from the state database of the project at `root`."""
    store = Store.open(state_location(root))
    try:
        with store.read() as tx:
            return tx.all(sql, params)
    finally:
        store.close()


def on_postgres(root: Path) -> bool:
    return state_location(root).url is not None
