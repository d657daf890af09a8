"""Races with real processes (SPEC §10): two `maintbook run` started at the same moment,
20 times; and a state database that is not one."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import cast

import pytest

from maintbook.model import Runbook
from maintbook.runtime.launch import run_folder
from tests.run.conftest import Project
from tests.support.pgstate import on_postgres

pytestmark = pytest.mark.integration

MAINTBOOK = str(Path(sys.executable).parent / "maintbook")
TRIALS = 20


def together(project: Project, *paths: Path) -> list[subprocess.CompletedProcess[str]]:
    """Start the runs at the same moment (a barrier, then exec)."""
    barrier = threading.Barrier(len(paths))
    results: list[subprocess.CompletedProcess[str]] = []
    lock = threading.Lock()

    def one(path: Path) -> None:
        barrier.wait()
        done = subprocess.run([MAINTBOOK, "run", str(path)], cwd=project.root,
                              capture_output=True, text=True, check=False, timeout=300)
        with lock:
            results.append(done)

    threads = [threading.Thread(target=one, args=(p,)) for p in paths]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def exactly_one_ran(results: list[subprocess.CompletedProcess[str]]) -> str:
    codes = sorted(r.returncode for r in results)
    assert codes == [0, 2], "\n\n".join(
        f"exit {r.returncode}:\n{r.stdout[-3000:]}\n{r.stderr[-6000:]}" for r in results)
    (refused,) = [r for r in results if r.returncode == 2]
    return refused.stdout


def integrity(project: Project) -> None:
    """SQLite's own check of the file (PostgreSQL's server keeps its files itself); on both,
    one lease per run and every lease released."""
    if not on_postgres(project.root):
        with sqlite3.connect(project.root / ".maintbook/state.db") as db:
            assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert project.live_leases() == []


def test_the_same_maintenance_started_twice_runs_once(project: Project) -> None:
    for trial in range(TRIALS):
        path = project.runbook(f"same{trial}", id=f"MNT-2026-{trial + 1:04d}",
                               steps=[{"name": "Work", "command": project.mark(f"t{trial}")}])
        output = exactly_one_ran(together(project, path, path))
        assert f"holds the same maintenance MNT-2026-{trial + 1:04d}" in output
        assert project.order().count(f"t{trial}") == 1
    integrity(project)


def test_two_runbooks_sharing_a_system_never_run_together(project: Project) -> None:
    for trial in range(TRIALS):
        first = project.runbook(f"a{trial}", id=f"MNT-2026-{2 * trial + 1:04d}",
                                systems=["database"],
                                steps=[{"name": "A", "command": project.mark(f"a{trial}")}])
        second = project.runbook(f"b{trial}", id=f"MNT-2026-{2 * trial + 2:04d}",
                                 systems=["database", "api"],
                                 steps=[{"name": "B", "command": project.mark(f"b{trial}")}])
        output = exactly_one_ran(together(project, first, second))
        assert "holds system database" in output
        assert len([m for m in project.order() if m in (f"a{trial}", f"b{trial}")]) == 1
    integrity(project)


@pytest.mark.parametrize("command", [
    ["run", "runbooks/rb.yml"], ["runs"], ["report", "MNT-2026-0101"], ["tick"], ["recover"],
    ["cancel", "runbooks/rb.yml", "--reason", "x"],
    ["extend", "runbooks/rb.yml", "--by", "10m", "--reason", "x"],
])
def test_a_damaged_state_database_stops_every_command_before_anything_runs(
        project: Project, command: list[str]) -> None:
    if on_postgres(project.root):
        pytest.skip("a damaged SQLite file; PostgreSQL's refusals: tests/state")
    project.runbook(steps=[{"name": "Must not run", "command": project.mark("x")}])
    state = project.root / ".maintbook/state.db"
    state.parent.mkdir(exist_ok=True)
    state.write_bytes(os.urandom(64 * 1024))
    done = subprocess.run([MAINTBOOK, *command], cwd=project.root, capture_output=True,
                          text=True, check=False, timeout=60)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert "state database" in done.stderr and "damaged" in done.stderr
    assert project.order() == []
    assert not (project.root / ".maintbook/runs").exists()


def test_two_runs_started_in_one_clock_tick_get_their_own_folders_and_ids(tmp_path: Path) -> None:
    """The clock may tick in milliseconds: two runs of one maintenance started at the same
    moment once shared a run folder and a run id (and crashed writing into it)."""
    runbook = cast(Runbook, SimpleNamespace(maintenance_id="MNT-2026-0001"))
    moment = datetime(2026, 12, 5, 22, 57, 19, 192458, tzinfo=UTC)
    made = [run_folder(runbook, tmp_path, moment) for _ in range(3)]
    assert len({run_id for run_id, _ in made}) == 3
    assert len({folder for _, folder in made}) == 3
    assert all(folder.is_dir() and not any(folder.iterdir()) for _, folder in made)
    assert made[0][0] == "MNT-2026-0001-20261205T225719192458Z"
