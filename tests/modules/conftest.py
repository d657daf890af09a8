"""Shared helpers of the lifecycle tests: a throwaway project, its context, its state.

A `ModProject` is a runbook repository in a temporary folder (maintbook.yml, one runbook).
`context()` loads both the way `maintbook run` does and returns the `Context` that the
compiled playbook hands to the lifecycle plugins, so every test here exercises the same data
path as a real run: configuration schema, runbook model, `build_context`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from maintbook.config import load_config
from maintbook.context import Context, build_context
from maintbook.project import load_runbook
from maintbook.store import Store
from maintbook.store.schema import TABLES
from tests.support.pgstate import state_rows, write_config

REPO = Path(__file__).resolve().parents[2]
LIBRARY = REPO / "library"
CONTRACT = REPO / "tests" / "fixtures" / "statuspage-openapi.json"
BIN = Path(sys.executable).parent

# A fixed maintenance: the window of the SPEC's example, met 5 minutes into it.
START, END = "2026-12-06T02:00:00Z", "2026-12-06T04:00:00Z"
NOW = datetime(2026, 12, 6, 2, 5, tzinfo=UTC)
RUNBOOK_ID = "MNT-2026-0042"

RUNBOOK: dict[str, Any] = {
    "runbook": 1,
    "id": RUNBOOK_ID,
    "title": "Monthly PostgreSQL maintenance",
    "owner": "sre-team",
    "type": "planned-outage",
    "risk": "medium",
    "systems": ["api", "database"],
    "description": "VACUUM FULL on bloated tables, REINDEX, statistics.",
    "window": {"start": START, "duration": "2h"},
    "approvals": [{"role": "vp-engineering", "by": "bob", "at": "2026-11-21T09:00:00Z"}],
    "targets": {"hosts": "db-primary-7.internal"},
    "impact": {
        "summary": "The API and dashboard are unavailable for up to 2 hours.",
        "expect": "Requests receive HTTP 503 with a maintenance page; queued jobs resume "
        "afterwards.",
    },
    "statuspage": {"components": ["api", "database"]},
    "notify": ["ops"],
    "steps": [
        {"name": "Vacuum the bloated tables", "command": "/usr/local/bin/vacuum-full --db app"},
    ],
}


class ModProject:
    """maintbook.yml + runbooks/rb.yml in a folder; `context()` builds the lifecycle context."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.config: dict[str, Any] = {
            "policy": {"blackouts": []},
            "channels": {"ops": {"type": "outbox", "path": "outbox/ops"}},
            "statuspage": {"provider": "file", "path": "status",
                           "url": "https://status.example.com",
                           "zones": ["UTC", "America/New_York"]},
            "state": "state/state.db",
        }

    def channel(self, name: str, **options: Any) -> None:
        self.config["channels"][name] = options

    def write(self, **runbook: Any) -> Path:
        (self.root / "runbooks").mkdir(parents=True, exist_ok=True)
        write_config(self.root, yaml.safe_dump(self.config, sort_keys=False))
        path = self.root / "runbooks" / "rb.yml"
        path.write_text(yaml.safe_dump({**RUNBOOK, **runbook}, sort_keys=False))
        return path

    def context(self, **runbook: Any) -> Context:
        """The context of the runbook (RUNBOOK with `runbook` overrides) in this project."""
        self.write(**runbook)
        return load_context(self.root)

    @property
    def state_db(self) -> Path:
        return self.root / "state" / "state.db"

    def outbox(self, channel: str = "ops", maintenance: str = RUNBOOK_ID) -> list[dict[str, Any]]:
        path = self.root / "outbox" / channel / f"{maintenance}.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]

    def ledger(self) -> list[dict[str, Any]]:
        names = [name for name, _ in TABLES["notices"]]
        rows = state_rows(self.root, f"SELECT {', '.join(names)} FROM notices ORDER BY id")
        return [dict(zip(names, row, strict=True)) for row in rows]

    def status(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((self.root / "status" / "status.json").read_text())
        return data


def load_context(root: Path) -> Context:
    """The context of `root`/runbooks/rb.yml, loaded as `maintbook run` loads it."""
    config, problems = load_config(root / "maintbook.yml")
    assert config is not None, [p.message for p in problems]
    loaded = load_runbook(root / "runbooks" / "rb.yml", config)
    assert loaded.runbook is not None, [d.message for d in loaded.diagnostics]
    return build_context(loaded.runbook, config)


@pytest.fixture
def proj(tmp_path: Path) -> ModProject:
    root = tmp_path / "project"
    root.mkdir()
    return ModProject(root)


@pytest.fixture
def store(proj: ModProject) -> Iterator[Store]:
    """The project's state database (created on first use), closed after the test."""
    opened = Store.open(proj.context().state)
    try:
        yield opened
    finally:
        opened.close()


def ansible_env(tmp_path: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of an ansible-playbook or ansible-doc run in the tests."""
    env = dict(os.environ)
    env.update(
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_LOCAL_TEMP=str(tmp_path / ".ansible-tmp"),
        ANSIBLE_HOME=str(tmp_path / ".ansible-home"),
        ANSIBLE_RETRY_FILES_ENABLED="False",
        ANSIBLE_DEPRECATION_WARNINGS="False",
    )
    env.update(extra or {})
    return env


def run(cmd: list[str], cwd: Path, env: dict[str, str], timeout: float = 300
        ) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)


def wait_for_files(paths: list[Path], procs: list[subprocess.Popen[bytes]]) -> None:
    """Until every path exists (a twin process's signal); fail at once if a twin died."""
    while not all(p.exists() for p in paths):
        for proc in procs:
            if proc.poll() not in (None, 0):
                _, err = proc.communicate()
                pytest.fail(f"a twin process died: {err.decode()}")
        time.sleep(0.002)
