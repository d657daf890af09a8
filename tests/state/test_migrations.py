"""One schema, ordered migrations, applied the same way on SQLite and PostgreSQL.

An old database (schema version 1, before bookings) is opened by this maintbook: it reaches
the current version, its rows stay, and the new tables work. A database written by a newer
maintbook is refused instead of being changed.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from maintbook.errors import MaintbookError
from maintbook.store import Location, Store, bookings, maintenances
from maintbook.store.bookings import Booking
from maintbook.store.schema import BOOKINGS, MIGRATIONS, SCHEMA_VERSION, TABLES

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def raw(location: Location) -> Store:
    """The database without migrating it (what an older maintbook left)."""
    from maintbook.store.db import _open_postgres, _open_sqlite

    return _open_postgres(location) if location.url else _open_sqlite(location)


def at_version(location: Location, version: int) -> None:
    store = raw(location)
    try:
        with store.write() as tx:
            for number, statements in MIGRATIONS:
                if number <= version:
                    for statement in statements(store.backend):
                        tx.execute(statement)
            tx.execute("INSERT INTO maintbook_meta (key, value) VALUES ('schema', ?)",
                       (str(version),))
            maintenances.ensure(tx, "MNT-2026-0001", "MNT-2026-0001", None,
                                (NOW, NOW + timedelta(hours=2)), NOW)
    finally:
        store.close()


def version(store: Store) -> int:
    with store.read() as tx:
        row = tx.one("SELECT value FROM maintbook_meta WHERE key = 'schema'")
    assert row is not None
    return int(row[0])


def test_the_migrations_are_ordered_and_cover_every_table() -> None:
    numbers = [number for number, _ in MIGRATIONS]
    assert numbers == list(range(1, len(numbers) + 1)) and numbers[-1] == SCHEMA_VERSION
    created = " ".join(s for _, make in MIGRATIONS for s in make("sqlite"))
    assert all(f"CREATE TABLE IF NOT EXISTS {name} (" in created
               for name in [*TABLES, *BOOKINGS])


def test_a_version_1_database_migrates_and_keeps_its_rows(location: Location) -> None:
    at_version(location, 1)
    store = Store.open(location)
    try:
        assert version(store) == SCHEMA_VERSION
        with store.write() as tx:
            kept = maintenances.get(tx, "MNT-2026-0001")
            booking = Booking("MNT-2026-0002", "MNT-2026-0002", None, "Reindex", "zero-downtime",
                              ("database",), "db", "2026-12-06T02:00:00Z",
                              "2026-12-06T04:00:00Z", "ops2:/srv/maint", "runbooks/r.yml", 7,
                              "2026-12-01T00:00:00Z")
            bookings.book(tx, booking)
            seen = bookings.of_others(tx, "ops1:/srv/maint", NOW)
        assert kept is not None and kept.state == "draft"
        assert seen == [booking]
    finally:
        store.close()
    again = Store.open(location)  # opening a current database changes nothing
    try:
        assert version(again) == SCHEMA_VERSION
    finally:
        again.close()


def test_a_database_of_a_newer_maintbook_is_refused(location: Location) -> None:
    at_version(location, SCHEMA_VERSION)
    store = raw(location)
    try:
        with store.write() as tx:
            tx.execute("UPDATE maintbook_meta SET value = ? WHERE key = 'schema'",
                       (str(SCHEMA_VERSION + 1),))
    finally:
        store.close()
    with pytest.raises(MaintbookError, match=f"has schema version {SCHEMA_VERSION + 1}, newer "
                                             f"than this maintbook's \\({SCHEMA_VERSION}\\)"):
        Store.open(location)
