"""Golden files: each invalid runbook against its exact diagnostics, each valid one clean."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from validate_support import (
    CONFIG,
    GENERATED,
    INVALID,
    NOW,
    VALID,
    json_diagnostics,
    validate,
)

from maintbook.commands.check import run_check
from maintbook.loader import MAX_BYTES, load_file
from maintbook.timeparse import parse_rfc3339

CASES = sorted(p.name.removesuffix(".expected.json") for p in INVALID.glob("*.expected.json"))
VALID_FILES = sorted(VALID.glob("*.yml"))

# Every diagnostic kind of the loader, the schema and the semantic checks that a runbook
# file can produce through `maintbook validate` (file-unreadable: see its own test below).
KINDS = {
    "yaml-syntax", "yaml-duplicate-key", "yaml-too-large", "yaml-too-deep", "yaml-encoding",
    "yaml-empty", "yaml-not-mapping", "yaml-key", "yaml-merge", "file-too-large",
    "schema-additionalProperties", "schema-required", "schema-enum", "schema-type",
    "schema-const", "schema-oneOf", "schema-minItems", "schema-minLength", "schema-uniqueItems",
    "schema-pattern", "schema-maximum",
    "step-action", "step-vars", "step-name-unique", "duration", "window-start", "id-pattern",
    "notify-channel", "role", "module-name", "module-unknown", "yaml-value", "yaml-alias",
    "approval-at", "recurrence-rrule", "recurrence-tz",
}


def _source(name: str, tmp_path: Path) -> Path:
    if name in GENERATED:
        path = tmp_path / f"{name}.yml"
        path.write_bytes(GENERATED[name])
        return path
    return INVALID / f"{name}.yml"


@pytest.mark.parametrize("name", CASES)
def test_invalid_runbook_gives_its_exact_diagnostics(name: str, tmp_path: Path) -> None:
    path = _source(name, tmp_path)
    expected = json.loads((INVALID / f"{name}.expected.json").read_text(encoding="utf-8"))
    assert json_diagnostics(path) == expected
    assert validate(str(path), "--format", "json").exit_code == 1


@pytest.mark.parametrize("name", CASES)
def test_invalid_runbook_has_exactly_one_mistake(name: str) -> None:
    expected = json.loads((INVALID / f"{name}.expected.json").read_text(encoding="utf-8"))
    assert len(expected) == 1
    assert expected[0]["file"] == f"{name}.yml"
    assert expected[0]["severity"] == "error"


def test_every_invalid_runbook_has_expected_diagnostics_and_the_reverse() -> None:
    committed = {p.stem for p in INVALID.glob("*.yml")}
    assert committed | set(GENERATED) == set(CASES)
    assert not committed & set(GENERATED)


def test_golden_cases_cover_every_diagnostic_kind() -> None:
    codes = {json.loads((INVALID / f"{name}.expected.json").read_text())[0]["code"]
             for name in CASES}
    assert KINDS - codes == set()
    assert len(CASES) >= 30


def test_generated_oversized_file_is_over_the_limit() -> None:
    assert len(GENERATED["file-too-large"]) > MAX_BYTES


def test_unreadable_file_is_a_diagnostic(tmp_path: Path) -> None:
    folder = tmp_path / "runbook.yml"
    folder.mkdir()  # stat works, reading fails: the same path as a permission error
    document, problems = load_file(folder, "runbook.yml")
    assert document is None
    assert [(p.line, p.column, p.code, p.message) for p in problems] == [
        (1, 1, "file-unreadable", "cannot read the file: Is a directory")]


@pytest.mark.parametrize("path", VALID_FILES, ids=lambda p: p.name)
def test_valid_runbook_is_clean(path: Path) -> None:
    result = validate(str(path))
    assert (result.exit_code, result.output) == (0, "")


def test_valid_folder_is_clean() -> None:
    result = validate(str(VALID))
    assert (result.exit_code, result.output) == (0, "")
    assert len(VALID_FILES) >= 3


def test_valid_runbooks_use_every_action_kind() -> None:
    text = "\n".join(p.read_text(encoding="utf-8") for p in VALID_FILES)
    for action in ("role:", "command:", "shell:", "http:", "wait:", "module:"):
        assert f" {action}" in text, action


def test_valid_runbooks_satisfy_the_default_policy(capsys: pytest.CaptureFixture[str]) -> None:
    """Kept true so that the policy checks joining validate leave these goldens clean."""
    assert run_check(VALID_FILES, CONFIG, parse_rfc3339(NOW), "text") == 0
    assert capsys.readouterr().out == ""
