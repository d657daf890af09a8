"""`maintbook validate`: schema, semantic and policy checks of runbook files or folders.

One run reports every problem of each file that parsed: schema, semantic and policy
problems together. A file named maintbook.yml (or .yaml) among the paths is checked as a
project configuration instead, warnings of SPEC §14 included; the configuration in use
adds its warnings to the output too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import click

from maintbook.booking import policy_problems
from maintbook.config import load_config
from maintbook.diagnostics import Diagnostic, has_errors, report, sort_diagnostics
from maintbook.project import collect_files, load_runbook, require_config

CONFIG_NAMES = ("maintbook.yml", "maintbook.yaml")


def _config_files(files: Sequence[Path], now: datetime | None) -> tuple[list[Diagnostic], bool]:
    """The diagnostics of every configuration file named, and whether one has an error."""
    found: list[Diagnostic] = []
    for path in files:
        _, problems = load_config(path, now)
        found += problems
    return found, has_errors(found)


def run_validate(
    paths: Sequence[Path],
    config_path: Path | None,
    now: datetime | None,
    fmt: str,
    inventory: Path | None = None,
) -> int:
    """Print every diagnostic; 0 without errors, 1 with runbook errors, 2 with config errors."""
    config = require_config(config_path, fmt, now, echo=False)
    files = collect_files(paths)
    configs = [path for path in files if path.name in CONFIG_NAMES]
    diagnostics, config_errors = _config_files(configs, now)
    if config.file is None or not any(p.resolve() == Path(config.file).resolve() for p in configs):
        diagnostics += config.warnings
    loaded = [load_runbook(path, config) for path in files if path not in configs]
    diagnostics += [d for item in loaded for d in item.diagnostics]
    # one pass: the policy also judges files whose errors lie outside its fields
    judged = [replace(item, runbook=item.judged) for item in loaded]
    diagnostics += policy_problems(judged, config, now, inventory)
    output = report(sort_diagnostics(diagnostics), fmt)
    if output:
        click.echo(output, nl=False)
    if config_errors:
        return 2
    return 1 if has_errors(diagnostics) else 0
