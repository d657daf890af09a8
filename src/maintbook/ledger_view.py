"""The state database read for a reader, never written: what `render` says has gone out.

The SQLite file is opened read-only (`mode=ro`), and only when it exists: rendering a page
never creates, migrates or changes the state. A missing file, a database of another
schema version or a PostgreSQL state give an empty view with a note saying why.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from maintbook.store import ledger, maintenances
from maintbook.store.db import Location, Row
from maintbook.store.schema import SCHEMA_VERSION


@dataclass(frozen=True)
class LedgerView:
    """The maintenance's row and notices, as far as they could be read."""

    read: bool
    note: str
    state: maintenances.Maintenance | None = None
    entries: tuple[ledger.Entry, ...] = ()

    def sent(self, key: str | None = None, kind: str | None = None) -> list[ledger.Entry]:
        """Delivered notices by ledger key (`announce`, `reminder:-3d`) or by kind."""
        return [e for e in self.entries if e.status == "sent"
                and (key is None or e.key == key) and (kind is None or e.kind == kind)]


class _ReadOnly:
    """The store's transaction protocol over a read-only SQLite connection."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self.connection.execute(sql, tuple(params))

    def one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        row = self.connection.execute(sql, tuple(params)).fetchone()
        return None if row is None else tuple(row)

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return [tuple(row) for row in self.connection.execute(sql, tuple(params)).fetchall()]


def _version(tx: _ReadOnly) -> int:
    try:
        row = tx.one("SELECT value FROM maintbook_meta WHERE key = 'schema'")
    except sqlite3.DatabaseError:
        return 0
    return int(row[0]) if row else 0


def _shown(path: Path, root: Path | None) -> str:
    if root is not None and path.resolve().is_relative_to(root.resolve()):
        return path.resolve().relative_to(root.resolve()).as_posix()
    return str(path)


def read_ledger(location: Location, maintenance: str, root: Path | None = None) -> LedgerView:
    """What the state database at `location` says about one maintenance; its path is shown
    relative to `root` when it lies inside."""
    if location.path is None:
        return LedgerView(False, f"the state is {location.url}: render reads only a SQLite "
                                 "state; maintbook runs and report show what was sent")
    shown = _shown(location.path, root)
    if not location.path.is_file():
        return LedgerView(False, f"no state database at {shown} yet: nothing has been sent")
    try:
        connection = sqlite3.connect(f"{location.path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        return LedgerView(False, f"the state database {shown} cannot be read: {exc}")
    try:
        return _read(_ReadOnly(connection), shown, maintenance)
    except sqlite3.Error as exc:
        return LedgerView(False, f"the state database {shown} cannot be read: {exc}")
    finally:
        connection.close()


def _read(tx: _ReadOnly, shown: str, maintenance: str) -> LedgerView:
    version = _version(tx)
    if version != SCHEMA_VERSION:
        return LedgerView(False, f"the state database {shown} has schema version {version}, "
                                 f"not {SCHEMA_VERSION}: not read")
    return LedgerView(True, f"read from {shown}", maintenances.get(tx, maintenance),
                      tuple(ledger.of_maintenance(tx, maintenance)))
