"""The text, json and github reporters, and the exit codes of `maintbook validate`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from validate_support import CONFIG, INVALID, NOW, VALID, validate

from maintbook.cli import main
from maintbook.diagnostics import Diagnostic, format_github, format_text

WINDOW = "unknown-window-key.yml"
WINDOW_MESSAGE = "unknown key 'end' in window; allowed: duration, start"
DUPLICATE = "duplicate-step-name.yml"
DUPLICATE_MESSAGE = ("step name 'Rotate the logs' is already used at line 15; "
                     "step names must be unique within a runbook")


@pytest.fixture(autouse=True)
def in_invalid(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run from the golden folder so that file names in the output are short and stable."""
    monkeypatch.chdir(INVALID)


def test_text_format_is_location_message_source_line_and_caret() -> None:
    result = validate(WINDOW)
    assert result.exit_code == 1
    assert result.output == (
        f"unknown-window-key.yml:10:3: error schema-additionalProperties {WINDOW_MESSAGE}\n"
        "      end: 2027-01-10T03:00:00Z\n"
        "      ^\n")


def test_text_format_is_the_default_and_sorted_by_file() -> None:
    result = validate(WINDOW, DUPLICATE, "--format", "text")
    assert result.exit_code == 1
    assert result.output == (
        f"duplicate-step-name.yml:17:11: error step-name-unique {DUPLICATE_MESSAGE}\n"
        "      - name: Rotate the logs\n"
        "              ^\n"
        f"unknown-window-key.yml:10:3: error schema-additionalProperties {WINDOW_MESSAGE}\n"
        "      end: 2027-01-10T03:00:00Z\n"
        "      ^\n")


def test_text_format_leaves_out_a_source_line_it_cannot_read(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yml"
    path.write_bytes(b"title: caf\xe9\n")
    result = validate(str(path))
    assert result.exit_code == 1
    assert result.output == (f"{path}:1:11: error yaml-encoding the file is not valid UTF-8 "
                             "(byte 0xe9)\n")


def test_text_format_caret_under_a_flow_value() -> None:
    result = validate("serial-zero.yml")
    assert result.output.splitlines()[1:] == ["      serial: 0", "              ^"]


def test_json_format_is_an_array_of_diagnostic_objects() -> None:
    result = validate(WINDOW, DUPLICATE, "--format", "json")
    assert result.exit_code == 1
    assert json.loads(result.output) == [
        {"file": DUPLICATE, "line": 17, "column": 11, "severity": "error",
         "code": "step-name-unique", "message": DUPLICATE_MESSAGE},
        {"file": WINDOW, "line": 10, "column": 3, "severity": "error",
         "code": "schema-additionalProperties", "message": WINDOW_MESSAGE},
    ]


def test_json_format_of_a_clean_run_is_an_empty_array() -> None:
    result = validate(str(VALID), "--format", "json")
    assert (result.exit_code, result.output) == (0, "[]\n")


def test_github_format_is_one_error_annotation_a_line() -> None:
    result = validate(WINDOW, DUPLICATE, "--format", "github")
    assert result.exit_code == 1
    assert result.output == (
        f"::error file={DUPLICATE},line=17,col=11,title=step-name-unique::{DUPLICATE_MESSAGE}\n"
        f"::error file={WINDOW},line=10,col=3,title=schema-additionalProperties::"
        f"{WINDOW_MESSAGE}\n")


def test_github_format_escapes_properties_and_message() -> None:
    problem = Diagnostic("a:b,c.yml", 2, 3, "warning", "x", "50% done\nnext line")
    assert format_github([problem]) == (
        "::warning file=a%3Ab%2Cc.yml,line=2,col=3,title=x::50%25 done%0Anext line\n")


def test_reporters_print_nothing_for_no_diagnostics() -> None:
    assert format_text([]) == ""
    assert format_github([]) == ""


def test_exit_0_for_a_clean_runbook() -> None:
    assert validate(str(VALID / "minimal.yml")).exit_code == 0


def test_exit_1_when_any_file_has_an_error() -> None:
    result = validate(str(VALID / "minimal.yml"), WINDOW)
    assert result.exit_code == 1
    assert result.output.startswith(f"{WINDOW}:10:3: error ")


def test_exit_2_for_a_missing_path() -> None:
    result = validate("no-such-runbook.yml")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == "maintbook: no-such-runbook.yml: no such file or folder\n"


def test_exit_2_for_a_config_file_that_is_not_valid(tmp_path: Path) -> None:
    config = tmp_path / "maintbook.yml"
    config.write_text("channels:\n  outbox: {type: outbox}\nchanels: {}\n", encoding="utf-8")
    result = validate(WINDOW, config=config)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith(f"maintbook: {config}:3:1: error schema-additionalProperties"
                                    " unknown key 'chanels' in the document; "
                                    "did you mean 'channels'?")


def test_exit_2_for_a_config_file_with_broken_yaml(tmp_path: Path) -> None:
    config = tmp_path / "maintbook.yml"
    config.write_text("channels: [outbox\n", encoding="utf-8")
    result = validate(WINDOW, config=config)
    assert result.exit_code == 2
    assert f"{config}:2:1: error yaml-syntax" in result.stderr


def test_exit_2_for_a_missing_config_file(tmp_path: Path) -> None:
    result = validate(WINDOW, config=tmp_path / "absent.yml")
    assert result.exit_code == 2
    assert "file-unreadable cannot read the file: No such file or directory" in result.stderr


@pytest.mark.parametrize("now", ["tomorrow", "2026-11-01 00:00", "2026-11-01T00:00:00"])
def test_exit_2_for_a_bad_now(now: str) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["validate", WINDOW, "--config", str(CONFIG), "--now", now],
                           catch_exceptions=False)
    assert result.exit_code == 2
    assert "Invalid value for '--now'" in result.stderr
    assert "RFC 3339" in result.stderr


def test_exit_2_for_an_unknown_format() -> None:
    result = validate(WINDOW, "--format", "sarif")
    assert result.exit_code == 2
    assert "Invalid value for '--format'" in result.stderr


def test_exit_2_without_a_path() -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["validate", "--now", NOW], catch_exceptions=False)
    assert result.exit_code == 2
    assert "Missing argument 'PATHS...'" in result.stderr
