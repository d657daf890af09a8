"""`maintbook schedule RUNBOOK [--after T] [--count N] [--now T]`: the next free slots.

For a recurring runbook: its next N occurrences instead, each with its state (planned,
moved, skipped) and why (SPEC §11), judged as if the series were announced now.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime, timedelta
from itertools import islice
from pathlib import Path

from maintbook.booking import PERIOD_REACH, booked_runbooks, events_between, hosts_resolver
from maintbook.config import Config
from maintbook.diagnostics import report, sort_diagnostics
from maintbook.errors import UsageError
from maintbook.model import Runbook
from maintbook.overlap import HostsOf
from maintbook.project import load_runbooks, require_config
from maintbook.recurrence import Occurrence, RecurrenceError, upcoming
from maintbook.slots import HORIZON, Slot, next_slots
from maintbook.timeparse import format_duration, format_utc, utc_now

FORMATS = ("text", "json")


def _load(path: Path, config: Config, fmt: str) -> Runbook:
    if not path.is_file():
        raise UsageError(f"{path}: no such runbook file")
    (item,) = load_runbooks([path], config)
    if item.runbook is None:
        text = report(sort_diagnostics(item.diagnostics), "json" if fmt == "json" else "text")
        raise UsageError(f"{path}: the runbook is not valid:\n{text.rstrip()}")
    return item.runbook


def format_slots(slots: list[Slot], fmt: str) -> str:
    """`--format json`: [{"start", "end", "window"}] in UTC RFC 3339; text: one slot a line."""
    if fmt == "json":
        rows = [
            {"start": format_utc(s.start), "end": format_utc(s.end), "window": s.window}
            for s in slots
        ]
        return json.dumps(rows, indent=2) + "\n"
    return "".join(f"{format_utc(s.start)}  {format_utc(s.end)}  {s.window}\n" for s in slots)


def _cell(moment: datetime | None) -> str:
    return format_utc(moment) if moment is not None else f"{'-':<20}"


def format_occurrences(found: list[Occurrence], fmt: str) -> str:
    """`--format json`: [{"start", "end", "window", "occurrence", "status", "planned_start",
    "reason"}] (start, end and window null when skipped); text: one occurrence a line."""
    if fmt == "json":
        rows = [
            {
                "start": o.start and format_utc(o.start),
                "end": o.end and format_utc(o.end),
                "window": o.window or None,
                "occurrence": o.maintenance_id,
                "status": o.status,
                "planned_start": format_utc(o.planned_start),
                "reason": o.reason,
            }
            for o in found
        ]
        return json.dumps(rows, indent=2) + "\n"
    width = max((len(o.window) for o in found), default=1)
    lines = []
    for o in found:
        why = o.reason if o.status != "moved" else f"planned {_cell(o.planned_start)}: {o.reason}"
        cells = [_cell(o.start), _cell(o.end), f"{o.window or '-':<{width}}", f"{o.status:<7}"]
        lines.append(f"{'  '.join(cells)}  {o.maintenance_id}{'  ' + why if why else ''}\n")
    return "".join(lines)


def _why_none(runbook: Runbook, max_duration: timedelta | None) -> str:
    if max_duration is not None and runbook.duration > max_duration:
        return (
            f"{runbook.file}: no slot: window.duration {format_duration(runbook.duration)} "
            f"exceeds the {format_duration(max_duration)} maximum of type "
            f"{runbook.type}\n"
        )
    return (
        f"{runbook.file}: no slot of {format_duration(runbook.duration)} satisfies the "
        f"policy within {HORIZON.days} days\n"
    )


def run_schedule(
    runbook: Path,
    config_path: Path | None,
    after: datetime | None,
    count: int,
    now: datetime | None,
    fmt: str,
    inventory: Path | None = None,
) -> int:
    """Print the next `count` slots satisfying every rule of SPEC §5; 0, or 1 when none.

    Slots start no earlier than max(--after, now + the type's notice) and are searched up
    to a year ahead; other runbooks of runbooks/ and external calendar events block them.
    A recurring runbook lists its next `count` occurrences from max(--after, now) instead
    (within a year); 1 when none of them takes place.
    """
    if fmt not in FORMATS:
        raise UsageError(f"--format {fmt}: allowed: {', '.join(FORMATS)}")
    if count < 1:
        raise UsageError(f"--count {count}: must be 1 or more")
    config = require_config(config_path, fmt)
    model = _load(runbook, config, fmt)
    others = booked_runbooks(config, [runbook])
    moment = now or utc_now()
    if model.is_series:
        hosts_of = hosts_resolver(inventory)
        return _series(model, config, others, after, count, moment, fmt, hosts_of)
    low = max(after or moment, moment)
    events = events_between(config, low, low + HORIZON + model.duration)
    try:
        slots = next_slots(
            model, config.policy, moment, after, count, others, events, hosts_resolver(inventory)
        )
    except ValueError as exc:
        raise UsageError(f"policy: {exc}") from exc
    sys.stdout.write(format_slots(slots, fmt) if slots or fmt == "json" else "")
    if not slots:
        rule = config.policy.types.get(model.type)
        sys.stderr.write(_why_none(model, rule.max_duration if rule else None))
        return 1
    return 0


def _series(
    model: Runbook,
    config: Config,
    others: list[Runbook],
    after: datetime | None,
    count: int,
    now: datetime,
    fmt: str,
    hosts_of: HostsOf | None,
) -> int:
    """The next `count` occurrences of a recurring runbook; 1 when none takes place."""
    low = max(after or now, now)
    events = events_between(config, low, low + HORIZON + PERIOD_REACH + model.duration)
    try:
        found = list(
            islice(
                upcoming(
                    model,
                    config.policy,
                    after=low,
                    now=now,
                    others=others,
                    events=events,
                    hosts_of=hosts_of,
                ),
                count,
            )
        )
    except RecurrenceError as exc:
        raise UsageError(f"{model.file}: {exc}") from exc
    except ValueError as exc:
        raise UsageError(f"policy: {exc}") from exc
    sys.stdout.write(format_occurrences(found, fmt) if found or fmt == "json" else "")
    if not any(o.takes_place for o in found):
        sys.stderr.write(
            f"{model.file}: no occurrence takes place within {HORIZON.days} days "
            f"of {format_utc(low)}\n"
        )
        return 1
    return 0
