"""The same transaction semantics on both backends (SPEC §10): writers never interleave,
a writer sees what the writer before it committed, a reader sees one snapshot."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

from maintbook.store import Location, Store, maintenances

NOW = datetime(2026, 12, 1, tzinfo=UTC)
WINDOW = (NOW, NOW + timedelta(hours=2))
HOLD = 1.0  # seconds the first writer keeps its transaction open


def test_a_second_writer_waits_and_then_sees_the_first_ones_change(location: Location) -> None:
    first = Store.open(location)
    inside, seen, waited = threading.Event(), [], []
    try:
        def late_writer() -> None:  # its own connection, as another process would have
            second = Store.open(location)
            inside.wait()
            began = time.monotonic()
            try:
                with second.write() as tx:
                    waited.append(time.monotonic() - began)
                    found = maintenances.get(tx, "MNT-2026-0001")
                    seen.append(found.state if found else None)
                    maintenances.transition(tx, "MNT-2026-0001", "announced", NOW)
            finally:
                second.close()

        thread = threading.Thread(target=late_writer)
        thread.start()
        with first.write() as tx:
            maintenances.ensure(tx, "MNT-2026-0001", "MNT-2026-0001", None, WINDOW, NOW)
            inside.set()
            time.sleep(HOLD)
        thread.join(timeout=60)
        assert seen == ["draft"] and waited[0] >= HOLD * 0.8
        with first.read() as tx:
            assert maintenances.history(tx, "MNT-2026-0001") == [
                ("draft", "announced", "2026-12-01T00:00:00Z", None)]
    finally:
        first.close()


def test_a_reader_sees_one_snapshot_while_a_writer_commits(location: Location) -> None:
    reader, writer = Store.open(location), Store.open(location)
    try:
        with writer.write() as tx:
            maintenances.ensure(tx, "MNT-2026-0001", "MNT-2026-0001", None, WINDOW, NOW)
        with reader.read() as tx:
            before = maintenances.get(tx, "MNT-2026-0001")
            with writer.write() as wtx:
                maintenances.transition(wtx, "MNT-2026-0001", "announced", NOW)
            after = maintenances.get(tx, "MNT-2026-0001")
        assert before is not None and after is not None
        assert before.state == after.state == "draft"
        with reader.read() as tx:
            now_seen = maintenances.get(tx, "MNT-2026-0001")
        assert now_seen is not None and now_seen.state == "announced"
    finally:
        reader.close()
        writer.close()
