"""Sending notices (SPEC §6 `maintenance_notify`, §10, §13): the one owner of the ledger.

`send(...)` sends one notice kind of one maintenance to every channel of its context that
takes that kind, each at most once: a channel's delivery is claimed in the ledger inside a
write transaction before anything goes out, so two processes never send the same notice
twice. Failed attempts are retried with backoff; the outcome of every channel is recorded
and returned. A channel marked `required` that could not be reached makes `Sent.failed`
name it; the caller decides what that means.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from maintbook.context import Channel as ChannelSettings
from maintbook.context import Context
from maintbook.http import Transport
from maintbook.notify.base import ChannelConfigError, DeliveryError, Envelope
from maintbook.notify.channels import channel_for
from maintbook.notify.render import NoticeError, Story, render
from maintbook.store import Store, ledger
from maintbook.timeparse import format_utc, parse_rfc3339

# Kinds that a public audience never receives: internal detail of how a run went.
INTERNAL_ONLY = ("rollback",)
# A claim whose sender vanished (a crash mid-send) is given up after this long.
CLAIM_TIMEOUT = timedelta(minutes=10)


@dataclass(frozen=True)
class Delivery:
    channel: str
    status: str  # sent | failed | skipped
    attempts: int = 0
    error: str | None = None
    reason: str | None = None  # why skipped: already sent, min_interval, not for this channel
    required: bool = False


@dataclass
class Sent:
    """What one `send` call did on each channel."""

    kind: str
    deliveries: list[Delivery] = field(default_factory=list)

    @property
    def failed(self) -> list[str]:
        return [d.channel for d in self.deliveries if d.status == "failed" and d.required]

    @property
    def errors(self) -> list[str]:
        return [f"{d.channel}: {d.error}" for d in self.deliveries if d.status == "failed"]

    def lines(self, label: str) -> list[str]:
        """`LABEL -> CHANNEL: STATUS (ERROR)` for each channel it was meant for."""
        return [f"{label} -> {d.channel}: {d.status}" + (f" ({d.error})" if d.error else "")
                for d in self.deliveries if d.status != "skipped"]


def notice_key(kind: str, run_id: str | None, detail: str = "") -> str:
    """The ledger key: a run's notices per run, the calendar's per maintenance."""
    key = f"{kind}:{run_id}" if run_id else kind
    if detail:
        key += ":" + (hashlib.sha256(detail.encode()).hexdigest()[:16] if kind == "progress"
                      else detail)
    return key


def _claim(store: Store, ctx: Context, kind: str, channel: str, key: str,
           run_id: str | None, retry: bool, now: datetime
           ) -> tuple[ledger.Entry, str | None] | None:
    """Take the right to send; None when it is sent, or being sent by someone else."""
    facts = ctx.facts
    with store.write() as tx:
        rows = tx.all(
            "SELECT status, sent_at FROM notices WHERE maintenance = ? AND channel = ? "
            "AND key = ? AND status IN ('sent', 'sending')",
            (facts.maintenance, channel, key),
        )
        for status, at in rows:
            if status == "sent" or now - parse_rfc3339(at) < CLAIM_TIMEOUT:
                return None
        entry = ledger.Entry(facts.maintenance, facts.runbook, kind, channel, run_id, key,
                             "sending", 0, None, format_utc(now), None, retry)
        ledger.record(tx, entry)
        thread = ledger.thread_of(tx, facts.maintenance, channel)
    return entry, thread


def _finish(store: Store, entry: ledger.Entry, delivery: Delivery, thread: str | None,
            now: datetime) -> None:
    with store.write() as tx:
        tx.execute(
            "UPDATE notices SET status = ?, attempts = ?, error = ?, sent_at = ?, thread_ts = ? "
            "WHERE maintenance = ? AND channel = ? AND key = ? AND status = 'sending'",
            (
                delivery.status,
                delivery.attempts,
                delivery.error,
                format_utc(now),
                thread,
                entry.maintenance,
                entry.channel,
                entry.key,
            ),
        )


def _too_soon(store: Store, run_id: str | None, channel: str, every: int,
              now: datetime) -> bool:
    if not run_id or every <= 0:
        return False
    with store.read() as tx:
        last = ledger.last_progress(tx, run_id, channel)
    return last is not None and (now - parse_rfc3339(last)).total_seconds() < every


def _deliver(settings: ChannelSettings, ctx: Context, kind: str, story: Story,
             envelope: Envelope, transport: Transport | None,
             sleep: Callable[[float], None]) -> tuple[Delivery, str | None]:
    retries = int(settings.options.get("retries", 3))
    delay = float(settings.options.get("retry_delay", 2))
    attempts, error = 0, None
    try:
        channel = channel_for(settings.name, settings.options, transport)
        notice = render(kind, ctx.facts, audience=settings.audience, story=story,
                        zones=ctx.page.zones, page_url=ctx.page.url, templates=ctx.templates)
    except (ChannelConfigError, NoticeError) as exc:
        return Delivery(settings.name, "failed", 0, str(exc), required=settings.required), None
    for attempt in range(1, retries + 2):
        attempts = attempt
        try:
            thread = channel.send(notice, envelope)
            return Delivery(settings.name, "sent", attempt, required=settings.required), thread
        except ChannelConfigError as exc:
            error = channel.scrub(str(exc))
            break
        except DeliveryError as exc:
            error = channel.scrub(str(exc))
        if attempt <= retries:
            sleep(delay * 2 ** (attempt - 1))
    return Delivery(settings.name, "failed", attempts, error, required=settings.required), None


def send(
    store: Store,
    ctx: Context,
    kind: str,
    *,
    run_id: str | None,
    now: datetime,
    story: Story | None = None,
    detail: str = "",
    min_interval: int = 0,
    check: bool = False,
    transport: Transport | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Sent:
    """Send notice `kind` to every channel of `ctx` that takes it, once each."""
    story = story or Story()
    result = Sent(kind)
    key = notice_key(kind, run_id, detail)
    for settings in ctx.channels:
        if not settings.accepts(kind) or (
            settings.audience == "public" and kind in INTERNAL_ONLY
        ):
            result.deliveries.append(Delivery(settings.name, "skipped", reason="not for this "
                                              "channel"))
            continue
        if kind == "progress" and _too_soon(store, run_id, settings.name, min_interval, now):
            result.deliveries.append(Delivery(settings.name, "skipped", reason="min_interval"))
            continue
        if check:
            result.deliveries.append(Delivery(settings.name, "skipped", reason="check mode"))
            continue
        claimed = _claim(store, ctx, kind, settings.name, key, run_id, story.retry, now)
        if claimed is None:
            result.deliveries.append(Delivery(settings.name, "skipped", reason="already sent"))
            continue
        entry, known_thread = claimed
        envelope = Envelope(ctx.facts.maintenance, ctx.facts.runbook, ctx.facts.title, run_id,
                            format_utc(now), known_thread)
        delivery, thread = _deliver(settings, ctx, kind, story, envelope, transport, sleep)
        _finish(store, entry, delivery, thread or known_thread, now)
        result.deliveries.append(delivery)
    return result
