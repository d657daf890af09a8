"""`maintbook schedule RUNBOOK [--after T] [--count N] [--now T]`: the next free slots."""

from __future__ import annotations

import json
import sys
from datetime import datetime, timedelta
from pathlib import Path

from maintbook.commands.check import booked_runbooks, events_between, hosts_resolver
from maintbook.config import Config
from maintbook.diagnostics import report, sort_diagnostics
from maintbook.errors import UsageError
from maintbook.model import Runbook
from maintbook.policy import HORIZON, Slot, next_slots
from maintbook.project import load_runbooks, require_config
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
    """
    if fmt not in FORMATS:
        raise UsageError(f"--format {fmt}: allowed: {', '.join(FORMATS)}")
    if count < 1:
        raise UsageError(f"--count {count}: must be 1 or more")
    config = require_config(config_path, fmt)
    model = _load(runbook, config, fmt)
    moment = now or utc_now()
    low = max(after or moment, moment)
    others = booked_runbooks(config, [runbook])
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
