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

REPO = Path(__file__).resolve().parents[2]
CONFIG = """\
# Tests run at any date: no blackouts, so that only what a test sets up can refuse it.
policy:
  blackouts: []
"""


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Project:
    """A runbook repository in a temporary folder: maintbook.yml, inventory, runbooks."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.marks = root / "marks"
        self.marks.mkdir()

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

    def outbox(self, runbook_id: str = "MNT-2026-0101") -> list[dict[str, Any]]:
        path = self.root / ".maintbook/outbox" / f"{runbook_id}.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines()]

    def records(self, runbook_id: str = "MNT-2026-0101") -> list[dict[str, Any]]:
        folder = self.root / ".maintbook/runs" / runbook_id
        return [json.loads(p.read_text()) for p in sorted(folder.glob("*/record.json"))]

    def run_folder(self, runbook_id: str = "MNT-2026-0101") -> Path:
        return sorted((self.root / ".maintbook/runs" / runbook_id).iterdir())[-1]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    root = tmp_path / "project"
    root.mkdir()
    (root / "maintbook.yml").write_text(CONFIG)
    (root / "inventory").mkdir()
    shutil.copy(REPO / "inventory/local.yml", root / "inventory/local.yml")
    monkeypatch.chdir(root)
    return Project(root)


@pytest.fixture
def maintbook() -> Callable[..., Result]:
    def invoke(*args: str) -> Result:
        return CliRunner().invoke(main, list(args), catch_exceptions=False)

    return invoke
