"""`maintbook validate`: schema, semantic and policy checks of runbook files or folders."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import click

from maintbook.commands.check import policy_problems
from maintbook.diagnostics import has_errors, report, sort_diagnostics
from maintbook.project import load_runbooks, require_config


def run_validate(
    paths: Sequence[Path],
    config_path: Path | None,
    now: datetime | None,
    fmt: str,
    inventory: Path | None = None,
) -> int:
    """Print every diagnostic of every runbook; 0 when there is no error, else 1."""
    config = require_config(config_path, fmt)
    loaded = load_runbooks(paths, config)
    diagnostics = [d for item in loaded for d in item.diagnostics]
    # one pass: the policy also judges files whose errors lie outside its fields
    judged = [replace(item, runbook=item.judged) for item in loaded]
    diagnostics += policy_problems(judged, config, now, inventory)
    diagnostics = sort_diagnostics(diagnostics)
    output = report(diagnostics, fmt)
    if output:
        click.echo(output, nl=False)
    return 1 if has_errors(diagnostics) else 0
