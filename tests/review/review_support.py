"""Helpers of the review tests: the repository, a pinned now, one CLI call that never raises."""

from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import CliRunner, Result

from maintbook.cli import main

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
RUNBOOKS = REPO / "runbooks"
STANDARD = sorted(RUNBOOKS.glob("*.yml"))
GOLDEN = HERE / "golden"
FIXTURE = HERE / "fixtures" / "db-maintenance.yml"  # frozen: the standard runbooks change
NOW = "2026-11-20T00:00:00Z"  # every standard runbook is valid then (warnings: skipped nights)


def cli(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def project(tmp: Path, *names: str) -> Path:
    """A runbook project in `tmp` holding copies of the named standard runbooks (or of the
    frozen fixture, by its name)."""
    (tmp / "runbooks").mkdir(parents=True, exist_ok=True)
    for name in names:
        source = FIXTURE if name == FIXTURE.name else RUNBOOKS / name
        shutil.copy(source, tmp / "runbooks" / name)
    return tmp
