"""One fleet of 20 namespace web hosts for the module (tests/support/fleet.py), and a
throwaway maintbook project per test that runs a rolling runbook against it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.support import fleet

MAINTBOOK = str(Path(sys.executable).parent / "maintbook")
PREFIX = f"mbf{os.getpid() % 10000}"
COUNT = 20
CONFIG = "policy:\n  blackouts: []\n  types:\n    zero-downtime: {notice: 0}\n"


@pytest.fixture(scope="package")
def hosts() -> Iterator[fleet.Fleet]:
    state = Path(f"/tmp/{PREFIX}")
    made = fleet.up(COUNT, PREFIX, state)
    try:
        yield made
    finally:
        fleet.down(PREFIX, state)
        # Nothing of the fleet outlives it, Ansible's SSH control masters included.
        assert fleet.wait_until(lambda: not fleet.leftovers(PREFIX, state), 10), \
            fleet.leftovers(PREFIX, state)
        shutil.rmtree(state, ignore_errors=True)


def reset(hosts: fleet.Fleet) -> None:
    """Every host healthy, serving, on version 1, out of maintenance mode."""
    for host in hosts.hosts:
        (host.home / "version").write_text("v1\n")
        (host.home / "www" / "health").write_text("ok\n")
        for path in (host.home / "faulty", host.flag,
                     host.home / "snippets" / "maintenance_mode.conf"):
            path.unlink(missing_ok=True)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def rolling_runbook(number: int, serial: int | str, max_fail: int) -> dict[str, Any]:
    """Version 2 on every web host, in batches; a host marked `faulty` breaks its health
    (its health page goes) and fails the restart, which its rollback does not repair."""
    health = {"url": "http://{{ ansible_host }}:8080/health", "status": 200}
    return {
        "runbook": 1, "id": f"MNT-2026-{number:04d}", "title": "Rolling update of the web fleet",
        "owner": "sre-team", "type": "zero-downtime", "systems": ["web"],
        "window": {"start": iso(datetime.now(UTC) - timedelta(minutes=5)), "duration": "2h"},
        "approvals": [{"role": "team-lead", "by": "dana"}],
        "targets": {"hosts": "web", "serial": serial, "max_fail_percentage": max_fail},
        "notify": ["outbox"], "progress_every": "1s", "maintenance_mode": True,
        "precheck": [{"name": "The host is healthy", "http": health}],
        "steps": [
            {"name": "Install version 2", "shell": "echo v2 > {{ fleet_home }}/version",
             "rollback": [{"name": "Reinstall version 1",
                           "shell": "echo v1 > {{ fleet_home }}/version"}]},
            {"name": "Restart the service",
             "shell": "if [ -e {{ fleet_home }}/faulty ]; then "
                      "rm -f {{ fleet_home }}/www/health; exit 1; fi"},
        ],
        "verify": [{"name": "The host answers", "http": health}],
    }


@dataclass
class Run:
    done: subprocess.CompletedProcess[str]
    record: dict[str, Any]
    project: Path
    seconds: float

    def outbox(self) -> list[dict[str, Any]]:
        found = []
        for path in (self.project / ".maintbook" / "outbox").glob("*.jsonl"):
            found += [json.loads(line) for line in path.read_text().splitlines() if line]
        return found

    def page(self) -> dict[str, Any]:
        data = json.loads((self.project / ".maintbook/status/status.json").read_text())
        (entry,) = data["maintenances"]
        return dict(entry)


def run_rolling(hosts: fleet.Fleet, root: Path, data: dict[str, Any], count: int = COUNT,
                variant: str = "nginx", extra: tuple[str, ...] = ()) -> Run:
    project = root / "project"
    (project / "runbooks").mkdir(parents=True)
    (project / "maintbook.yml").write_text(CONFIG)
    (project / "runbooks" / "rolling.yml").write_text(json.dumps(data, indent=2))
    inventory = hosts.write_inventory(project / "inventory.yml", "web", count, variant)
    started = time.monotonic()
    done = subprocess.run(
        [MAINTBOOK, "run", "runbooks/rolling.yml", "-i", str(inventory), "--format", "json",
         *extra],
        cwd=project, capture_output=True, text=True, check=False, timeout=600,
        env={**os.environ, "NO_COLOR": "1"})
    seconds = time.monotonic() - started
    records = sorted((project / ".maintbook/runs").glob("*/*/record.json"))
    record = json.loads(records[-1].read_text()) if records else {}
    return Run(done, record, project, seconds)
