"""The time budget check (SPEC §12): do the steps' timeouts and the rollback reserve fit the
window? Registered in the check registry of maintbook.checks."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from maintbook.checks import Context, check
from maintbook.loader import Document, Finding
from maintbook.timeparse import format_duration, parse_duration
from maintbook.timing import overflow, reserve

TIMED = ("precheck", "steps", "verify")


def _duration(value: Any) -> timedelta | None:
    try:
        return parse_duration(value) if value is not None else None
    except (ValueError, TypeError, OverflowError):
        return None


def _timeouts(items: Any) -> list[timedelta]:
    found = []
    for step in items if isinstance(items, list) else []:
        if isinstance(step, dict) and (timeout := _duration(step.get("timeout"))):
            found.append(timeout)
    return found


@check("window-budget")
def timeouts_fit_the_window(doc: Document, ctx: Context) -> Iterator[Finding]:
    """The precheck, step and verify timeouts, the soak and the rollback reserve fit the
    window (a warning: the deadline stops the run when they do not).

    pass: `steps: [{name: a, command: a, timeout: 1m}]`
    fail: `steps: [{name: a, command: a, timeout: 30d}]`
    """
    data = doc.data
    window = data.get("window") if isinstance(data.get("window"), dict) else {}
    duration = _duration(window.get("duration"))
    if duration is None or duration <= timedelta(0):
        return
    steps = [t for phase in TIMED for t in _timeouts(data.get(phase))]
    soak = data.get("soak") if isinstance(data.get("soak"), dict) else {}
    steps += [d for d in [_duration(soak.get("duration"))] if d]
    undo = _timeouts(data.get("rollback"))
    for step in data.get("steps") if isinstance(data.get("steps"), list) else []:
        if isinstance(step, dict):
            undo += _timeouts(step.get("rollback"))
    kept = reserve(_duration(data.get("rollback_reserve")), undo, duration)
    over = overflow(steps, kept, duration)
    if over is None:
        return
    yield doc.find(
        ("window", "duration"), "window-budget",
        f"the timeouts of the prechecks, steps and verify checks "
        f"({format_duration(sum(steps, timedelta()))}) plus the rollback reserve "
        f"({format_duration(kept)}) exceed the {format_duration(duration)} window by "
        f"{format_duration(over)}: the deadline would stop the run before its last step",
        severity="warning",
    )
