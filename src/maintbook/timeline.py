"""What the calendar decides for one maintenance at `now` (SPEC §10): the notices `tick` sends.

Pure: the maintenance's state, its current window, the type's notice offsets and what the
ledger says was sent go in; a list of `Due` comes out. Only calendar notices are planned:

- `announce`: the first notice, once the earliest offset (e.g. -7d) is reached and the
  window has not begun; it also publishes the page entry. A tick that runs late sends the
  announce, never a burst of stale reminders.
- `reminder`: each later offset (-3d, -24h, ...) reached after the announce, once; only the
  latest reached one is due.
- `rescheduled`: the window in the file moved since customers were told; once per window.
- `missed`: the window ended and the maintenance never ran.

`start`, `complete`, `rollback`, `extended` and `cancelled` come only from what happened
(the run, `maintbook cancel`, `maintbook extend`), never from the clock.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from maintbook.lifecycle import ANNOUNCED, DRAFT

OFFSET = re.compile(r"^([+-])((?:\d+[dhms])+)$")
PART = re.compile(r"(\d+)([dhms])")
UNITS = {"d": "days", "h": "hours", "m": "minutes", "s": "seconds"}


class TimelineError(ValueError):
    """An offset that is not `start`, `complete` or a signed duration."""


def parse_offset(offset: str) -> timedelta | None:
    """`-7d` → -7 days; `start`/`complete` → None."""
    if offset in ("start", "complete"):
        return None
    found = OFFSET.match(offset.strip())
    if not found:
        raise TimelineError(f"notice offset {offset!r}: use start, complete or e.g. -7d, -1h30m")
    delta = sum((timedelta(**{UNITS[u]: int(n)}) for n, u in PART.findall(found.group(2))),
                timedelta())
    return -delta if found.group(1) == "-" else delta


@dataclass(frozen=True)
class Due:
    kind: str  # announce | reminder | rescheduled | missed
    detail: str = ""  # the offset of a reminder, the new window of a reschedule


@dataclass(frozen=True)
class Situation:
    """One maintenance as tick sees it."""

    state: str
    start: datetime
    end: datetime
    announced_at: datetime | None
    announced_window: tuple[datetime, datetime] | None
    sent: frozenset[str]  # ledger keys already sent (any channel)


def before_start(offsets: Iterable[str]) -> list[tuple[str, timedelta]]:
    """The negative offsets, earliest first."""
    found = [(o, d) for o in offsets if (d := parse_offset(o)) is not None and d < timedelta()]
    return sorted(found, key=lambda item: item[1])


def plan(situation: Situation, offsets: Iterable[str], now: datetime) -> list[Due]:
    """The calendar notices due now for one maintenance."""
    s = situation
    if s.state not in (DRAFT, ANNOUNCED):
        return []
    if now >= s.end:
        return [] if "missed" in s.sent else [Due("missed")]
    early = before_start(offsets)
    if s.state == DRAFT:
        if early and s.start + early[0][1] <= now < s.start:
            return [Due("announce")]
        return []
    due: list[Due] = []
    if s.announced_window is not None and s.announced_window != (s.start, s.end):
        key = f"rescheduled:{s.start.isoformat()}"
        if key not in s.sent:
            due.append(Due("rescheduled", s.start.isoformat()))
    reached = [(o, d) for o, d in early[1:]
               if s.start + d <= now < s.start
               and (s.announced_at is None or s.start + d > s.announced_at)]
    if reached and not due:
        offset = reached[-1][0]
        if f"reminder:{offset}" not in s.sent:
            due.append(Due("reminder", offset))
    return due
