"""Safe execution (SPEC §12) on real hosts: SSH hosts in network namespaces with a real
PostgreSQL (db1) and a real nginx on each web host, whose public port answers 503 while the
host is drained."""

from __future__ import annotations

import json
import os
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.runbooks.conftest import (
    CONFIG,
    MAINTBOOK,
    Env,
    http_status,
    psql_command,
    run_runbook_data,
)

pytestmark = pytest.mark.integration


def runbook(rid: str, **fields: Any) -> dict[str, Any]:
    return {
        "runbook": 1, "id": rid, "title": "Safe execution", "owner": "sre-team",
        "type": "zero-downtime", "systems": ["database", "web"],
        "window": {"start": "2027-01-10T02:00:00Z", "duration": "2h"},
        "approvals": [{"role": "team-lead", "by": "dana"}],
        **fields,
    }


def column_names(env: Env) -> list[str]:
    found = env.psql("SELECT column_name FROM information_schema.columns "
                     "WHERE table_name = 'settings' ORDER BY ordinal_position")
    return found.split()


def test_a_failing_database_tier_stops_the_web_tier_and_rolls_the_database_back(env: Env):
    marker = env.root / "web-release"
    data = runbook(
        "MNT-2027-0101",
        targets={"hosts": "db_primary:web"},
        steps=[
            {"name": "Rename a settings column", "hosts": "db_primary",
             "shell": psql_command(env, "ALTER TABLE settings RENAME COLUMN value TO val"),
             "rollback": [{"name": "Rename it back", "shell": psql_command(
                 env, "ALTER TABLE settings RENAME COLUMN val TO value")}]},
            {"name": "Run a migration that fails", "hosts": "db_primary",
             "shell": psql_command(env, "SELECT no_such_function()")},
            {"name": "Deploy the new release", "hosts": "web",
             "shell": f"echo {{{{ inventory_hostname }}}} >> {marker}"},
        ],
    )
    done, record = run_runbook_data(env, "two-tier", data)
    assert done.returncode == 1, done.stdout[-4000:]
    assert record["hosts"] == {"db1": "rolled_back", "web1": "not_started",
                               "web2": "not_started"}
    assert not marker.exists(), "the web tier never started its deploy"
    assert column_names(env) == ["name", "value"], "the database is as it was"
    (failure,) = record["failures"]
    assert "no_such_function" in " ".join(failure["stderr"] + [failure["msg"]])


def test_a_rollback_that_leaves_a_host_unhealthy_keeps_it_drained(env: Env):
    healthy = {name: env.root / f"healthy-{name}" for name in ("web1", "web2")}
    for path in healthy.values():
        path.touch()
    data = runbook(
        "MNT-2027-0102",
        systems=["web"],
        targets={"hosts": "web"},
        maintenance_mode=True,
        precheck=[{"name": "The host is healthy",
                   "command": f"test -f {env.root}/healthy-{{{{ inventory_hostname }}}}"}],
        steps=[
            {"name": "Break web1", "hosts": "web1", "command": f"rm -f {healthy['web1']}"},
            {"name": "Fail on web1", "hosts": "web1", "command": "false"},
        ],
        rollback=[{"name": "A rollback that does not repair", "command": "true"}],
    )
    done, record = run_runbook_data(env, "drained", data)
    assert done.returncode == 3, done.stdout[-4000:]
    assert record["outcome"] == "rollback_failed"
    assert record["hosts"] == {"web1": "rollback_failed", "web2": "not_started"}
    assert record["drained"] == ["web1"]
    web1, web2 = env.hosts["web1"].address, env.hosts["web2"].address
    assert http_status(f"http://{web1}:8081/") == 503, "web1 stays out of the pool"
    assert http_status(f"http://{web2}:8081/") == 200, "web2 serves again"


# ------------------------------------------------- runs inside their own (real) window

IN_WINDOW_CONFIG = CONFIG + "  types:\n    zero-downtime: {notice: 0}\n"


def windowed(rid: str, started_ago: timedelta, duration: str, **fields: Any) -> dict[str, Any]:
    """A web-tier runbook whose window opened `started_ago`: it runs unforced, so the
    deadline is the real one (window end minus the rollback reserve)."""
    start = datetime.now(UTC) - started_ago
    return runbook(rid, systems=["web"], targets={"hosts": "web1"},
                   window={"start": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
                           "duration": duration}, **fields)


def start_in_window(env: Env, name: str, data: dict[str, Any]
                    ) -> tuple[Path, subprocess.Popen[str]]:
    """Write `data` into a fresh project and start `maintbook run` on it, unforced."""
    project = env.root / f"project-{name}"
    (project / "runbooks").mkdir(parents=True)
    (project / "runbooks" / f"{name}.yml").write_text(json.dumps(data, indent=2))
    (project / "maintbook.yml").write_text(IN_WINDOW_CONFIG)
    process = subprocess.Popen(
        [str(MAINTBOOK), "run", f"runbooks/{name}.yml", "-i", str(env.inventory)],
        cwd=project, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "NO_COLOR": "1"})
    return project, process


def finish(project: Path, process: subprocess.Popen[str]
           ) -> tuple[int, str, dict[str, Any]]:
    output, _ = process.communicate(timeout=600)
    records = sorted((project / ".maintbook/runs").glob("*/*/record.json"))
    return process.returncode, output, json.loads(records[-1].read_text()) if records else {}


def test_rollbacks_run_newest_first_each_once(env: Env):
    """A (own rollback), B (changed, no rollback), C (own rollback, fails): C's own, A's
    own, then the runbook's, each exactly once, as written by the steps to one log."""
    log = env.root / "undo-order.log"

    def write(word: str) -> str:
        return f"echo {word} >> {log}"

    data = runbook(
        "MNT-2027-0103", systems=["web"], targets={"hosts": "web1"},
        steps=[
            {"name": "A", "shell": write("A"),
             "rollback": [{"name": "Undo A", "shell": write("undo-A")}]},
            {"name": "B", "shell": write("B")},
            {"name": "C", "shell": write("C") + " && false",
             "rollback": [{"name": "Undo C", "shell": write("undo-C")}]},
        ],
        rollback=[{"name": "Runbook rollback", "shell": write("undo-runbook")}],
    )
    done, record = run_runbook_data(env, "undo-order", data)
    assert done.returncode == 1, done.stdout[-4000:]
    assert log.read_text().split() == ["A", "B", "C", "undo-C", "undo-A", "undo-runbook"]
    assert record["outcome"] == "rolled_back"
    assert record["hosts"] == {"web1": "rolled_back"}


def deadline_data(rid: str, marks: Path, sleep: int) -> dict[str, Any]:
    """A 3-minute window that opened 50 s ago with a 2-minute reserve: the deadline is about
    10 s away when the run starts, and the first step outlasts it."""
    def mark(word: str) -> str:
        return f"echo {word} >> {marks}"

    return windowed(
        rid, timedelta(seconds=50), "3m", rollback_reserve="2m",
        steps=[{"name": "Slow copy",
                "shell": f"{mark('slow')}; sleep {sleep}; {mark('slow-done')}"},
               {"name": "After the deadline", "shell": mark("late")}],
        rollback=[{"name": "Undo the copy", "shell": mark("undo")}],
    )


def test_reaching_the_deadline_rolls_back_on_the_hosts(env: Env):
    marks = env.root / "deadline.log"
    project, process = start_in_window(env, "deadline",
                                       deadline_data("MNT-2027-0104", marks, 15))
    code, output, record = finish(project, process)
    assert code == 1, output[-4000:]
    assert marks.read_text().split() == ["slow", "slow-done", "undo"], "no step after it"
    assert record["outcome"] == "rolled_back" and record["stop_reason"] == "deadline"
    assert record["hosts"] == {"web1": "rolled_back"}


def test_extend_moves_the_deadline_and_the_run_completes_on_the_hosts(env: Env):
    marks = env.root / "extend.log"
    project, process = start_in_window(env, "extend",
                                       deadline_data("MNT-2027-0105", marks, 20))
    waited = time.monotonic() + 120
    while not marks.exists():
        assert process.poll() is None and time.monotonic() < waited, process.communicate()[0]
        time.sleep(0.2)
    extended = subprocess.run(
        [str(MAINTBOOK), "extend", "runbooks/extend.yml", "--by", "30m",
         "--reason", "the copy is slow"],
        cwd=project, capture_output=True, text=True, timeout=60, check=False)
    assert extended.returncode == 0, extended.stdout + extended.stderr
    code, output, record = finish(project, process)
    assert code == 0, output[-4000:]
    assert marks.read_text().split() == ["slow", "slow-done", "late"]
    assert record["outcome"] == "succeeded"


def test_a_soak_check_failing_from_its_third_round_rolls_back_and_serves_again(env: Env):
    """Rounds 1 and 2 pass; round 3 fails: the change is undone and web1's nginx, drained
    during the maintenance, answers 200 again."""
    rounds, changes = env.root / "soak-rounds", env.root / "soak-changes"
    data = runbook(
        "MNT-2027-0106", systems=["web"], targets={"hosts": "web1"},
        maintenance_mode=True,
        steps=[{"name": "Change", "shell": f"echo change >> {changes}"}],
        soak={"duration": "8s", "every": "1s", "checks": [
            {"name": "Error rate stays low",
             "shell": f"echo x >> {rounds}; test $(wc -l < {rounds}) -lt 3"}]},
        rollback=[{"name": "Undo", "shell": f"echo undo >> {changes}"}],
    )
    done, record = run_runbook_data(env, "soak", data)
    assert done.returncode == 1, done.stdout[-4000:]
    assert rounds.read_text().split() == ["x", "x", "x"], "no round after the failing one"
    assert changes.read_text().split() == ["change", "undo"]
    assert record["outcome"] == "rolled_back"
    soak = [s for s in record["steps"] if s["phase"] == "soak" and s["result"] != "skipped"]
    assert [s["result"] for s in soak] == ["ok", "ok", "failed"]
    assert http_status(f"http://{env.hosts['web1'].address}:8081/") == 200
