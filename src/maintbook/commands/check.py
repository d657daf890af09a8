"""`maintbook check PATH… [--now T] [--horizon D]`: policy and calendar conflicts only.

SPEC §5, §8; a recurring runbook is judged by its occurrences of the next `--horizon`
(default 90d, §11); the judging itself is maintbook.policy_check.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

from maintbook.booking import policy_problems
from maintbook.diagnostics import REPORTERS, Diagnostic, has_errors, report, sort_diagnostics
from maintbook.errors import UsageError
from maintbook.policy_check import HORIZON
from maintbook.project import load_runbooks, require_config
from maintbook.timeparse import format_duration


def run_check(
    paths: Sequence[Path],
    config_path: Path | None,
    now: datetime | None,
    fmt: str,
    inventory: Path | None = None,
    horizon: timedelta = HORIZON,
) -> int:
    """Print every policy and calendar conflict; 0 clean, 1 errors (usage/config: exit 2).

    Files that do not load or pass the schema report those diagnostics instead; recurring
    runbooks are judged by their occurrences of the next `horizon`.
    """
    if fmt not in REPORTERS:
        raise UsageError(f"--format {fmt}: allowed: {', '.join(REPORTERS)}")
    if horizon <= timedelta(0):
        raise UsageError(f"--horizon {format_duration(horizon)}: must be longer than 0")
    config = require_config(config_path, fmt)
    loaded = load_runbooks(paths, config)
    diagnostics: list[Diagnostic] = [
        d for item in loaded if item.runbook is None for d in item.diagnostics
    ]
    diagnostics += policy_problems(loaded, config, now, inventory, horizon)
    output = report(sort_diagnostics(diagnostics), fmt)
    if output:
        sys.stdout.write(output)
    return 1 if has_errors(diagnostics) else 0
