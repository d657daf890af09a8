"""What `tick`, `cancel`, `extend` and `recover` change (SPEC §10): each in one place, each
moving the maintenance's state, its page entry, its notices and its silence together."""

from __future__ import annotations

from datetime import datetime, timedelta

from maintbook import notify, silence, statuspage
from maintbook.context import Context
from maintbook.errors import MaintbookError
from maintbook.lifecycle import ANNOUNCED, CANCELLED, DRAFT, INTERRUPTED, MISSED, RUNNING
from maintbook.notify import Sent
from maintbook.notify.render import Story
from maintbook.runtime.closing import Ending, close_run
from maintbook.statuspage.model import BODY
from maintbook.store import Store, leases, ledger, maintenances, runs
from maintbook.timeline import Due, Situation, plan
from maintbook.timeparse import format_duration, format_utc, parse_rfc3339


class Refused(MaintbookError):
    """The change cannot be made in the maintenance's state (exit 2)."""


def situation(store: Store, ctx: Context, now: datetime) -> Situation:
    facts = ctx.facts
    start, end = parse_rfc3339(facts.window_start), parse_rfc3339(facts.window_end)
    with store.write() as tx:
        found = maintenances.ensure(tx, facts.maintenance, facts.runbook, facts.occurrence,
                                    (start, end), now)
        sent = frozenset(e.key for e in ledger.of_maintenance(tx, facts.maintenance)
                         if e.status == "sent")
    window = None
    if found.announced_start and found.announced_end:
        window = (parse_rfc3339(found.announced_start), parse_rfc3339(found.announced_end))
    return Situation(found.state, start, found.end,
                     parse_rfc3339(found.announced_at) if found.announced_at else None,
                     window, sent)


def _publish(ctx: Context, status: str, now: datetime, body: str | None = None) -> None:
    statuspage.publish(ctx, statuspage.change_for(ctx, status, body=body), now=now)


def apply(store: Store, ctx: Context, due: Due, now: datetime) -> Sent:
    """Send one calendar notice and make the state, page and ledger follow."""
    facts = ctx.facts
    sent = notify.send(store, ctx, due.kind, run_id=None, now=now, detail=due.detail,
                       story=Story(now=now.strftime("%Y-%m-%d %H:%M UTC")))
    if due.kind in ("announce", "rescheduled"):
        _publish(ctx, "scheduled", now, BODY["rescheduled"] if due.kind == "rescheduled"
                 else None)
        with store.write() as tx:
            maintenances.mark_announced(tx, facts.maintenance, now)
    elif due.kind == "missed":
        published = False
        with store.write() as tx:
            found = maintenances.get(tx, facts.maintenance)
            if found is not None and found.state in (DRAFT, ANNOUNCED):
                maintenances.transition(tx, facts.maintenance, MISSED, now,
                                        note="the window ended without a run")
                published = found.announced_at is not None
        if published:
            _publish(ctx, "missed", now)
    return sent


def tick_one(store: Store, ctx: Context, now: datetime) -> list[tuple[Due, Sent]]:
    """Every calendar notice of one maintenance that is due now."""
    return [(due, apply(store, ctx, due, now))
            for due in plan(situation(store, ctx, now), ctx.notice_offsets, now)]


def cancel(store: Store, ctx: Context, reason: str, now: datetime) -> Sent:
    """An announced (or draft) maintenance will not take place: state, page, notice."""
    facts = ctx.facts
    start, end = parse_rfc3339(facts.window_start), parse_rfc3339(facts.window_end)
    with store.write() as tx:
        found = maintenances.ensure(tx, facts.maintenance, facts.runbook, facts.occurrence,
                                    (start, end), now)
        if found.state == RUNNING:
            raise Refused(f"{facts.maintenance} is running: interrupt the run instead")
        if found.state not in (DRAFT, ANNOUNCED):
            raise Refused(f"{facts.maintenance} is {found.state}; only a maintenance that has "
                          "not run can be cancelled")
        maintenances.transition(tx, facts.maintenance, CANCELLED, now, note=reason)
    if found.announced_at is not None:
        _publish(ctx, "cancelled", now)
    return notify.send(store, ctx, "cancelled", run_id=None, now=now,
                       story=Story(message=f"Reason: {reason}",
                                   now=now.strftime("%Y-%m-%d %H:%M UTC")))


def extend(store: Store, ctx: Context, by: timedelta, reason: str, max_duration: timedelta | None,
           now: datetime) -> tuple[datetime, Sent]:
    """Lengthen a running maintenance's window: lease, deadline, silence, page and notice."""
    facts = ctx.facts
    with store.write() as tx:
        found = maintenances.get(tx, facts.maintenance)
        held = leases.of_maintenance(tx, facts.maintenance)
        if found is None or found.state != RUNNING or not held:
            raise Refused(f"{facts.maintenance} is not running; only a running maintenance "
                          "can be extended")
        new_end = found.end + by
        if max_duration is not None and new_end - found.start > max_duration:
            raise Refused(f"extending {facts.maintenance} by {format_duration(by)} would make "
                          f"it {format_duration(new_end - found.start)}, over the "
                          f"{format_duration(max_duration)} maximum of type {facts.type}")
        maintenances.extend(tx, facts.maintenance, new_end)
        for lease in held:
            leases.move(tx, lease.run_id, max(parse_rfc3339(lease.ends), new_end),
                        parse_rfc3339(lease.deadline) + by)
        run_id = held[0].run_id
    if ctx.silence is not None:
        api = silence.Alertmanager(ctx.silence.url)
        start, end = silence.covered(found.start, new_end)
        silence.present(api, facts.maintenance, ctx.silence.matchers, start, end, facts.title)
    statuspage.publish(ctx, statuspage.change_for(
        ctx, "in_progress", body=BODY["extended"],
        window=(facts.window_start, format_utc(new_end))), now=now)
    sent = notify.send(store, ctx, "extended", run_id=run_id, now=now,
                       detail=format_utc(new_end),
                       story=Story(until=format_utc(new_end), message=f"Reason: {reason}",
                                   now=now.strftime("%Y-%m-%d %H:%M UTC")))
    return new_end, sent


CRASH_NOTE = ("the run crashed (its process is gone) and was recovered: the page, the silence "
              "and the window were closed; maintenance mode and the hosts were left as they "
              "were, for a person to check")


def recover(store: Store, lease: leases.Lease, now: datetime) -> list[str]:
    """Close what a crashed run left open; the closing errors."""
    ctx = Context.from_dict(lease.context)
    with store.read() as tx:
        run = runs.get(tx, lease.run_id)
    hosts = dict((run.summary.get("hosts") if run else None) or
                 dict.fromkeys(lease.hosts, "unknown"))
    ending = Ending(INTERRUPTED, hosts=hosts, drained=tuple(sorted(hosts)),
                    stop_reason="crash", note=CRASH_NOTE, retry=bool(run and run.retry))
    return close_run(store, ctx, lease.run_id, ending, now, recovered=True)
