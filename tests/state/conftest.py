"""A state database on each backend: a SQLite file, or a fresh database of the session's
PostgreSQL cluster."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from maintbook.store import Location
from tests.support import pgstate


@pytest.fixture(params=pgstate.BACKENDS)
def location(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Location]:
    if request.param == "sqlite":
        yield Location(path=tmp_path / "state.db")
        return
    cluster: pgstate.Cluster = request.getfixturevalue("pg_cluster")
    yield Location(url=cluster.new_database(), password_env=pgstate.PASSWORD_ENV)
