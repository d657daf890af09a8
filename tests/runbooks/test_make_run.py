"""`make run`: the daily runbook's open occurrence, or the next one named and nothing run
(exit 2), or with FORCE=1 that next one now, forced and recorded (README "The two commands").

Runs the repository's own Makefile on a copy of its runbooks and inventory (so the run's
state and records stay in a temporary folder), against this machine (inventory/local.yml),
with the virtual environment of these tests. NOW= pins the clock: 2027-01-12 12:00 UTC is
outside the 02:00 window, and the next night's occurrence moves to 04:00 because the rolling
OS update holds the web hosts from 02:00 on the second Wednesday.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.runbooks.conftest import REPO

pytestmark = pytest.mark.integration
VENV = Path(sys.executable).parent.parent
NOW = "2027-01-12T12:00:00Z"
NEXT = "MNT-2027-0007@20270113T0200Z"


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    for name in ("Makefile", "pyproject.toml"):
        shutil.copy2(REPO / name, tmp_path / name)  # mtimes kept: the venv is not rebuilt
    for folder in ("runbooks", "inventory"):
        shutil.copytree(REPO / folder, tmp_path / folder)
    return tmp_path


def make_run(checkout: Path, *variables: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "-s", "-o", f"{VENV}/.installed", "run", f"VENV={VENV}", f"NOW={NOW}",
         *variables],
        cwd=checkout, capture_output=True, text=True, check=False, timeout=600,
        env={**os.environ, "NO_COLOR": "1"},
    )  # fmt: skip


def test_make_run_outside_the_window_names_the_next_occurrence_and_runs_nothing(
    checkout: Path,
) -> None:
    done = make_run(checkout)

    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stdout == ""
    assert done.stderr.splitlines()[:2] == [
        f"maintbook: MNT-2027-0007: no occurrence is open now; the next is {NEXT} from "
        "2027-01-13T04:00Z. Run it then, or now with --force-window --reason TEXT",
        "make run FORCE=1 runs it now.",
    ]
    assert not (checkout / ".maintbook" / "runs").exists(), "nothing ran"


def test_make_run_force_runs_the_next_occurrence_now_and_records_why(checkout: Path) -> None:
    done = make_run(checkout, "FORCE=1")

    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == f"{NEXT}: succeeded", done.stdout
    assert [line.split(":")[0].strip() for line in lines[1:]] == [
        "run", "record", "report", "status page", "outbox", "ended"]  # fmt: skip
    (record_path,) = (checkout / ".maintbook/runs").glob("*/*/record.json")
    record = json.loads(record_path.read_text())
    assert record["maintenance"] == NEXT and record["outcome"] == "succeeded"
    assert record["forced"]["reason"] == "first run on this machine (make run FORCE=1)"
    assert record_path.parent.parent.name == NEXT.replace("@", "_")

    again = make_run(checkout, "FORCE=1")

    assert again.returncode == 2, again.stdout + again.stderr
    assert f"{NEXT} already succeeded" in again.stdout + again.stderr
    outcomes = sorted(
        json.loads(p.read_text())["outcome"]
        for p in (checkout / ".maintbook/runs").glob("*/*/record.json")
    )
    assert outcomes == ["refused", "succeeded"]


def test_make_run_inside_the_window_runs_the_open_occurrence_once_it_was_announced(
    checkout: Path,
) -> None:
    maintbook = str(VENV / "bin" / "maintbook")
    inside = "NOW=2027-01-12T02:10:00Z"  # the 12th's occurrence is open from 01:45 to 03:00

    refused = make_run(checkout, inside)

    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert refused.stdout.startswith("MNT-2027-0007@20270112T0200Z: refused\n")
    assert "needs its announcement 1d before the start" in refused.stdout
    subprocess.run(
        [maintbook, "tick", "--now", "2027-01-10T00:00:00Z"],
        cwd=checkout,
        check=True,
        capture_output=True,
        timeout=600,
    )  # announces the series

    done = make_run(checkout, inside)

    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("MNT-2027-0007@20270112T0200Z: succeeded\n")
    records = [
        json.loads(p.read_text()) for p in (checkout / ".maintbook/runs").glob("*/*/record.json")
    ]
    assert sorted((r["outcome"], r["forced"]) for r in records) == [
        ("refused", None), ("succeeded", None)]  # fmt: skip
