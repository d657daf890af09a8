"""`maintbook approve RUNBOOK --role ROLE --by NAME [--at T]`: an approval bound to content.

Writes `{role, by, at, digest, sections}` into the runbook's `approvals` (SPEC §14), keeping
its comments and layout; an earlier approval in the same role by the same person is
replaced. A file that does not validate (schema or semantic errors) is not approved, nor
is an approval by the runbook's owner (four eyes).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from maintbook.approvals import approval_entry
from maintbook.build import write_atomically
from maintbook.diagnostics import report, sort_diagnostics
from maintbook.errors import UsageError
from maintbook.loader import parse_text
from maintbook.project import load_runbook, require_config
from maintbook.runbook_edit import add_approval
from maintbook.timeparse import utc_now


def run_approve(*, path: Path, role: str, by: str, at: datetime | None,
                config_path: Path | None) -> int:
    config = require_config(config_path, "text")
    if not path.is_file():
        raise UsageError(f"{path}: no such runbook file")
    loaded = load_runbook(path, config)
    if loaded.runbook is None or loaded.document is None:
        click.echo(report(sort_diagnostics(loaded.diagnostics), "text"), nl=False, err=True)
        raise UsageError(f"{path} is not valid; fix it before approving it")
    runbook = loaded.runbook
    if by == runbook.owner:
        raise UsageError(f"{by} owns {runbook.id}; an approval by the owner does not count "
                         "(four eyes)")
    entry = approval_entry(loaded.document.data, role, by, at or utc_now())
    text = add_approval(path.read_text(encoding="utf-8"), entry)
    written, problems = parse_text(text, str(path))
    if written is None or written.data.get("approvals", [])[-1] != entry:
        raise UsageError(f"{path}: the approval could not be written faithfully; "
                         f"nothing was changed ({problems[0].message if problems else 'differs'})")
    write_atomically(path, text)
    rule = config.policy.types.get(runbook.type)
    note = "" if rule is None or role in rule.approvals else (
        f" (type {runbook.type} does not require role {role}: required "
        f"{', '.join(rule.approvals) or 'none'})")
    click.echo(f"{runbook.id}: approved as {role} by {by} at {entry['at']} for "
               f"{entry['digest'][:19]}…{note}")
    return 0
