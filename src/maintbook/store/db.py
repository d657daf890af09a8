"""Connections to the state database: SQLite (the embedded default) or PostgreSQL.

Every change happens in a `write()` transaction, and write transactions are serialised: on
SQLite by `BEGIN IMMEDIATE` (WAL mode, so readers never wait), on PostgreSQL by a
transaction-level advisory lock taken first, at READ COMMITTED, so that every statement after
it sees what the writer before committed. Races between runs, commands and operators on
different machines therefore resolve the same way on both: one transaction sees the other's
result. A `read()` sees one snapshot on both (SQLite's deferred transaction; PostgreSQL's
REPEATABLE READ, where a read never fails).

SQL is written once, with `?` placeholders; the PostgreSQL connection binds them as `%s`.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

from maintbook.errors import MaintbookError
from maintbook.store.schema import LEGACY_TABLES, MIGRATIONS, SCHEMA_VERSION

# An arbitrary constant: the one advisory lock all maintbook writers share on PostgreSQL.
_PG_LOCK = 0x6D61696E74626B
# psycopg's IsolationLevel values: writers READ COMMITTED (after the lock), readers a snapshot.
_WRITE, _READ = 2, 3


class StateError(MaintbookError):
    """The state database cannot be used: missing driver, unreachable, damaged (exit 2)."""


@dataclass(frozen=True)
class Location:
    """Where the state lives: a SQLite file, or a PostgreSQL URL and its password variable."""

    path: Path | None = None
    url: str | None = None
    password_env: str | None = None

    def __str__(self) -> str:
        return str(self.path) if self.path is not None else masked_url(str(self.url))

    @property
    def exists(self) -> bool:
        return self.url is not None or (self.path is not None and self.path.exists())

    @property
    def shared(self) -> bool:
        """Several checkouts share it (PostgreSQL); a SQLite file is one checkout's own."""
        return self.url is not None


Row = tuple[Any, ...]


class Tx(Protocol):
    def execute(self, sql: str, params: Sequence[Any] = ()) -> None: ...
    def one(self, sql: str, params: Sequence[Any] = ()) -> Row | None: ...
    def all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...


class _Cursor:
    """One transaction's statements, with `?` placeholders on both backends."""

    def __init__(self, cursor: Any, postgres: bool) -> None:
        self.cursor, self.postgres = cursor, postgres

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s") if self.postgres else sql

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self.cursor.execute(self._sql(sql), tuple(params))

    def one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        self.execute(sql, params)
        row = self.cursor.fetchone()
        return None if row is None else tuple(row)

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        self.execute(sql, params)
        return [tuple(row) for row in self.cursor.fetchall()]


def _damaged(location: Location, exc: Exception) -> StateError:
    return StateError(
        f"the state database {location} cannot be read ({exc}); it is damaged or not a "
        "maintbook state database. Nothing was run. Move it aside and restore it from a "
        "backup: it holds the maintenance states, the notice ledger and the run history"
    )


class Store:
    """An open state database; `write()` and `read()` give transactions."""

    def __init__(self, location: Location, connection: Any, backend: str) -> None:
        self.location, self.connection, self.backend = location, connection, backend

    # ---------------------------------------------------------------- opening

    @classmethod
    def open(cls, location: Location, *, verify: bool = False) -> Store:
        """Open (and create or migrate) the database; StateError when it cannot be used."""
        store = _open_postgres(location) if location.url else _open_sqlite(location)
        try:
            if verify:
                store.verify()
            store.migrate()
        except (sqlite3.DatabaseError, OSError) as exc:
            store.close()
            raise _damaged(location, exc) from exc
        except Exception as exc:
            store.close()
            if type(exc).__module__.startswith("psycopg"):
                raise StateError(f"the state database {location}: {_first_line(exc)}") from exc
            raise
        return store

    def close(self) -> None:
        self.connection.close()

    def verify(self) -> None:
        """A cheap integrity check (SQLite `quick_check`); StateError when damaged."""
        if self.backend != "sqlite":
            return
        rows = self.connection.execute("PRAGMA quick_check").fetchall()
        if [tuple(r) for r in rows] != [("ok",)]:
            raise _damaged(self.location, ValueError("; ".join(str(r[0]) for r in rows[:3])))

    def migrate(self) -> None:
        """Apply, in one write transaction, every migration newer than the database."""
        with self.read() as tx:
            if self._current(tx) == SCHEMA_VERSION:
                return
        with self.write() as tx:
            current = self._current(tx)
            if current == 0:
                self._set_legacy_aside(tx)
            for version, statements in MIGRATIONS:
                if version > current:
                    for statement in statements(self.backend):
                        tx.execute(statement)
                    tx.execute(
                        "INSERT INTO maintbook_meta (key, value) VALUES ('schema', ?) "
                        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                        (str(version),),
                    )

    def _current(self, tx: Tx) -> int:
        """The database's schema version; StateError when a newer maintbook wrote it."""
        version = self._version(tx)
        if version > SCHEMA_VERSION:
            raise StateError(
                f"the state database {self.location} has schema version {version}, newer "
                f"than this maintbook's ({SCHEMA_VERSION}): upgrade maintbook to use it"
            )
        return version

    def _version(self, tx: Tx) -> int:
        if not self._has_table(tx, "maintbook_meta"):
            return 0
        row = tx.one("SELECT value FROM maintbook_meta WHERE key = 'schema'")
        return int(row[0]) if row else 0

    def _has_table(self, tx: Tx, name: str) -> bool:
        if self.backend == "sqlite":
            return tx.one("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                          (name,)) is not None
        found = tx.one("SELECT to_regclass(?) IS NOT NULL", (name,))  # in the search path
        return bool(found and found[0])

    def _set_legacy_aside(self, tx: Tx) -> None:
        """The first release's tables (no schema version) are renamed legacy_*, not lost."""
        if self._has_table(tx, "maintbook_meta"):
            return
        for name in LEGACY_TABLES:
            if self._has_table(tx, name) and not self._has_table(tx, f"legacy_{name}"):
                tx.execute(f"ALTER TABLE {name} RENAME TO legacy_{name}")

    # ---------------------------------------------------------------- transactions

    @contextmanager
    def write(self) -> Iterator[Tx]:
        """A transaction that no other writer interleaves with."""
        with self._transaction(exclusive=True) as tx:
            yield tx

    @contextmanager
    def read(self) -> Iterator[Tx]:
        with self._transaction(exclusive=False) as tx:
            yield tx

    @contextmanager
    def _transaction(self, exclusive: bool) -> Iterator[Tx]:
        if self.backend == "postgresql":
            self.connection.isolation_level = _WRITE if exclusive else _READ
        cursor = self.connection.cursor()
        tx = _Cursor(cursor, self.backend == "postgresql")
        try:
            if self.backend == "sqlite":
                cursor.execute("BEGIN IMMEDIATE" if exclusive else "BEGIN")
            elif exclusive:
                tx.execute("SELECT pg_advisory_xact_lock(?)", (_PG_LOCK,))
            yield tx
            self.connection.commit()
        except BaseException as exc:
            with suppress(Exception):  # a lost connection cannot roll back: the server does
                self.connection.rollback()
            if _lost(exc):
                raise StateError(f"the state database {self.location} was lost in the middle "
                                 f"of a change ({_first_line(exc)}); the change was not "
                                 "made") from exc
            raise
        finally:
            with suppress(Exception):
                cursor.close()


def _lost(exc: BaseException) -> bool:
    """A PostgreSQL connection that broke (server gone, network, admin shutdown)."""
    return any(kind.__module__.startswith("psycopg")
               and kind.__name__ in ("OperationalError", "InterfaceError")
               for kind in type(exc).__mro__)


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _open_sqlite(location: Location) -> Store:
    assert location.path is not None
    try:
        location.path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(location.path, timeout=30, isolation_level=None)
    except (sqlite3.Error, OSError) as exc:
        raise _damaged(location, exc) from exc
    store = Store(location, connection, "sqlite")
    try:
        connection.execute("PRAGMA busy_timeout = 30000")
        _use_wal(connection)
        connection.execute("PRAGMA synchronous = NORMAL")
    except sqlite3.DatabaseError as exc:
        store.close()
        raise _damaged(location, exc) from exc
    return store


def _use_wal(connection: sqlite3.Connection, patience: float = 30.0) -> None:
    """Switch a database file to WAL (it stays so); the first opener of a new file does it.

    Two processes creating the file at once race for the switch, and SQLite reports the
    loser "locked" without waiting on its busy timeout: so wait here, within `patience`.
    """
    deadline = time.monotonic() + patience
    while True:
        try:
            mode = connection.execute("PRAGMA journal_mode").fetchone()
            if mode is not None and str(mode[0]).lower() == "wal":
                return
            mode = connection.execute("PRAGMA journal_mode = WAL").fetchone()
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
            continue
        if mode is None or str(mode[0]).lower() != "wal":
            raise sqlite3.DatabaseError(f"journal mode {mode} instead of wal")
        return


def url_password(url: str) -> str | None:
    """The password a database URL carries (`user:PASSWORD@host`, `?password=`), if any."""
    try:
        parts = urlsplit(url)
        return parts.password or next(iter(parse_qs(parts.query).get("password", [])), None)
    except ValueError:
        return None


def masked_url(url: str) -> str:
    """The URL as it may be shown: a password in it replaced by ********."""
    secret = url_password(url)
    return url.replace(secret, "********") if secret else url


def _masked(text: str, *secrets: str | None) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "********")
    return text


def _password(location: Location) -> str | None:
    """The password named by `password_env`: the environment, or the run's secret server."""
    if not location.password_env:
        return None
    from maintbook.secrets import lookup

    password = lookup(location.password_env)
    if password is None:
        raise StateError(
            f"the state database {masked_url(str(location.url))} needs the password named by "
            f"state.password_env, but the environment variable {location.password_env} is "
            "not set"
        )
    return password


def _open_postgres(location: Location) -> Store:
    try:
        import psycopg
    except ImportError as exc:
        raise StateError(
            f"state {masked_url(str(location.url))} needs the PostgreSQL driver: "
            "pip install 'maintbook[postgresql]'"
        ) from exc
    url = str(location.url)
    password = _password(location)
    try:
        connection = psycopg.connect(url, password=password, connect_timeout=10)
    except psycopg.Error as exc:
        detail = _masked(" ".join(str(exc).split()), password, url_password(url))
        raise StateError(
            f"the state database {masked_url(url)} cannot be reached: {detail}. Nothing was "
            "run"
        ) from exc
    return Store(location, connection, "postgresql")
