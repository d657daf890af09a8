"""What `tick` does for a recurring runbook (SPEC §11).

- The series is announced once, with its schedule, as soon as tick first sees it; its first
  occurrence is then the first planned at least the type's notice after that announce.
- Each occurrence of the coming period is judged by the policy: one that moved after the
  announce is announced as rescheduled, one that is skipped as cancelled (with the reason);
  the next one that takes place is published on the status page.
- An occurrence whose window ended without a run is missed, never run late.
- `run: auto`: the occurrence whose window is open now and that has not run is started,
  through the same gate and lifecycle as `maintbook run` (the caller does the running).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from maintbook import notify, statuspage
from maintbook.config import Config
from maintbook.context import Context, build_context
from maintbook.lifecycle import ANNOUNCED, CANCELLED, DRAFT, MISSED
from maintbook.model import Runbook
from maintbook.notify.render import Story
from maintbook.recurrence import MOVED, SKIPPED, Occurrence, first_start, occurrences
from maintbook.store import Store, maintenances
from maintbook.timeparse import format_utc, parse_rfc3339

LOOK_BACK = timedelta(days=7)  # missed occurrences are noticed this long after their window
LOOK_AHEAD = timedelta(days=14)
EARLY = timedelta(minutes=15)


@dataclass(frozen=True)
class Event:
    """One thing tick did, for its output."""

    maintenance: str
    what: str  # announce | rescheduled | cancelled | missed | published | due
    detail: str = ""


def _series_context(runbook: Runbook, config: Config, first: Occurrence) -> Context:
    """The series itself as a maintenance: its id, its schedule, its first window."""
    ctx = build_context(replace(first.runbook, occurrence=None), config)
    return replace(ctx, facts=replace(ctx.facts, maintenance=runbook.id, occurrence=None))


def _stamp(now: datetime) -> Story:
    return Story(now=now.strftime("%Y-%m-%d %H:%M UTC"))


def announce_series(store: Store, runbook: Runbook, config: Config, now: datetime
                    ) -> tuple[datetime, list[Event]]:
    """The series' announce (once); returns when it was announced."""
    with store.read() as tx:
        row = maintenances.get(tx, runbook.id)
    if row is not None and row.announced_at:
        return parse_rfc3339(row.announced_at), []
    after = first_start(runbook, config.policy, now)
    upcoming = occurrences(runbook, config.policy, start=after, end=after + LOOK_AHEAD * 5,
                           now=now, first=after, limit=50)
    first = next((o for o in upcoming if o.start is not None), None)
    if first is None:
        return now, [Event(runbook.id, "nothing to announce", "no occurrence takes place")]
    ctx = _series_context(runbook, config, first)
    with store.write() as tx:
        maintenances.ensure(tx, runbook.id, runbook.id, None,
                            (parse_rfc3339(ctx.facts.window_start),
                             parse_rfc3339(ctx.facts.window_end)), now)
    notify.send(store, ctx, "announce", run_id=None, now=now, story=_stamp(now))
    with store.write() as tx:
        maintenances.mark_announced(tx, runbook.id, now)
    return now, [Event(runbook.id, "announce", ctx.facts.recurrence)]


def _row(store: Store, occurrence: Occurrence, now: datetime) -> maintenances.Maintenance:
    rb = occurrence.runbook
    with store.write() as tx:
        return maintenances.ensure(tx, rb.maintenance_id, rb.id, rb.occurrence,
                                   (rb.start, rb.end), now)


def _told(store: Store, ctx: Context, kind: str, detail: str, now: datetime,
          message: str = "") -> bool:
    sent = notify.send(store, ctx, kind, run_id=None, now=now, detail=detail,
                       story=Story(message=message, now=now.strftime("%Y-%m-%d %H:%M UTC")))
    return any(d.status == "sent" for d in sent.deliveries)


def judge_occurrence(store: Store, occurrence: Occurrence, config: Config,
                     now: datetime, publish: bool) -> Iterator[Event]:
    """Notices and states of one occurrence that the calendar decides now."""
    rb = occurrence.runbook
    row = _row(store, occurrence, now)
    if row.state not in (DRAFT, ANNOUNCED):
        return
    ctx = build_context(rb, config)
    if occurrence.status == SKIPPED and "notice" not in occurrence.kinds:
        with store.write() as tx:
            maintenances.transition(tx, rb.maintenance_id, CANCELLED, now,
                                    note=occurrence.reason)
        _told(store, ctx, "cancelled", "", now, f"Skipped: {occurrence.reason}")
        yield Event(rb.maintenance_id, "cancelled", occurrence.reason)
        return
    if occurrence.start is None:
        return
    if rb.end <= now:
        with store.write() as tx:
            maintenances.transition(tx, rb.maintenance_id, MISSED, now,
                                    note="the window ended without a run")
        _told(store, ctx, "missed", "", now)
        if row.page:
            statuspage.publish(ctx, statuspage.change_for(ctx, "missed"), now=now)
        yield Event(rb.maintenance_id, "missed")
        return
    if occurrence.status == MOVED and _told(store, ctx, "rescheduled", format_utc(rb.start),
                                            now, f"Moved: {occurrence.reason}"):
        yield Event(rb.maintenance_id, "rescheduled", occurrence.reason)
    if publish and row.page is None:
        statuspage.publish(ctx, statuspage.change_for(ctx, "scheduled"), now=now)
        with store.write() as tx:
            maintenances.set_page(tx, rb.maintenance_id, "scheduled")
        yield Event(rb.maintenance_id, "published")
    if rb.start - EARLY <= now <= rb.end:
        yield Event(rb.maintenance_id, "due", rb.occurrence or "")


def tick_series(store: Store, runbook: Runbook, config: Config, now: datetime,
                others: list[Runbook]) -> list[Event]:
    """Everything the calendar decides now for one recurring runbook."""
    announced, events = announce_series(store, runbook, config, now)
    first = first_start(runbook, config.policy, announced)
    judged = occurrences(runbook, config.policy, start=now - LOOK_BACK, end=now + LOOK_AHEAD,
                         now=now, others=others, first=first)
    upcoming = [o for o in judged if o.planned_start >= first]
    next_up = next((o for o in upcoming if o.start is not None and o.runbook.end > now), None)
    for occurrence in upcoming:
        events += judge_occurrence(store, occurrence, config, now, occurrence is next_up)
    return events
