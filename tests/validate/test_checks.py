"""The semantic checks: each check's docstring examples run, and its id is its code."""

from __future__ import annotations

import re
from typing import Any

import pytest
from validate_support import CONFIG, VALID

from maintbook.checks import REGISTRY, Context, run_checks
from maintbook.config import load_config
from maintbook.loader import Document, load_file, parse_text
from maintbook.project import role_paths

EXAMPLE = re.compile(r"^\s*(pass|fail): `(.*)`$", re.MULTILINE)
BASE = load_file(VALID / "minimal.yml")[0]


def _context() -> Context:
    config, problems = load_config(CONFIG)
    assert config is not None, problems
    return Context(config, role_paths(config))


def _examples() -> list[Any]:
    run_checks(BASE, _context())  # registers the time checks too
    found = []
    for check_id, fn in REGISTRY.items():
        examples = dict(EXAMPLE.findall(fn.__doc__ or ""))
        assert set(examples) == {"pass", "fail"}, check_id
        found.append(pytest.param(check_id, examples["pass"], examples["fail"], id=check_id))
    return found


def _with(fragment: str) -> Document:
    """The valid minimal runbook with the fragment's top-level keys replaced."""
    assert BASE is not None
    patch, problems = parse_text(fragment, "example.yml")
    assert patch is not None, problems
    return Document(BASE.file, {**BASE.data, **patch.data}, BASE.source)


@pytest.mark.parametrize(("check_id", "passing", "failing"), _examples())
def test_docstring_examples(check_id: str, passing: str, failing: str) -> None:
    ctx = _context()
    assert list(REGISTRY[check_id](_with(passing), ctx)) == []
    found = list(REGISTRY[check_id](_with(failing), ctx))
    assert found, check_id
    assert {f.diagnostic.code for f in found} == {check_id}


def test_every_check_is_registered_under_its_code() -> None:
    run_checks(BASE, _context())
    assert set(REGISTRY) == {
        "step-action", "step-vars", "step-name-unique", "id-pattern", "notify-channel", "role",
        "module-name", "module-unknown", "duration", "window-start", "approval-at",
        "recurrence-rrule", "recurrence-tz", "window-budget", "approval-stale"}


@pytest.mark.parametrize("value", [5, "x", [1], None, True, {"a": [1, {"b": 2}]}])
@pytest.mark.parametrize("key", ["window", "approvals", "steps", "recurrence", "soak", "notify",
                                 "targets", "precheck", "id", "type"])
def test_checks_skip_values_of_the_wrong_type(key: str, value: Any) -> None:
    assert BASE is not None
    document = Document(BASE.file, {**BASE.data, key: value}, BASE.source)
    assert isinstance(run_checks(document, _context()), list)
