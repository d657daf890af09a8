"""Two checkouts of a team in two folders share one real PostgreSQL state (SPEC §10, issue 14).

Whatever MAINTBOOK_TEST_STATE says, these tests start the session's PostgreSQL cluster: the
two projects point `state:` at one database of it, with the password only in the environment.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from tests.support import pgstate

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
MAINTBOOK = str(Path(sys.executable).parent / "maintbook")
TRIALS = 20
POLICY = """\
# Tests run at any date: no blackouts, and zero-downtime needs no announcement.
policy:
  blackouts: []
  types:
    zero-downtime: {notice: 0}
"""
START = datetime(2026, 12, 6, 2, 0, tzinfo=UTC)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Checkout:
    """One operator's project folder; its maintbook.yml names the shared state."""

    root: Path
    marks: Path

    def runbook(self, name: str, **overrides: Any) -> Path:
        now = datetime.now(UTC)
        data: dict[str, Any] = {
            "runbook": 1, "id": "MNT-2026-0101", "title": f"Work from {self.root.name}",
            "owner": "sre-team", "type": "zero-downtime", "systems": ["database"],
            "window": {"start": iso(now - timedelta(minutes=5)), "duration": "2h"},
            "approvals": [{"role": "team-lead", "by": "dana"}],
            "targets": {"hosts": "web"}, "notify": ["outbox"],
            "steps": [{"name": "Work", "command": f"sh -c 'echo {name} >> {self.marks}'"}],
        }  # fmt: skip
        data.update(overrides)
        path = self.root / "runbooks" / f"{name}.yml"
        with path.open("w", encoding="utf-8") as handle:
            YAML().dump(data, handle)
        return path

    def maintbook(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([MAINTBOOK, *args], cwd=self.root, capture_output=True, text=True,
                              check=False, timeout=300, env={**os.environ, "NO_COLOR": "1"})

    def outbox(self) -> list[dict[str, Any]]:
        return [json.loads(line) for path in sorted((self.root / ".maintbook/outbox").glob("*"))
                for line in path.read_text().splitlines()]


@pytest.fixture
def checkouts(tmp_path: Path, pg_cluster: pgstate.Cluster) -> tuple[Checkout, Checkout]:
    """Two project folders whose `state:` is one fresh database of the session's cluster."""
    url = pg_cluster.new_database()
    found = []
    for name in ("alice", "bob"):
        root = tmp_path / name
        (root / "runbooks").mkdir(parents=True)
        (root / "inventory").mkdir()
        shutil.copy(REPO / "inventory/local.yml", root / "inventory/local.yml")
        (root / "maintbook.yml").write_text(POLICY + pgstate.state_yaml(url))
        found.append(Checkout(root, tmp_path / f"{name}.marks"))
    return found[0], found[1]


def together(jobs: Sequence[tuple[Checkout, list[str]]]) -> list[subprocess.CompletedProcess[str]]:
    """Start one maintbook per job at the same moment (a barrier, then exec); in job order."""
    barrier = threading.Barrier(len(jobs))
    results: list[subprocess.CompletedProcess[str] | None] = [None] * len(jobs)

    def one(index: int) -> None:
        checkout, args = jobs[index]
        barrier.wait()
        results[index] = checkout.maintbook(*args)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(jobs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(r is not None for r in results)
    return [r for r in results if r is not None]


def marks(checkout: Checkout) -> list[str]:
    return checkout.marks.read_text().split() if checkout.marks.exists() else []


def test_two_checkouts_starting_runs_on_one_system_at_once_run_exactly_one(
        checkouts: tuple[Checkout, Checkout], pg_cluster: pgstate.Cluster) -> None:
    alice, bob = checkouts
    winners = {"alice": 0, "bob": 0}
    for trial in range(TRIALS):
        ids = {"alice": f"MNT-2026-{2 * trial + 1:04d}", "bob": f"MNT-2026-{2 * trial + 2:04d}"}
        mine = alice.runbook(f"a{trial}", id=ids["alice"], systems=["database"])
        theirs = bob.runbook(f"b{trial}", id=ids["bob"], systems=["api", "database"])
        results = together([(alice, ["run", str(mine)]), (bob, ["run", str(theirs)])])
        codes = [r.returncode for r in results]
        assert sorted(codes) == [0, 2], [r.stdout[-2000:] + r.stderr[-2000:] for r in results]
        winner = ["alice", "bob"][codes.index(0)]
        loser = "bob" if winner == "alice" else "alice"
        refused = results[codes.index(2)]
        assert f"of {ids[winner]} (pid " in refused.stdout and "holds system database" in \
            refused.stdout, refused.stdout
        assert "Traceback" not in refused.stdout + refused.stderr
        assert marks(alice).count(f"a{trial}") + marks(bob).count(f"b{trial}") == 1
        assert ids[loser] not in {n["runbook"] for n in (alice if loser == "alice" else bob)
                                  .outbox() if n["notice"] == "start"}
        winners[winner] += 1
    assert sum(winners.values()) == TRIALS
    live = pg_cluster.psql("SELECT count(*) FROM leases WHERE status = 'live'",
                           database=_database(alice))
    assert live == "0"
    runs = pg_cluster.psql("SELECT outcome, count(*) FROM runs GROUP BY outcome ORDER BY 1",
                           database=_database(alice))
    assert runs.splitlines() == [f"refused|{TRIALS}", f"succeeded|{TRIALS}"]
    _no_password_written(checkouts, pg_cluster.password)


def _database(checkout: Checkout) -> str:
    return pgstate.state_location(checkout.root).url.rsplit("/", 1)[1]  # type: ignore[union-attr]


def _no_password_written(checkouts: Sequence[Checkout], password: str) -> None:
    """Neither maintbook.yml, the records, the ansible-runner artifacts nor any other file."""
    for checkout in checkouts:
        for path in checkout.root.rglob("*"):
            if path.is_file():
                assert password.encode() not in path.read_bytes(), path


def planned(checkout: Checkout, name: str, rid: str, start: datetime, systems: list[str]
            ) -> Path:
    return checkout.runbook(name, id=rid, type="planned-outage", systems=systems,
                            window={"start": iso(start), "duration": "2h"},
                            approvals=[{"role": "vp-engineering", "by": "bob"}])


def test_check_in_either_checkout_reports_the_others_booking_as_an_overlap(
        checkouts: tuple[Checkout, Checkout]) -> None:
    alice, bob = checkouts
    planned(alice, "upgrade", "MNT-2026-0301", START, ["database"])
    planned(bob, "reindex", "MNT-2026-0302", START + timedelta(hours=1), ["database", "api"])
    before = alice.maintbook("check", "runbooks/upgrade.yml", "--now", iso(START - timedelta(
        days=10)))
    assert before.returncode == 0, before.stdout + before.stderr  # bob booked nothing yet
    moment = iso(START - timedelta(days=10))
    for checkout in checkouts:  # each checkout's tick books its runbooks in the shared state
        assert checkout.maintbook("tick", "--now", moment).returncode == 0
    mine = alice.maintbook("check", "runbooks/upgrade.yml", "--now", moment)
    assert mine.returncode == 1, mine.stdout + mine.stderr
    assert f"overlap with MNT-2026-0302 ({socket.gethostname()}:{bob.root}/runbooks/reindex.yml" \
        in mine.stdout, mine.stdout
    assert "on system database" in mine.stdout
    theirs = bob.maintbook("check", "runbooks/reindex.yml", "--now", moment)
    assert theirs.returncode == 1, theirs.stdout + theirs.stderr
    assert f"overlap with MNT-2026-0301 ({socket.gethostname()}:{alice.root}/runbooks/upgrade.yml" \
        in theirs.stdout, theirs.stdout
    # bob moves his runbook away and ticks: his old booking is replaced, alice is clear again
    planned(bob, "reindex", "MNT-2026-0302", START + timedelta(days=1), ["database", "api"])
    assert bob.maintbook("tick", "--now", moment).returncode == 0
    again = alice.maintbook("check", "runbooks/upgrade.yml", "--now", moment)
    assert again.returncode == 0, again.stdout + again.stderr


def test_tick_in_both_checkouts_sends_each_notice_once(
        checkouts: tuple[Checkout, Checkout]) -> None:
    """Two clones of one repository: the same runbook in both, ticked at the same moments."""
    for checkout in checkouts:
        planned(checkout, "upgrade", "MNT-2026-0401", START, ["database"])
    clock = [START - timedelta(days=8), START - timedelta(days=7) + timedelta(minutes=1),
             START - timedelta(days=3) + timedelta(minutes=1),
             START - timedelta(hours=23), START + timedelta(hours=2, minutes=1)]
    for moment in clock:
        results = together([(c, ["tick", "--now", iso(moment)]) for c in checkouts])
        assert [r.returncode for r in results] == [0, 0], [r.stdout + r.stderr for r in results]
    sent = sorted(n["notice"] for c in checkouts for n in c.outbox())
    assert sent == ["announce", "missed", "reminder", "reminder"]
