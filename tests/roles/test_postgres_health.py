"""postgres_health fails on a real server pushed over each threshold, naming value and threshold.

One PostgreSQL 15 primary (namespace host db1) and its streaming replica (db2, made with
``pg_basebackup -R``) for the whole module (tests/support/pgpair.py), max_connections 20.
Each test pushes the pair over one threshold for real (replay paused on the replica, idle
sessions filling the pool, a sleeping query, a table lock another session waits for), runs
the role over SSH as an SRE would, and puts the pair back as it found it.

The module also checks backup_freshness against a dump postgres_maintenance takes of the
same primary: the role's backup location, fresh, then aged past the threshold.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tests.support import netns, pgpair
from tests.support.roles import Outcome, run_role

pytestmark = pytest.mark.integration

PREFIX = "mbpgh"
PORT = 55441
PG_BIN = "/usr/lib/postgresql/15/bin"
SEED_SQL = """
CREATE TABLE orders (id int PRIMARY KEY, note text);
CREATE INDEX orders_note ON orders (note);
INSERT INTO orders SELECT g, 'order ' || g FROM generate_series(1, 500) g;
"""


@dataclass
class Env:
    root: Path
    pair: pgpair.Pair
    hosts: dict[str, netns.SSHHost]

    def run(self, name: str, role_vars: dict[str, Any], role: str = "postgres_health") -> Outcome:
        """Run ``role`` on ``name`` (``primary`` or ``replica``)."""
        host = self.hosts[name]
        host_vars = {
            **host.inventory_vars(),
            "ansible_pipelining": True,
            # root connects as the postgres role (trust on the socket); the Molecule scenario
            # covers postgres_health_become_user.
            "postgres_health_host": str(self.pair.socket_dir(name)),
            "postgres_health_port": PORT,
            "postgres_health_bin_dir": PG_BIN,
            "postgres_health_database": "app",
        }
        facts = ("postgres_health_server_role", "postgres_health_measured")
        return run_role(self.root / "runs" / name, role, host_vars, role_vars, facts)

    def address(self, name: str) -> str:
        return self.hosts[name].address


def _wait(condition: Callable[[], bool], what: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        time.sleep(0.1)


def _replica_caught_up(pair: pgpair.Pair) -> bool:
    primary = pair.psql("primary", "SELECT pg_current_wal_lsn()")
    replayed = pair.psql("replica", "SELECT pg_last_wal_replay_lsn()")
    return pair.psql("primary", f"SELECT '{replayed}'::pg_lsn >= '{primary}'::pg_lsn") == "t"


@pytest.fixture(scope="module")
def env() -> Iterator[Env]:
    # Under /tmp with 0755: the postgres user must reach the socket folders.
    root = Path(tempfile.mkdtemp(prefix=f"{PREFIX}-", dir="/tmp"))
    root.chmod(0o755)
    with contextlib.ExitStack() as stack:
        stack.callback(shutil.rmtree, root, True)
        stack.callback(netns.down, PREFIX, root / "netns")
        hosts = netns.up(PREFIX, 2, root / "netns", ["primary", "replica"])
        pair = stack.enter_context(
            pgpair.pair(root / "pg", hosts[0].namespace, hosts[1].namespace, PORT)
        )
        pair.psql("primary", "CREATE DATABASE app")
        pair.psql("primary", SEED_SQL, database="app")
        _wait(lambda: _replica_caught_up(pair), "the replica replayed the seed data")
        yield Env(root, pair, {h.name: h for h in hosts})


@contextlib.contextmanager
def _replay_paused(pair: pgpair.Pair) -> Iterator[None]:
    pair.psql("replica", "SELECT pg_wal_replay_pause()")
    try:
        yield
    finally:
        pair.psql("replica", "SELECT pg_wal_replay_resume()")
        _wait(lambda: _replica_caught_up(pair), "the replica caught up again")


def _wal_waiting(pair: pgpair.Pair) -> bool:
    sql = "SELECT pg_last_wal_receive_lsn() > pg_last_wal_replay_lsn()"
    return pair.psql("replica", sql) == "t"


def test_a_healthy_pair_passes_on_the_default_thresholds(env: Env) -> None:
    primary = env.run("primary", {"postgres_health_min_standbys": 1})
    replica = env.run("replica", {})

    assert primary.message is None, primary.output
    assert replica.message is None, replica.output
    assert primary.facts["postgres_health_server_role"] == "primary"
    standbys = primary.facts["postgres_health_measured"]["standbys"]
    assert [(s["address"], s["state"]) for s in standbys] == [(env.address("replica"), "streaming")]
    assert replica.facts["postgres_health_server_role"] == "replica"
    measured = replica.facts["postgres_health_measured"]["replica"]
    assert (measured["lag_seconds"], measured["pause_state"]) == (0.0, "not paused")


def test_a_paused_replica_fails_on_the_replica_and_on_the_primary(env: Env) -> None:
    pair = env.pair
    pair.psql("primary", "UPDATE orders SET note = note WHERE id = 1", database="app")
    _wait(lambda: _replica_caught_up(pair), "the replica replayed the last commit")
    last_replayed = time.monotonic()
    with _replay_paused(pair):
        pair.psql("primary", "UPDATE orders SET note = 'late' WHERE id = 2", database="app")
        written = time.monotonic()
        _wait(lambda: _wal_waiting(pair), "the replica received WAL it does not replay")
        time.sleep(2.5)
        limit = {"postgres_health_max_replication_lag_seconds": 2}
        on_replica = env.run("replica", limit)
        on_primary = env.run("primary", limit)
        replica_bound, primary_bound = time.monotonic() - last_replayed, time.monotonic() - written

    assert on_replica.message is not None, on_replica.output
    found = re.fullmatch(
        rf"replication lag (\d+\.\d)s on replica {re.escape(env.address('replica'))} exceeds "
        r"the 2s threshold \((\d+) bytes of WAL wait to be replayed, replay paused\)",
        on_replica.message,
    )
    assert found, on_replica.message
    assert 2.0 < float(found.group(1)) <= replica_bound and int(found.group(2)) > 0

    assert on_primary.message is not None, on_primary.output
    found = re.fullmatch(
        rf"replication lag (\d+\.\d)s on standby {re.escape(env.address('replica'))} "
        r"\(walreceiver, streaming, (\d+) bytes behind\) exceeds the 2s threshold",
        on_primary.message,
    )
    assert found, on_primary.message
    assert 2.0 < float(found.group(1)) <= primary_bound and int(found.group(2)) > 0

    # Replay resumed: the same thresholds pass on both sides.
    assert env.run("replica", limit).message is None
    assert env.run("primary", limit).message is None


def test_a_replica_with_nothing_replayed_since_it_started_cannot_be_timed(env: Env) -> None:
    pair = env.pair
    pair.psql("primary", "CHECKPOINT")
    _wait(lambda: _replica_caught_up(pair), "the replica replayed the checkpoint")
    pair.restart_replica()  # replay restarts at that checkpoint: no transaction replayed yet
    assert pair.psql("replica", "SELECT pg_last_xact_replay_timestamp() IS NULL") == "t"
    with _replay_paused(pair):
        pair.psql("primary", "UPDATE orders SET note = 'later' WHERE id = 3", database="app")
        _wait(lambda: _wal_waiting(pair), "the replica received WAL it does not replay")
        outcome = env.run("replica", {"postgres_health_checks": ["replication"]})

    assert outcome.message is not None, outcome.output
    assert re.fullmatch(
        rf"replication lag on replica {re.escape(env.address('replica'))} cannot be timed: "
        r"\d+ bytes of WAL wait to be replayed, replay paused and no transaction was "
        r"replayed since the server started",
        outcome.message,
    ), outcome.message


def test_connections_over_80_percent_of_max_connections_fail(env: Env) -> None:
    with env.pair.sessions("primary", ["SELECT 1;"] * 16, database="app"):
        at_80 = env.run("primary", {})
    with env.pair.sessions("primary", ["SELECT 1;"] * 17, database="app"):
        over_80 = env.run("primary", {})

    assert at_80.message is None, at_80.output
    assert at_80.facts["postgres_health_measured"]["connections_percent"] == 80.0
    assert over_80.message == (
        f"connections at 85.0% of max_connections (17 of 20) on {env.address('primary')} "
        "exceed the 80% threshold"
    )


def _pid(pair: pgpair.Pair, query: str) -> str:
    sql = f"SELECT pid FROM pg_stat_activity WHERE query = '{query}' AND state = 'active'"
    return pair.psql("primary", sql)


def test_a_query_running_longer_than_1s_fails(env: Env) -> None:
    query = "SELECT pg_sleep(60);"
    with env.pair.sessions("primary", [query], database="app"):
        _wait(lambda: _pid(env.pair, query) != "", "the slow query runs")
        time.sleep(1.2)
        pid = _pid(env.pair, query)
        outcome = env.run("primary", {})

    assert outcome.message is not None, outcome.output
    found = re.fullmatch(
        rf"1 query on {re.escape(env.address('primary'))} ran longer than the 1s threshold: "
        rf'(\d+\.\d)s for pid {pid} as postgres on app: "SELECT pg_sleep\(60\);"',
        outcome.message,
    )
    assert found and float(found.group(1)) > 1.2, outcome.message


def test_a_query_waiting_on_a_lock_held_by_another_session_fails(env: Env) -> None:
    pair = env.pair
    holder_sql = "BEGIN; LOCK TABLE orders IN ACCESS EXCLUSIVE MODE;"
    waiter_sql = "SELECT count(*) FROM orders;"
    granted = (
        "SELECT a.pid FROM pg_locks l JOIN pg_stat_activity a USING (pid) "
        "WHERE l.relation = 'orders'::regclass AND l.granted AND l.mode = 'AccessExclusiveLock'"
    )
    with pair.sessions("primary", [holder_sql], database="app"):
        _wait(lambda: pair.psql("primary", granted, database="app") != "", "the lock is held")
        holder = pair.psql("primary", granted, database="app")
        with pair.sessions("primary", [waiter_sql], database="app"):
            _wait(lambda: _pid(pair, waiter_sql) != "", "the second session waits")
            waiter = _pid(pair, waiter_sql)
            outcome = env.run("primary", {"postgres_health_checks": ["lock_waits"]})

    assert outcome.message is not None, outcome.output
    assert re.fullmatch(
        rf"1 query on {re.escape(env.address('primary'))} waiting on a lock, over the "
        rf'threshold of 0: pid {waiter} as postgres on app: "SELECT count\(\*\) FROM orders;" '
        rf"waited \d+\.\ds for pid {holder}",
        outcome.message,
    ), outcome.message


def test_unused_indexes_are_reported_and_fail_only_over_a_set_threshold(env: Env) -> None:
    pair = env.pair
    pair.psql(
        "primary", "CREATE TABLE items (sku text); CREATE INDEX items_sku ON items (sku)", "app"
    )
    reported = env.run("primary", {})
    over = env.run("primary", {"postgres_health_max_unused_indexes": 1})
    pair.psql("primary", "SET enable_seqscan = off; SELECT * FROM items WHERE sku = 'x'", "app")
    after_use = env.run("primary", {"postgres_health_max_unused_indexes": 1})
    pair.psql("primary", "DROP TABLE items", "app")

    assert reported.message is None, reported.output
    unused = reported.facts["postgres_health_measured"]["unused_indexes"]
    assert [i["index"] for i in unused] == ["public.items_sku", "public.orders_note"]
    assert over.message == (
        f"2 indexes in database app on {env.address('primary')} never scanned, over the "
        "threshold of 1: public.items_sku on public.items (8192 bytes), "
        "public.orders_note on public.orders (49152 bytes)"
    )
    assert after_use.message is None, after_use.output


def test_backup_freshness_on_the_backups_postgres_maintenance_takes(env: Env) -> None:
    backups = env.root / "backups"
    backup = env.run(
        "primary",
        {
            "postgres_maintenance_operation": "backup",
            "postgres_maintenance_host": str(env.pair.socket_dir("primary")),
            "postgres_maintenance_port": PORT,
            "postgres_maintenance_bin_dir": PG_BIN,
            "postgres_maintenance_database": "app",
            "postgres_maintenance_backup_dir": str(backups),
        },
        role="postgres_maintenance",
    )
    assert backup.message is None, backup.output
    (dump,) = backups.glob("app-*.dump")
    freshness = {"backup_freshness_sets": [{"path": str(backups), "pattern": "app-*.dump"}]}

    fresh = env.run("primary", freshness, role="backup_freshness")
    day_old = time.time() - 30 * 3600
    os.utime(dump, (day_old, day_old))
    stale = env.run("primary", freshness, role="backup_freshness")

    assert fresh.message is None, fresh.output
    assert stale.message is not None, stale.output
    assert re.fullmatch(
        rf"newest backup {re.escape(str(dump))} \(\d+ bytes\) is 30\.0 h old, "
        r"over the 25 h threshold",
        stale.message,
    ), stale.message
