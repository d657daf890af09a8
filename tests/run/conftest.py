"""A throwaway runbook project on this machine, and helpers to run maintbook in it."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from ruamel.yaml import YAML

from maintbook.cli import main
from tests.support.pgstate import state_rows, write_config

REPO = Path(__file__).resolve().parents[2]
CONFIG = """\
# Tests run at any date: no blackouts, and zero-downtime needs no announcement, so that
# only what a test sets up can refuse a run.
policy:
  blackouts: []
  types:
    zero-downtime: {notice: 0}
"""


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Project:
    """A runbook repository in a temporary folder: maintbook.yml, inventory, runbooks."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.marks = root / "marks"
        self.marks.mkdir()

    def configure(self, extra: str) -> None:
        """maintbook.yml: the tests' base policy and `extra` (YAML, top-level keys)."""
        write_config(self.root, CONFIG + extra)

    def runbook(self, name: str = "rb", **overrides: Any) -> Path:
        """A valid zero-downtime runbook whose window is open now, with overrides."""
        now = datetime.now(UTC)
        data: dict[str, Any] = {
            "runbook": 1,
            "id": "MNT-2026-0101",
            "title": "Test maintenance",
            "owner": "sre-team",
            "type": "zero-downtime",
            "systems": ["web"],
            "window": {"start": iso(now - timedelta(minutes=5)), "duration": "2h"},
            "approvals": [{"role": "team-lead", "by": "dana"}],
            "targets": {"hosts": "web"},
            "notify": ["outbox"],
            "steps": [{"name": "Touch the first mark", "command": f"touch {self.marks}/first"}],
        }
        data.update(overrides)
        path = self.root / "runbooks" / f"{name}.yml"
        path.parent.mkdir(exist_ok=True)
        with path.open("w", encoding="utf-8") as handle:
            YAML().dump(data, handle)
        return path

    def mark(self, name: str) -> str:
        """A shell command that appends `name` to the order file."""
        return f"sh -c 'echo {name} >> {self.marks}/order'"

    def order(self) -> list[str]:
        path = self.marks / "order"
        return path.read_text().split() if path.exists() else []

    def status(self) -> dict[str, Any]:
        return json.loads((self.root / ".maintbook/status/status.json").read_text())

    def entry(self, maintenance: str = "MNT-2026-0101") -> dict[str, Any]:
        """The status-page entry of one maintenance."""
        (found,) = [m for m in self.status()["maintenances"] if m["id"] == maintenance]
        return found

    def page_statuses(self, maintenance: str = "MNT-2026-0101") -> list[str]:
        return [update["status"] for update in self.entry(maintenance)["updates"]]

    def rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Rows from the project's state database, whichever the backend."""
        return state_rows(self.root, sql, params)

    def state(self, maintenance: str = "MNT-2026-0101") -> str | None:
        found = self.rows("SELECT state FROM maintenances WHERE id = ?", (maintenance,))
        return str(found[0][0]) if found else None

    def live_leases(self) -> list[str]:
        return [r[0] for r in self.rows("SELECT run_id FROM leases WHERE status = 'live'")]

    def outbox(self, runbook_id: str = "MNT-2026-0101") -> list[dict[str, Any]]:
        path = self.root / ".maintbook/outbox" / f"{runbook_id}.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines()]

    def records(self, runbook_id: str = "MNT-2026-0101") -> list[dict[str, Any]]:
        folder = self.root / ".maintbook/runs" / runbook_id.replace("@", "_")
        return [json.loads(p.read_text()) for p in sorted(folder.glob("*/record.json"))]

    def run_folder(self, runbook_id: str = "MNT-2026-0101") -> Path:
        return sorted((self.root / ".maintbook/runs" / runbook_id).iterdir())[-1]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    root = tmp_path / "project"
    root.mkdir()
    write_config(root, CONFIG)
    (root / "inventory").mkdir()
    shutil.copy(REPO / "inventory/local.yml", root / "inventory/local.yml")
    monkeypatch.chdir(root)
    return Project(root)


@pytest.fixture
def maintbook() -> Callable[..., Result]:
    def invoke(*args: str) -> Result:
        return CliRunner().invoke(main, list(args), catch_exceptions=False)

    return invoke
