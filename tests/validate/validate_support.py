"""Helpers of the validate tests: the golden folders and one CLI call that never raises."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from maintbook.cli import main

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
GOLDEN = HERE / "golden"
INVALID = GOLDEN / "invalid"
VALID = GOLDEN / "valid"
CONFIG = GOLDEN / "maintbook.yml"
NOW = "2026-11-01T00:00:00Z"

# Fixtures that are not committed as files: bytes a text editor or git could mangle, and a
# file over the 1 MiB limit. The test writes them into tmp_path under NAME.yml.
GENERATED: dict[str, bytes] = {
    "yaml-encoding-latin1": (
        b"runbook: 1\nid: MNT-2027-0901\ntitle: Rotate the logs of the caf\xe9\n"),
    "yaml-encoding-nul": b"runbook: 1\nid: MNT-2027-0902\ntitle: Rotate\x00 the logs\n",
    "file-too-large": b"runbook: 1\n" + b"# padding to exceed the limit\n" * 40_000,
}


def validate(*args: str, config: Path = CONFIG) -> Result:
    """`maintbook validate ARGS --config CONFIG --now NOW` through click's CliRunner."""
    runner = CliRunner()
    return runner.invoke(main, ["validate", *args, "--config", str(config), "--now", NOW],
                         catch_exceptions=False)


def stable(diagnostics: list[dict[str, Any]], folder: Path) -> list[dict[str, Any]]:
    """Diagnostics with `file` relative to `folder` and machine paths in messages replaced."""
    out = []
    for item in diagnostics:
        item = dict(item)
        item["file"] = Path(item["file"]).relative_to(folder).as_posix()
        item["message"] = (item["message"].replace(str(GOLDEN), "<golden>")
                           .replace(str(REPO), "<repo>"))
        out.append(item)
    return out


def json_diagnostics(path: Path) -> list[dict[str, Any]]:
    """The diagnostics of one file as `--format json` prints them, made stable."""
    result = validate(str(path), "--format", "json")
    assert result.exit_code in (0, 1), result.output
    loaded: list[dict[str, Any]] = json.loads(result.output) if result.output else []
    return stable(loaded, path.parent)
