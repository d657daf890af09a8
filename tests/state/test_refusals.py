"""A PostgreSQL state that cannot be used is a clear refusal: exit 2, no traceback, no
password echoed (SPEC §4: secrets never appear in an error)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import pgstate

MAINTBOOK = str(Path(sys.executable).parent / "maintbook")
WRONG = "not-the-password-0451"
RUNBOOK = """\
runbook: 1
id: MNT-2026-0042
title: Reindex
owner: sre-team
type: zero-downtime
systems: [database]
window: {start: "2026-12-06T02:00:00Z", duration: 1h}
approvals: [{role: team-lead, by: dana}]
targets: {hosts: db}
steps: [{name: Reindex, command: /bin/true}]
"""


def maintbook(root: Path, *args: str, env: dict[str, str] | None = None
              ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([MAINTBOOK, *args], cwd=root, capture_output=True, text=True,
                          check=False, timeout=120, env={**os.environ, **(env or {})})


def refused(done: subprocess.CompletedProcess[str], *secrets: str) -> str:
    output = done.stdout + done.stderr
    assert done.returncode == 2, output
    assert "Traceback" not in output
    for secret in secrets:
        assert secret not in output
    return output


def project(root: Path, state: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "maintbook.yml").write_text("policy:\n  blackouts: []\n" + state)
    return root


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port  # closed again: nothing listens there


@pytest.mark.parametrize("command", [["runs"], ["tick"], ["recover"]])
def test_a_password_written_in_the_url_is_refused_where_it_stands(
        tmp_path: Path, command: list[str]) -> None:
    root = project(tmp_path, 'state:\n  url: "postgresql://maint:hunter2@db.internal/maint"\n')
    output = refused(maintbook(root, *command), "hunter2")
    assert "maintbook.yml:4:8: error config-secret state.url postgresql://maint:********@" \
           "db.internal/maint carries a password" in output
    assert "state.password_env" in output


def test_a_password_in_the_query_string_is_refused_too(tmp_path: Path) -> None:
    root = project(tmp_path, 'state:\n  url: "postgresql://db.internal/m?password=hunter2"\n')
    assert "config-secret" in refused(maintbook(root, "runs"), "hunter2")


def test_an_unreachable_server_is_refused_before_anything_runs(tmp_path: Path) -> None:
    url = f"postgresql://maintbook@127.0.0.1:{closed_port()}/maint"
    root = project(tmp_path, pgstate.state_yaml(url))
    output = refused(maintbook(root, "runs", env={pgstate.PASSWORD_ENV: "s3cret-unused"}),
                     "s3cret-unused")
    assert f"the state database {url} cannot be reached" in output
    assert "Connection refused" in output


def test_a_wrong_password_is_refused_and_not_echoed(
        tmp_path: Path, pg_cluster: pgstate.Cluster) -> None:
    url = pg_cluster.new_database()
    root = project(tmp_path, pgstate.state_yaml(url))
    output = refused(maintbook(root, "runs", env={pgstate.PASSWORD_ENV: WRONG}), WRONG,
                     pg_cluster.password)
    assert f"the state database {url} cannot be reached" in output
    assert 'password authentication failed for user "maintbook"' in output
    assert maintbook(root, "runs").returncode == 0  # the right password: the same project works


def test_an_unset_password_variable_is_named(tmp_path: Path,
                                             pg_cluster: pgstate.Cluster) -> None:
    url = pg_cluster.new_database()
    root = project(tmp_path, pgstate.state_yaml(url))
    env = {k: v for k, v in os.environ.items() if k != pgstate.PASSWORD_ENV}
    done = subprocess.run([MAINTBOOK, "runs"], cwd=root, capture_output=True, text=True,
                          check=False, timeout=120, env=env)
    output = refused(done, pg_cluster.password)
    assert f"the environment variable {pgstate.PASSWORD_ENV} is not set" in output


def test_a_server_that_goes_away_mid_command_is_a_refusal(
        tmp_path: Path, pg_cluster: pgstate.Cluster) -> None:
    """The connection is cut between two transactions: a StateError, not a traceback."""
    from maintbook.errors import MaintbookError
    from maintbook.store import Location, Store, runs

    url = pg_cluster.new_database()
    store = Store.open(Location(url=url, password_env=pgstate.PASSWORD_ENV))
    try:
        pg_cluster.psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
                        f"datname = '{url.rsplit('/', 1)[1]}'")
        with pytest.raises(MaintbookError, match="was lost in the middle of a change"), \
                store.read() as tx:
            runs.history(tx)
    finally:
        store.close()


def test_check_without_the_shared_state_still_judges_the_checkouts_own_runbooks(
        tmp_path: Path) -> None:
    """A CI job that lints pull requests has no database password: a warning, not a stop."""
    url = f"postgresql://maintbook@127.0.0.1:{closed_port()}/maint"
    root = project(tmp_path, pgstate.state_yaml(url))
    (root / "rb.yml").write_text(RUNBOOK)
    env = {k: v for k, v in os.environ.items() if k != pgstate.PASSWORD_ENV}
    done = subprocess.run([MAINTBOOK, "check", "rb.yml", "--now", "2026-11-01T00:00:00Z"],
                          cwd=root, capture_output=True, text=True, check=False, timeout=120,
                          env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert "warning: overlaps with other checkouts' bookings not checked: the state " \
           f"database {url} needs the password" in done.stderr
    unreachable = maintbook(root, "check", "rb.yml", "--now", "2026-11-01T00:00:00Z",
                            env={pgstate.PASSWORD_ENV: "s3cret-unused"})
    assert unreachable.returncode == 0 and "cannot be reached" in unreachable.stderr
    assert "s3cret-unused" not in unreachable.stdout + unreachable.stderr
