"""`maintbook init [DIR]`: a new runbook repository (SPEC §8, §14).

Writes a commented maintbook.yml, runbooks/ with an example that validates,
inventory/local.yml, roles/ with a README, schemas/ for editors, a GitHub Actions workflow
that validates and posts `render` and `diff` on pull requests, and a pre-commit config using
the `maintbook-validate` hook. Nothing is overwritten: when any of these files exists,
nothing is written (exit 2).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from maintbook.build import write_atomically
from maintbook.errors import UsageError
from maintbook.scaffold import files
from maintbook.timeparse import utc_now


def run_init(*, directory: Path, now: datetime | None = None) -> int:
    planned = files(now or utc_now())
    existing = [path for path in planned if (directory / path).exists()]
    if existing:
        raise UsageError(f"{directory}: {', '.join(existing)} already exist(s); maintbook init "
                         "overwrites nothing, so nothing was written")
    for path, text in planned.items():
        write_atomically(directory / path, text)
        click.echo(f"created {directory / path}")
    click.echo(f"\nNext, in {directory}:\n"
               "  maintbook validate runbooks/\n"
               "  maintbook render runbooks/example.yml\n"
               "  maintbook run runbooks/example.yml --check")
    return 0
