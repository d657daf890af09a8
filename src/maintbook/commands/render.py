"""`maintbook render RUNBOOK [--now T] [--format markdown|json]`: the reviewer's page.

Gathers what the page needs — the other booked runbooks and calendar events for the
conflicts (maintbook.booking), the ledger read-only for the notices that went out — and
prints the page of `maintbook.review_page` as Markdown (for a pull request) or JSON.

A recurring runbook is shown as a series: its conflicts as `maintbook check` judges the
series, its next occurrences from `now` as the series engine judges them (planned, moved or
skipped, maintbook.recurrence; notice not judged, as `check` and `calendar` do), and the
page of one occurrence — the one whose run window is open at `now`, else the next that
takes place (else the next one, skipped).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from itertools import islice
from pathlib import Path

import click

from maintbook.booking import PERIOD_REACH, booked_runbooks, events_between
from maintbook.calendar import CalendarEvent
from maintbook.config import Config
from maintbook.diagnostics import report, sort_diagnostics
from maintbook.errors import UsageError
from maintbook.ledger_view import read_ledger
from maintbook.model import Runbook
from maintbook.project import load_runbook, require_config
from maintbook.recurrence import (
    NO_NOTICE,
    Occurrence,
    current_occurrence,
    next_occurrence,
    upcoming,
)
from maintbook.review_markdown import markdown
from maintbook.review_page import build_page
from maintbook.slots import HORIZON
from maintbook.timeparse import utc_now

SHOWN = 5  # the series' next occurrences on the page


def _shown(series: Runbook, config: Config, now: datetime, others: list[Runbook],
           events: list[CalendarEvent]) -> tuple[Runbook, list[Occurrence]]:
    """The occurrence the page judges, and the series' next occurrences."""
    policy = config.policy
    coming = list(islice(upcoming(series, policy, after=now, now=now, others=others,
                                  events=events, first=NO_NOTICE), SHOWN))
    current = current_occurrence(series, policy, now=now, others=others, events=events,
                                 first=NO_NOTICE)
    if current is not None and current.takes_place:
        return current.runbook, coming
    following = next_occurrence(series, policy, now=now, others=others, events=events,
                                first=NO_NOTICE)
    if following is not None:
        return following.runbook, coming
    if coming:
        return coming[0].runbook, coming
    raise ValueError(f"{series.id}: no occurrence of its recurrence within a year")


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
    runbook = loaded.runbook
    others = booked_runbooks(config, [path])
    try:
        if runbook.is_series:
            reach = HORIZON + PERIOD_REACH + runbook.duration
            events = events_between(config, moment - timedelta(days=1), moment + reach)
            series: Runbook | None = runbook
            runbook, coming = _shown(runbook, config, moment, others, events)
        else:
            events = events_between(config, runbook.start, runbook.end)
            series, coming = None, []
        page = build_page(loaded.document, runbook, config, moment, others=others,
                          events=events, series=series, upcoming=coming,
                          ledger=read_ledger(config.state, runbook.maintenance_id,
                                             config.root))
    except ValueError as exc:
        raise UsageError(f"{path}: {exc}") from exc
    if fmt == "json":
        click.echo(json.dumps(page.to_json(), indent=2, ensure_ascii=False))
    else:
        click.echo(markdown(page), nl=False)
    return 0
