"""`validate` warns when the timeouts and the rollback reserve do not fit the window."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from maintbook.cli import main

RUNBOOK = """\
runbook: 1
id: MNT-2027-0003
title: Monthly-style maintenance
owner: sre-team
type: zero-downtime
systems: [database]
window:
  start: 2027-02-07T02:00:00Z
  duration: 2h
approvals: [{{role: team-lead, by: alice}}]
targets: {{hosts: db_primary}}
{extra}steps:
  - {{name: Backup, command: backup, timeout: 30m}}
  - {{name: Verify the backup, command: verify, timeout: 30m}}
  - {{name: VACUUM FULL, command: vacuum, timeout: 45m}}
  - {{name: REINDEX, command: reindex, timeout: 20m}}
"""


def diagnostics(tmp_path: Path, extra: str = "") -> list[dict[str, object]]:
    path = tmp_path / "rb.yml"
    path.write_text(RUNBOOK.format(extra=extra))
    result = CliRunner().invoke(main, ["validate", str(path), "--format", "json",
                                       "--now", "2026-11-20T00:00:00Z"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output  # a warning, not an error
    found: list[dict[str, object]] = json.loads(result.output)
    return [d for d in found if d["code"] == "window-budget"]


def test_timeouts_over_the_window_are_a_warning_at_the_window_line(tmp_path: Path) -> None:
    (warning,) = diagnostics(tmp_path)
    assert warning["severity"] == "warning" and warning["line"] == 9
    assert "(2h5m) plus the rollback reserve (15m) exceed the 2h window by 20m" in str(
        warning["message"])


def test_a_smaller_reserve_still_overflows_by_less(tmp_path: Path) -> None:
    (warning,) = diagnostics(tmp_path, "rollback_reserve: 10m\n")
    assert "exceed the 2h window by 15m" in str(warning["message"])


def test_a_window_the_timeouts_fit_gives_no_warning(tmp_path: Path) -> None:
    text = RUNBOOK.replace("timeout: 45m", "timeout: 25m")
    path = tmp_path / "fits.yml"
    path.write_text(text.format(extra=""))
    result = CliRunner().invoke(main, ["validate", str(path), "--format", "json",
                                       "--now", "2026-11-20T00:00:00Z"],
                                catch_exceptions=False)
    assert [d for d in json.loads(result.output or "[]") if d["code"] == "window-budget"] == []
