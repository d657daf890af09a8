"""Mutated runbooks never crash validate: exit 0 or 1, never 2 for a file that exists.

CliRunner(catch_exceptions=False) lets any exception through, which fails the example.
"""

from __future__ import annotations

import copy
import json
import tempfile
from collections.abc import Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML
from validate_support import VALID, validate

SEEDS = [YAML(typ="safe", pure=True).load(p.read_text(encoding="utf-8"))
         for p in sorted(VALID.glob("*.yml"))]
SEED_BYTES = [p.read_bytes() for p in sorted(VALID.glob("*.yml"))]
FUZZ = settings(max_examples=50, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

scalars = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70),
                    st.floats(allow_nan=False), st.text(max_size=20))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=10)


@pytest.fixture(scope="module")
def folder() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as name:
        yield Path(name)


def _paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a member of a mapping or list."""
    found: list[tuple[Any, ...]] = []
    members = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(
        data, list) else []
    for key, value in members:
        found.append((*prefix, key))
        found += _paths(value, (*prefix, key))
    return found


def _parent(data: Any, path: tuple[Any, ...]) -> Any:
    for key in path[:-1]:
        data = data[key]
    return data


@st.composite
def mutated(draw: st.DrawFn) -> str:
    data = copy.deepcopy(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(data)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = _parent(data, path)
        how = draw(st.sampled_from(["delete", "replace", "deep", "huge"]))
        if how == "delete":
            del parent[path[-1]]
        elif how == "replace":
            parent[path[-1]] = draw(values)
        elif how == "deep":
            depth = draw(st.integers(10, 400))
            parent[path[-1]] = json.loads("[" * depth + "]" * depth)
        else:
            parent[path[-1]] = "x" * draw(st.integers(1000, 200_000))
    return json.dumps(data, default=str)  # JSON is YAML, and keeps every mutation


@st.composite
def spliced(draw: st.DrawFn) -> bytes:
    raw = draw(st.sampled_from(SEED_BYTES))
    at = draw(st.integers(0, len(raw)))
    cut = draw(st.integers(0, 20))
    return raw[:at] + draw(st.binary(max_size=20)) + raw[at + cut:]


yaml_ish = st.text(alphabet=st.sampled_from(list("ab:- \n\t[]{},&*!|>'\"#%@`?<=~0123")),
                   max_size=200)


def _assert_no_crash(folder: Path, content: bytes) -> None:
    path = folder / "fuzz.yml"
    path.write_bytes(content)
    for fmt in ("text", "json"):
        result = validate(str(path), "--format", fmt)
        assert result.exit_code in (0, 1), result.output
        assert "Traceback" not in result.output
        if fmt == "json":
            assert isinstance(json.loads(result.output), list)


@FUZZ
@given(text=mutated())
def test_mutated_data(folder: Path, text: str) -> None:
    _assert_no_crash(folder, text.encode("utf-8"))


@FUZZ
@given(content=spliced())
def test_random_bytes_spliced_into_a_valid_runbook(folder: Path, content: bytes) -> None:
    _assert_no_crash(folder, content)


@FUZZ
@given(text=yaml_ish)
def test_random_yaml_text(folder: Path, text: str) -> None:
    _assert_no_crash(folder, text.encode("utf-8"))


@FUZZ
@given(text=mutated(), indent=st.integers(0, 3))
def test_mutated_data_in_block_style(folder: Path, text: str, indent: int) -> None:
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    data = json.loads(text)
    out = StringIO()
    try:
        yaml.dump(data, out)
    except RecursionError:  # the dumper's limit, not maintbook's: skip this example
        return
    _assert_no_crash(folder, (" " * indent + out.getvalue()).encode("utf-8"))
