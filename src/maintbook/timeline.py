"""Notice timelines for ``maintbook tick``: which notices of a runbook are due now.

The planner is pure (``now`` passed in). Offsets come from ``policy.notices`` (SPEC §4):
``-7d``, ``-24h``, ``-1h30m``, ``+30m``, ``start``, ``complete``. An offset is *reached* when
``now`` is at or after its moment. Only the latest reached offset is due: when tick did not
run for a while, the missed notice goes out late, once, and older missed ones are superseded
(customers get one "in 24 hours" mail, not a burst of stale "in 7 days" ones). Nothing already
sent is ever due again, so running tick twice sends nothing twice.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

OFFSET = re.compile(r"^([+-])((?:\d+[dhm])+)$")
PART = re.compile(r"(\d+)([dhm])")
UNITS = {"d": "days", "h": "hours", "m": "minutes"}


class TimelineError(ValueError):
    """An offset that is not ``start``, ``complete`` or a signed duration."""


def parse_offset(offset: str) -> timedelta | None:
    """``-7d`` -> timedelta(days=-7); ``start``/``complete`` -> None."""
    if offset in ("start", "complete"):
        return None
    found = OFFSET.match(offset.strip())
    if not found:
        raise TimelineError(f"notice offset {offset!r}: use start, complete or e.g. -7d, -1h30m")
    delta = sum(
        (timedelta(**{UNITS[u]: int(n)}) for n, u in PART.findall(found.group(2))),
        timedelta(),
    )
    return -delta if found.group(1) == "-" else delta


def offset_moment(offset: str, window_start: datetime, window_end: datetime) -> datetime:
    if offset == "complete":
        return window_end
    delta = parse_offset(offset)
    return window_start + (delta or timedelta())


def due_notices(
    runbook_id: str,
    window_start: datetime,
    window_end: datetime,
    offsets: Iterable[str],
    already_sent: set[str],
    now: datetime,
) -> list[str]:
    """Offsets of ``runbook_id`` to send now (at most the latest reached, if not yet sent)."""
    del runbook_id  # part of the signature for callers and logs; the plan does not depend on it
    moments = {o: offset_moment(o, window_start, window_end) for o in offsets}
    reached = [o for o, at in moments.items() if at <= now]
    if not reached:
        return []
    latest = max(moments[o] for o in reached)
    return [o for o in reached if moments[o] == latest and o not in already_sent]


def notice_for_offset(offset: str, offsets: list[str], runbook_type: str = "") -> str:
    """Which notice an offset sends: the first pre-start one announces, later ones remind."""
    if offset == "complete":
        return "complete"
    if offset == "start":
        return "emergency" if runbook_type == "emergency" else "start"
    delta = parse_offset(offset) or timedelta()
    if delta > timedelta():
        return "progress"
    earliest = min(offsets, key=lambda o: parse_offset(o) or timedelta(days=100000))
    return "announce" if offset == earliest else "reminder"


# ---------------------------------------------------------------- sending glue


@dataclass(frozen=True)
class TickRunbook:
    """What tick needs of one scheduled runbook."""

    runbook: Mapping[str, Any]  # id, title, type, owner, description, systems, ...
    window_start: datetime
    window_end: datetime
    offsets: list[str]  # policy.notices[type]
    channels: list[str]  # runbook notify: channel names


Sender = Callable[[dict[str, Any]], bool]


def tick_run_id(offset: str) -> str:
    return f"tick:{offset}"


def sent_offsets(
    state_db: str | Path, runbook_id: str, channel: str, offsets: list[str]
) -> set[str]:
    """Offsets already delivered on ``channel`` (start/complete also count when a run sent them)."""
    if not Path(state_db).exists():
        return set()
    with sqlite3.connect(state_db) as db:
        try:
            rows = db.execute(
                "SELECT run_id, notice FROM notices WHERE runbook = ? AND channel = ? "
                "AND status = 'sent'",
                (runbook_id, channel),
            ).fetchall()
        except sqlite3.OperationalError:
            return set()
    run_ids = {r[0] for r in rows}
    notices = {r[1] for r in rows}
    done = {o for o in offsets if tick_run_id(o) in run_ids}
    done |= {o for o in ("start", "complete") if o in offsets and o in notices}
    return done


def tick(
    runbooks: Iterable[TickRunbook],
    channels: Mapping[str, Mapping[str, Any]],
    state_db: str | Path,
    now: datetime,
    send: Sender,
) -> list[dict[str, Any]]:
    """Send every due notice of every runbook once; return the module arguments sent."""
    sender = send
    sent: list[dict[str, Any]] = []
    for item in runbooks:
        rid = str(item.runbook["id"])
        for channel in item.channels:
            done = sent_offsets(state_db, rid, channel, item.offsets)
            due = due_notices(rid, item.window_start, item.window_end, item.offsets, done, now)
            for offset in due:
                args = notify_args(item, offset, channel, channels[channel], state_db)
                if sender(args):
                    sent.append(args)
    return sent


def notify_args(
    item: TickRunbook, offset: str, channel: str, config: Mapping[str, Any], state_db: str | Path
) -> dict[str, Any]:
    """Arguments of one ``maintenance_notify`` call."""
    runbook = dict(item.runbook)
    runbook.setdefault("window_start", item.window_start.strftime("%Y-%m-%dT%H:%M:%SZ"))
    runbook.setdefault("window_end", item.window_end.strftime("%Y-%m-%dT%H:%M:%SZ"))
    return {
        "notice": notice_for_offset(offset, item.offsets, str(runbook.get("type", ""))),
        "channel": channel,
        "channel_config": dict(config),
        "runbook": runbook,
        "run_id": tick_run_id(offset),
        "state_db": str(state_db),
    }
