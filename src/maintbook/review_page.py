"""The reviewer's page of one runbook (SPEC §14), as plain data: what `render` prints.

Pure: the document and its model, the configuration, `now`, the other booked runbooks,
calendar events and a read-only view of the ledger go in; a `Page` comes out. It says what
the maintenance is and when (UTC and each of `statuspage.zones`), its notices with their
dates and whether each went out, the approvals required and given (valid for this content
or not, and why), the policy conflicts as `maintbook check` judges them, the targets per
tier, every phase's steps with their arguments, what rolls back when each step fails
(SPEC §12) and the deadline with its reserve. `markdown` and `json` are two views of it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from maintbook.approvals import stale
from maintbook.calendar import CalendarEvent
from maintbook.config import Config
from maintbook.ledger_view import LedgerView
from maintbook.loader import Document
from maintbook.model import PHASES, Runbook
from maintbook.overlap import HostsOf
from maintbook.policy_check import policy_diagnostics
from maintbook.recurrence import Occurrence
from maintbook.review_undo import Undo, undo_plan
from maintbook.runtime.gate import reserve_of
from maintbook.site.times import span, zones
from maintbook.timeline import parse_offset
from maintbook.timeparse import format_duration, format_utc
from maintbook.yamltext import json_safe


@dataclass(frozen=True)
class ZoneTime:
    zone: str
    text: str  # `Sun 7 Feb 2027, 02:00 – 04:00 UTC`


@dataclass(frozen=True)
class SeriesItem:
    """One coming occurrence of a series, as the policy judges it (maintbook.recurrence)."""

    occurrence: str  # <id>@<YYYYMMDDTHHMMZ> of its planned start
    planned: str
    start: str | None  # None: skipped
    end: str | None
    status: str  # planned | moved | skipped
    reason: str = ""


@dataclass(frozen=True)
class When:
    start: str
    end: str
    duration: str
    zones: tuple[ZoneTime, ...]
    recurrence: str | None = None  # `FREQ=WEEKLY;BYDAY=SU at 03:00 UTC`
    occurrence: str | None = None  # the occurrence this page judges
    series: tuple[SeriesItem, ...] = ()  # the series' next occurrences, from `now`


@dataclass(frozen=True)
class Delivery:
    channel: str
    at: str
    kind: str = ""


@dataclass(frozen=True)
class Notice:
    offset: str  # -7d, start, complete
    kind: str  # announce, reminder, start, complete
    due: str
    status: str  # sent | partly sent | due, not sent | upcoming | no channel
    sent: tuple[Delivery, ...] = ()


@dataclass(frozen=True)
class Notices:
    channels: tuple[str, ...]
    items: tuple[Notice, ...]
    ledger: str  # where the ledger was read, or why not
    state: str | None = None  # the maintenance's state in the database
    other: tuple[Delivery, ...] = ()  # rescheduled, cancelled, rollback, ... as sent


@dataclass(frozen=True)
class Given:
    role: str
    by: str
    at: str | None
    required: bool
    counts: bool
    status: str  # valid | not bound | stale | by the owner
    detail: str = ""


@dataclass(frozen=True)
class Required:
    role: str
    by: tuple[str, ...]  # who approved in that role, validly


@dataclass(frozen=True)
class Approvals:
    digest: str
    required: tuple[Required, ...]
    given: tuple[Given, ...]


@dataclass(frozen=True)
class Conflict:
    severity: str
    code: str
    message: str
    line: int


@dataclass(frozen=True)
class Tier:
    hosts: str
    steps: tuple[str, ...]  # `steps 2`, `steps 3 rollback 1`


@dataclass(frozen=True)
class Targets:
    hosts: str
    serial: int | str | None
    max_fail_percentage: int | None
    tiers: tuple[Tier, ...]


@dataclass(frozen=True)
class StepView:
    number: int
    name: str
    arguments: dict[str, Any]  # the step as written, without its name and own rollback
    rollback: tuple[StepView, ...] = ()


@dataclass(frozen=True)
class SoakView:
    duration: str
    every: str
    rounds: int
    checks: tuple[StepView, ...]


@dataclass(frozen=True)
class Deadline:
    window_end: str
    reserve: str
    reserve_from: str
    deadline: str
    step_timeouts: str
    untimed_steps: int
    fits: bool  # the steps' timeouts and the reserve fit the window


@dataclass(frozen=True)
class Page:
    file: str
    id: str
    maintenance: str
    title: str
    owner: str
    type: str
    risk: str
    systems: tuple[str, ...]
    judged_at: str
    when: When
    description: str
    justification: str
    impact: dict[str, str] | None
    maintenance_mode: bool
    components: tuple[str, ...]
    silence: tuple[str, ...]
    notices: Notices
    approvals: Approvals
    conflicts: tuple[Conflict, ...]
    targets: Targets
    phases: dict[str, tuple[StepView, ...]]
    soak: SoakView | None
    undo: tuple[Undo, ...]
    deadline: Deadline
    on_interrupt: str

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = json_safe(asdict(self))
        return data


# ---------------------------------------------------------------- when


def _zone_names(config: Config) -> list[str]:
    names = list(config.statuspage.get("zones") or ())
    return ["UTC", *(n for n in dict.fromkeys(names) if n != "UTC")]


def series_item(item: Occurrence) -> SeriesItem:
    return SeriesItem(item.maintenance_id, format_utc(item.planned_start),
                      format_utc(item.start) if item.start else None,
                      format_utc(item.end) if item.end else None, item.status, item.reason)


def when_of(rb: Runbook, config: Config, upcoming: Sequence[Occurrence] = ()) -> When:
    names = _zone_names(config)
    texts = []
    for name, zone in zip(names, zones(names), strict=True):
        window = span(rb.start, rb.end, zone)
        texts.append(ZoneTime(name, f"{window.start.text} – {window.end.text}"))
    recurrence = None
    if rb.recurrence is not None:
        r = rb.recurrence
        recurrence = f"{r.rrule} at {r.start:%H:%M} {r.tz} (run: {r.run}, on conflict: " \
                     f"{r.on_conflict})"
    return When(format_utc(rb.start), format_utc(rb.end), format_duration(rb.duration),
                tuple(texts), recurrence, rb.occurrence,
                tuple(series_item(item) for item in upcoming))


# ---------------------------------------------------------------- notices


def _kind(offset: str, earliest: str | None) -> tuple[str, str | None]:
    """The notice kind of an offset and its ledger key (None: keyed by run)."""
    if offset in ("start", "complete"):
        return offset, None
    if offset == earliest:
        return "announce", "announce"
    return "reminder", f"reminder:{offset}"


def _due(rb: Runbook, offset: str) -> datetime:
    delta = parse_offset(offset)
    if delta is None:
        return rb.end if offset == "complete" else rb.start
    return rb.start + delta


def _status(sent: Sequence[Delivery], channels: Sequence[str], due: datetime,
            now: datetime) -> str:
    got = {d.channel for d in sent}
    if channels and all(c in got for c in channels):
        return "sent"
    if got:
        return "partly sent"
    if not channels:
        return "no channel"
    return "due, not sent" if due <= now else "upcoming"


def notices_of(rb: Runbook, config: Config, ledger: LedgerView, now: datetime) -> Notices:
    offsets = config.policy.notices.get(rb.type, ())
    early = [o for o in offsets if (d := parse_offset(o)) is not None and d < timedelta()]
    earliest = min(early, key=lambda o: parse_offset(o) or timedelta()) if early else None
    items, keys, kinds = [], set(), set()
    for offset in sorted(offsets, key=lambda o: _due(rb, o)):
        kind, key = _kind(offset, earliest)
        entries = ledger.sent(key=key) if key else ledger.sent(kind=kind)
        keys.add(key)
        kinds.add(kind)
        sent = tuple(Delivery(e.channel, e.sent_at) for e in entries)
        due = _due(rb, offset)
        items.append(Notice(offset, kind, format_utc(due), _status(sent, rb.notify, due, now),
                            sent))
    other = tuple(Delivery(e.channel, e.sent_at, e.kind) for e in ledger.sent()
                  if e.key not in keys and e.kind not in kinds)
    state = ledger.state.state if ledger.state else None
    return Notices(rb.notify, tuple(items), ledger.note, state, other)


# ---------------------------------------------------------------- approvals


def approvals_of(document: Document, rb: Runbook, config: Config) -> Approvals:
    rule = config.policy.types.get(rb.type)
    required = rule.approvals if rule else ()
    why = {index: message for index, _, message in stale(document.data)}
    given = []
    for index, a in enumerate(rb.approvals):
        if index in why:
            status, detail = "stale", why[index]
        elif a.by == rb.owner:
            status, detail = "by the owner", "an approval by the owner does not count"
        elif a.digest is None:
            status, detail = "not bound", "no digest, so valid for any content (an older approval)"
        else:
            status, detail = "valid", "the digest matches this content"
        given.append(Given(a.role, a.by, a.at, a.role in required,
                           status in ("valid", "not bound"), status, detail))
    roles = tuple(Required(role, tuple(g.by for g in given if g.role == role and g.counts))
                  for role in required)
    return Approvals(rb.digest, roles, tuple(given))


# ---------------------------------------------------------------- conflicts and targets


def conflicts_of(document: Document, rb: Runbook, config: Config, now: datetime,
                 others: Sequence[Runbook], events: Sequence[CalendarEvent],
                 hosts_of: HostsOf | None = None) -> tuple[Conflict, ...]:
    found = policy_diagnostics([(document, rb)], config.policy, now, events, hosts_of,
                               others=others)
    return tuple(Conflict(d.severity, d.code, d.message, d.line) for d in found)


def _steps_of(data: Mapping[str, Any], phase: str) -> list[Any]:
    if phase == "soak":
        soak = data.get("soak")
        return list(soak.get("checks", [])) if isinstance(soak, Mapping) else []
    items = data.get(phase)
    return list(items) if isinstance(items, list) else []


def targets_of(data: Mapping[str, Any], rb: Runbook) -> Targets:
    tiers: dict[str, list[str]] = {rb.targets.hosts: []}
    for phase in (*PHASES, "soak"):
        for number, step in enumerate(_steps_of(data, phase), 1):
            tiers.setdefault(step.get("hosts") or rb.targets.hosts, []).append(
                f"{phase} {number}")
            for own, undo in enumerate(step.get("rollback") or [], 1):
                tiers.setdefault(undo.get("hosts") or step.get("hosts") or rb.targets.hosts,
                                 []).append(f"{phase} {number} rollback {own}")
    return Targets(rb.targets.hosts, rb.targets.serial, rb.targets.max_fail_percentage,
                   tuple(Tier(hosts, tuple(steps)) for hosts, steps in tiers.items()))


# ---------------------------------------------------------------- steps and deadline


def step_view(number: int, step: Mapping[str, Any]) -> StepView:
    arguments = {k: v for k, v in step.items() if k not in ("name", "rollback")}
    own = tuple(step_view(i, s) for i, s in enumerate(step.get("rollback") or [], 1))
    return StepView(number, str(step.get("name")), arguments, own)


def phases_of(data: Mapping[str, Any]) -> dict[str, tuple[StepView, ...]]:
    return {phase: tuple(step_view(i, s) for i, s in enumerate(_steps_of(data, phase), 1))
            for phase in PHASES}


def soak_of(data: Mapping[str, Any], rb: Runbook) -> SoakView | None:
    if rb.soak is None:
        return None
    checks = tuple(step_view(i, s) for i, s in enumerate(_steps_of(data, "soak"), 1))
    return SoakView(format_duration(rb.soak.duration), format_duration(rb.soak.every),
                    rb.soak.rounds, checks)


def deadline_of(rb: Runbook) -> Deadline:
    reserve = reserve_of(rb)
    if rb.rollback_reserve is not None:
        source = "rollback_reserve"
    else:
        source = "the rollback steps' timeouts, at least 15m, at most half the window"
    timed = [s.timeout for s in rb.steps if s.timeout is not None]
    total = sum(timed, timedelta())
    return Deadline(format_utc(rb.end), format_duration(reserve), source,
                    format_utc(rb.end - reserve), format_duration(total),
                    len(rb.steps) - len(timed), total + reserve <= rb.duration)


# ---------------------------------------------------------------- the page


def build_page(document: Document, rb: Runbook, config: Config, now: datetime, *,
               others: Sequence[Runbook], events: Sequence[CalendarEvent],
               ledger: LedgerView, hosts_of: HostsOf | None = None,
               series: Runbook | None = None, upcoming: Sequence[Occurrence] = ()) -> Page:
    """The page of one concrete maintenance (a one-off runbook or one occurrence).

    For an occurrence, `series` is its recurring runbook (whose conflicts are judged as
    `maintbook check` judges a series) and `upcoming` the series' next occurrences.
    """
    data = document.data
    impact = {"summary": rb.impact.summary, "expect": rb.impact.expect} if rb.impact else None
    return Page(
        file=document.file, id=rb.id, maintenance=rb.maintenance_id, title=rb.title,
        owner=rb.owner, type=rb.type, risk=rb.risk, systems=rb.systems,
        judged_at=format_utc(now), when=when_of(rb, config, upcoming),
        description=rb.description.strip(), justification=rb.justification.strip(),
        impact=impact, maintenance_mode=rb.maintenance_mode, components=rb.components,
        silence=rb.silence, notices=notices_of(rb, config, ledger, now),
        approvals=approvals_of(document, rb, config),
        conflicts=conflicts_of(document, series or rb, config, now, others, events, hosts_of),
        targets=targets_of(data, rb), phases=phases_of(data), soak=soak_of(data, rb),
        undo=undo_plan(rb), deadline=deadline_of(rb), on_interrupt=rb.on_interrupt,
    )
