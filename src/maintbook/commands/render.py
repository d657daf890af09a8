"""`maintbook render RUNBOOK [--now T] [--format markdown|json]`: the reviewer's page.

Gathers what the page needs — the other booked runbooks and calendar events for the
conflicts, the ledger read-only for the notices that went out — and prints the page of
`maintbook.review_page` as Markdown (for a pull request) or JSON. A recurring runbook is
shown through its current or next occurrence at `now`.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import click

from maintbook.calendar import CalendarEvent
from maintbook.calendars_io import calendar_events
from maintbook.config import Config
from maintbook.diagnostics import report, sort_diagnostics
from maintbook.errors import UsageError
from maintbook.ledger_view import read_ledger
from maintbook.model import Runbook
from maintbook.project import load_runbook, load_runbooks, require_config, select_occurrence
from maintbook.review_markdown import markdown
from maintbook.review_page import build_page
from maintbook.timeparse import utc_now

EVENT_MARGIN = timedelta(days=1)


def _booked(config: Config, path: Path) -> list[Runbook]:
    """The other one-off runbooks of the project's runbooks/ folder."""
    folder = config.root / "runbooks"
    if not folder.is_dir():
        return []
    if folder.resolve().is_relative_to(Path.cwd().resolve()):
        folder = folder.resolve().relative_to(Path.cwd().resolve())
    return [item.runbook for item in load_runbooks([folder], config)
            if item.runbook is not None and not item.runbook.is_series
            and item.path.resolve() != path.resolve()]


def _events(config: Config, rb: Runbook) -> list[CalendarEvent]:
    if not config.calendars:
        return []
    return calendar_events(config.calendars, rb.start - EVENT_MARGIN, rb.end + EVENT_MARGIN,
                           root=config.root)


def run_render(*, path: Path, config_path: Path | None, fmt: str,
               now: datetime | None = None) -> int:
    config = require_config(config_path, "text")
    if not path.is_file():
        raise UsageError(f"{path}: no such runbook file")
    loaded = load_runbook(path, config)
    if loaded.runbook is None or loaded.document is None:
        click.echo(report(sort_diagnostics(loaded.diagnostics), "text"), nl=False, err=True)
        return 1
    moment = now or utc_now()
    runbook = select_occurrence(loaded.runbook, config, moment)
    try:
        page = build_page(loaded.document, runbook, config, moment,
                          others=_booked(config, path), events=_events(config, runbook),
                          ledger=read_ledger(config.state, runbook.maintenance_id,
                                             config.root))
    except ValueError as exc:
        raise UsageError(f"{path}: {exc}") from exc
    if fmt == "json":
        click.echo(json.dumps(page.to_json(), indent=2, ensure_ascii=False))
    else:
        click.echo(markdown(page), nl=False)
    return 0
