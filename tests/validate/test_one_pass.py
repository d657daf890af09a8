"""One validate run reports every problem of a file that parsed, once each."""

from __future__ import annotations

import json
from pathlib import Path

from validate_support import validate

FOUR_MISTAKES = """\
runbook: 1
id: MNT-2027-0801
title: Rotate the logs
owner: sre-team
type: zero-downtime
systems: [one-pass]
window:
  start: 2026-12-20T02:00:00Z
  durration: 1h
approvals: [{role: team-lead, by: carol}]
targets: {hosts: localhost}
steps:
  - name: Rotate the logs
    role: no_such_role
    retries: many
"""


def _found(tmp_path: Path, text: str) -> list[tuple[int, str, str]]:
    path = tmp_path / "runbook.yml"
    path.write_text(text, encoding="utf-8")
    result = validate(str(path), "--format", "json")
    assert result.exit_code == 1, result.output
    return [(d["line"], d["code"], d["message"]) for d in json.loads(result.stdout)]


def test_four_independent_mistakes_give_four_diagnostics(tmp_path: Path) -> None:
    text = FOUR_MISTAKES.replace("  durration: 1h\n", "  duration: 1h\n  durration: 1h\n")
    found = _found(tmp_path, text)
    assert [(line, code) for line, code, _ in found] == [
        (8, "blackout"),  # policy, judged although the steps have errors
        (10, "schema-additionalProperties"),
        (15, "role"),
        (16, "schema-type"),
    ]
    assert found[1][2] == "unknown key 'durration' in window; did you mean 'duration'?"


def test_a_misspelt_required_key_is_one_mistake(tmp_path: Path) -> None:
    found = _found(tmp_path, FOUR_MISTAKES)
    assert [(line, code) for line, code, _ in found] == [
        (9, "schema-additionalProperties"), (14, "role"), (15, "schema-type")]


def test_a_value_of_the_wrong_type_is_one_diagnostic(tmp_path: Path) -> None:
    text = FOUR_MISTAKES.replace("  durration: 1h\n", "  duration: [1h]\n").replace(
        "role: no_such_role\n    retries: many\n", "wait: 1s\n")
    assert [(line, code) for line, code, _ in _found(tmp_path, text)] == [(9, "schema-type")]


def test_a_wrong_window_leaves_the_policy_silent(tmp_path: Path) -> None:
    text = FOUR_MISTAKES.replace("window:\n  start: 2026-12-20T02:00:00Z\n  durration: 1h\n",
                                 "window: 2026-12-20T02:00:00Z\n").replace(
        "role: no_such_role\n    retries: many\n", "wait: 1s\n")
    assert [(line, code) for line, code, _ in _found(tmp_path, text)] == [(7, "schema-type")]
