"""Safe execution (SPEC §12) on real hosts: SSH hosts in network namespaces with a real
PostgreSQL (db1) and a real nginx on each web host, whose public port answers 503 while the
host is drained."""

from __future__ import annotations

from typing import Any

import pytest

from tests.runbooks.conftest import Env, http_status, psql_command, run_runbook_data

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
