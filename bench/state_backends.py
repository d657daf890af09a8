"""What the state database costs on each backend: SQLite (embedded) and PostgreSQL (shared).

Starts a private PostgreSQL 15 cluster (as the tests do: tests/support/pgstate.py, needs root
and the Debian postgresql package), then times, for each backend: opening the store (connect,
schema check; a command or a plugin does this once), a write transaction (the notice claim,
the lease, a transition: advisory lock + upsert + read back) and a read transaction. Median
of ROUNDS, in milliseconds, and the PostgreSQL/SQLite ratio.

    python bench/state_backends.py [--rounds 200]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support import pgstate  # noqa: E402

from maintbook.store import Location, Store, maintenances  # noqa: E402

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def median_ms(action: Callable[[int], None], rounds: int) -> float:
    times = []
    for number in range(rounds):
        began = time.perf_counter()
        action(number)
        times.append(time.perf_counter() - began)
    return statistics.median(times) * 1000


def measure(location: Location, rounds: int) -> dict[str, float]:
    Store.open(location).close()  # create and migrate once

    def open_close(_: int) -> None:
        Store.open(location).close()

    store = Store.open(location)

    def write(number: int) -> None:
        with store.write() as tx:
            maintenances.ensure(tx, f"MNT-2026-{number:04d}", "MNT", None,
                                (NOW, NOW + timedelta(hours=2)), NOW)

    def read(number: int) -> None:
        with store.read() as tx:
            maintenances.get(tx, f"MNT-2026-{number:04d}")

    try:
        return {"open": median_ms(open_close, max(rounds // 10, 5)),
                "write": median_ms(write, rounds), "read": median_ms(read, rounds)}
    finally:
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200)
    rounds = parser.parse_args().rounds
    with tempfile.TemporaryDirectory() as folder, pgstate.cluster() as cluster:
        os.environ[pgstate.PASSWORD_ENV] = cluster.password
        sqlite = measure(Location(path=Path(folder) / "state.db"), rounds)
        postgres = measure(Location(url=cluster.new_database(),
                                    password_env=pgstate.PASSWORD_ENV), rounds)
    print(f"{'operation':<10} {'sqlite ms':>10} {'postgresql ms':>14} {'ratio':>7}")
    for name in sqlite:
        print(f"{name:<10} {sqlite[name]:>10.2f} {postgres[name]:>14.2f} "
              f"{postgres[name] / sqlite[name]:>7.1f}")


if __name__ == "__main__":
    main()
