"""Session-wide test switches: the state backend of every test project (tests/support/pgstate.py).

    MAINTBOOK_TEST_STATE=postgresql pytest tests/run     # or: pytest --state-backend postgresql

starts one PostgreSQL cluster for the session; each project then gets a database of its own.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.support import pgstate


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--state-backend", choices=pgstate.BACKENDS, default=None,
                     help=f"state database of test projects (default: ${pgstate.SWITCH} or "
                          "sqlite)")


def pytest_configure(config: pytest.Config) -> None:
    chosen = config.getoption("--state-backend")
    if chosen:
        os.environ[pgstate.SWITCH] = chosen  # subprocesses of the tests see it too
    pgstate.backend()  # a wrong value stops the session here, with the allowed ones


def pytest_report_header(config: pytest.Config) -> str:
    return f"maintbook state backend: {pgstate.backend()}"


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[pgstate.Cluster]:
    """One real PostgreSQL for the session; its role's password only in the environment."""
    with pgstate.cluster() as cluster:
        os.environ[pgstate.PASSWORD_ENV] = cluster.password
        try:
            yield cluster
        finally:
            os.environ.pop(pgstate.PASSWORD_ENV, None)


@pytest.fixture(autouse=True, scope="session")
def state_backend(request: pytest.FixtureRequest) -> Iterator[str]:
    """Route every test project's `state:` to PostgreSQL when the switch says so."""
    chosen = pgstate.backend()
    if chosen == "postgresql":
        pgstate.ACTIVE.append(request.getfixturevalue("pg_cluster"))
    try:
        yield chosen
    finally:
        pgstate.ACTIVE.clear()


@pytest.fixture(autouse=True)
def _drop_test_databases() -> Iterator[None]:
    """After each test, drop the PostgreSQL databases its projects used."""
    yield
    pgstate.drop_made()
