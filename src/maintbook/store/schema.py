"""The state database's tables, declared once for SQLite and PostgreSQL (SPEC §10).

Tables are data: `render(backend)` writes the DDL of each backend from the same declaration,
and `MIGRATIONS` lists what each schema version adds. Times are RFC 3339 UTC text (`…Z`),
which sorts and compares the same on both backends; JSON values are text.
"""

from __future__ import annotations

from collections.abc import Sequence

Column = tuple[str, str]  # (name, kind); kind: text, text!, int, int!, id, key

TABLES: dict[str, Sequence[Column]] = {
    "maintbook_meta": (("key", "key"), ("value", "text!")),
    # One row per maintenance: a runbook id, or `<runbook id>@<occurrence>`.
    "maintenances": (
        ("id", "key"),
        ("runbook", "text!"),
        ("occurrence", "text"),
        ("state", "text!"),
        ("window_start", "text!"),
        ("window_end", "text!"),
        ("announced_start", "text"),  # the window the last announce or reschedule told
        ("announced_end", "text"),
        ("announced_at", "text"),
        ("extended_end", "text"),  # the end `maintbook extend` moved the window to
        ("page", "text"),  # the status-page entry's status, once published
        ("reason", "text"),
        ("updated_at", "text!"),
    ),
    "transitions": (
        ("id", "id"),
        ("maintenance", "text!"),
        ("from_state", "text"),
        ("to_state", "text!"),
        ("at", "text!"),
        ("run_id", "text"),
        ("note", "text"),
    ),
    "runs": (
        ("run_id", "key"),
        ("maintenance", "text!"),
        ("runbook", "text!"),
        ("occurrence", "text"),
        ("type", "text!"),
        ("started_at", "text!"),
        ("ended_at", "text"),
        ("operator", "text"),
        ("outcome", "text"),
        ("check_run", "int!"),
        ("retry", "int!"),
        ("forced", "text"),  # JSON {by, reason} or null
        ("folder", "text"),
        ("summary", "text"),  # JSON: hosts, failures, closing_errors, stop_reason, ...
        ("recovered_at", "text"),
    ),
    # A live run's hold on its systems and hosts: the reservation and the crash lease at once.
    "leases": (
        ("run_id", "key"),
        ("maintenance", "text!"),
        ("runbook", "text!"),
        ("systems", "text!"),
        ("hosts", "text!"),
        ("starts", "text!"),
        ("ends", "text!"),
        ("deadline", "text!"),  # no step starts after this (window end minus the reserve)
        ("pid", "int!"),
        ("pid_start", "text"),  # the holder's start time, so a reused pid is not mistaken
        ("hostname", "text!"),
        ("playbook_pid", "int"),
        ("heartbeat_at", "text!"),
        ("status", "text!"),  # live | released
        ("stop", "text"),  # why the run must stop: interrupt | deadline | cancel
        ("context", "text"),  # JSON: what closing needs (page, silence, channels)
        ("released_at", "text"),
    ),
    # The notice ledger: one row per delivery attempt series of one kind to one channel.
    "notices": (
        ("id", "id"),
        ("maintenance", "text!"),
        ("runbook", "text!"),
        ("kind", "text!"),
        ("channel", "text!"),
        ("run_id", "text"),
        ("key", "text!"),
        ("status", "text!"),  # sent | failed
        ("attempts", "int!"),
        ("error", "text"),
        ("sent_at", "text!"),
        ("thread_ts", "text"),
        ("retry", "int!"),
    ),
}

# Added by version 2: what each checkout of a shared state has booked (SPEC §10), so that
# `check` in one checkout sees the windows another one booked.
BOOKINGS: dict[str, Sequence[Column]] = {
    "bookings": (
        ("maintenance", "key"),
        ("runbook", "text!"),
        ("occurrence", "text"),
        ("title", "text!"),
        ("type", "text!"),
        ("systems", "text!"),  # JSON list
        ("targets", "text!"),  # the runbook's host pattern
        ("window_start", "text!"),
        ("window_end", "text!"),
        ("checkout", "text!"),  # host:/path of the project that booked it
        ("file", "text!"),  # the runbook file, relative to that project
        ("line", "int!"),  # of its window
        ("updated_at", "text!"),
    ),
}

INDEXES = (
    ("notices_by_key", "notices", ("maintenance", "channel", "key")),
    ("runs_by_maintenance", "runs", ("maintenance", "started_at")),
    ("leases_by_status", "leases", ("status",)),
)

_KINDS = {
    "sqlite": {
        "key": "TEXT PRIMARY KEY",
        "id": "INTEGER PRIMARY KEY AUTOINCREMENT",
        "text": "TEXT",
        "text!": "TEXT NOT NULL",
        "int": "INTEGER",
        "int!": "INTEGER NOT NULL",
    },
    "postgresql": {
        "key": "TEXT PRIMARY KEY",
        "id": "BIGSERIAL PRIMARY KEY",
        "text": "TEXT",
        "text!": "TEXT NOT NULL",
        "int": "BIGINT",
        "int!": "BIGINT NOT NULL",
    },
}


def create_table(backend: str, name: str, tables: dict[str, Sequence[Column]] = TABLES) -> str:
    kinds = _KINDS[backend]
    columns = ", ".join(f"{column} {kinds[kind]}" for column, kind in tables[name])
    return f"CREATE TABLE IF NOT EXISTS {name} ({columns})"


def create_index(name: str, table: str, columns: Sequence[str]) -> str:
    return f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({', '.join(columns)})"


def version_1(backend: str) -> list[str]:
    """The revision-2 state: maintenances, transitions, runs, leases, notices."""
    statements = [create_table(backend, name) for name in TABLES]
    return statements + [create_index(*index) for index in INDEXES]


def version_2(backend: str) -> list[str]:
    """Bookings of a shared state."""
    return [create_table(backend, "bookings", BOOKINGS),
            create_index("bookings_by_checkout", "bookings", ("checkout",))]


# Schema version → the statements that reach it from the version before, in order. Both
# backends apply the same list; a database records the version it reached (maintbook_meta).
MIGRATIONS = ((1, version_1), (2, version_2))
SCHEMA_VERSION = MIGRATIONS[-1][0]
# Tables of the first release's state file, kept aside (renamed) when it is migrated.
LEGACY_TABLES = ("reservations", "runs", "notices")
