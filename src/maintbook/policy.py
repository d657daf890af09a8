"""The maintenance policy of SPEC §5 for one maintenance, pure: runbook, policy, `now` in.

Entry points:

* `check_conflicts`: every conflict of one concrete window (a one-off runbook or one
  occurrence of a recurring runbook) — what `maintbook check` reports for it;
* `slot_conflicts`: the rules of the place in time alone (allowed window, blackouts,
  overlaps, calendar events) — what moves or skips an occurrence (maintbook.recurrence);
* `standing_conflicts`: the rules that do not depend on the window (type, duration,
  approvals) — judged once for a whole series;
* `runtime_refusals`: the gate of `maintbook run` (and the module's `check` state).

Many runbooks at once are judged by maintbook.policy_check; free slots are found by
maintbook.slots. Each conflict check is a small unit in `CHECKS`, named by its kind.
A recurring runbook (a series) in `others` is ignored: its occurrences yield to one-off
runbooks (SPEC §11 `on_conflict`, maintbook.recurrence).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from maintbook.calendar import (
    CalendarEvent,
    Interval,
    allowed_periods,
    blackouts_between,
    contains,
    event_periods,
    merge,
    overlaps,
    span_text,
)
from maintbook.config import Policy, TypeRule
from maintbook.loader import PathKey
from maintbook.model import Runbook
from maintbook.overlap import HostsOf, label, shared_text, target_hosts
from maintbook.timeparse import format_duration, format_utc

EARLY_START = timedelta(minutes=15)
START: PathKey = ("window", "start")
_UNUSED = datetime.min.replace(tzinfo=UTC)  # `now` for checks that do not read it


@dataclass(frozen=True)
class Reservation:
    """A live run's hold on systems and hosts for [start, end)."""

    runbook_id: str
    systems: tuple[str, ...]
    hosts: tuple[str, ...]
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Conflict:
    """One policy or calendar problem of a runbook; `path` points into its data."""

    kind: str
    code: str
    path: PathKey
    message: str
    severity: str = "error"


def exempt(runbook: Runbook, rule: TypeRule) -> bool:
    """An emergency (or a type with `blackouts: ignore`) skips windows, notice, blackouts."""
    return runbook.is_emergency or not rule.blackouts


@dataclass(frozen=True)
class _Context:
    runbook: Runbook
    rule: TypeRule
    policy: Policy
    now: datetime
    others: Sequence[Runbook]
    events: Sequence[CalendarEvent]
    hosts_of: HostsOf | None


# --------------------------------------------------------------------------- approvals


def approval_problems(runbook: Runbook, rule: TypeRule) -> list[Conflict]:
    """Four-eyes: each required role needs an approval by someone other than the owner.

    passes: planned-outage, owner sre-team, approvals [{role: vp-engineering, by: bob}]
    fails:  ... approvals [{role: vp-engineering, by: sre-team}]  (approval-owner)
    """
    problems = []
    for role in rule.approvals:
        given = [a for a in runbook.approvals if a.role == role
                 and a.digest in (None, runbook.digest)]  # bound to this content (SPEC §14)
        stale = [a.by for a in runbook.approvals if a.role == role and a not in given]
        if any(a.by != runbook.owner for a in given):
            continue
        if given:
            problems.append(
                Conflict(
                    "approval",
                    "approval-owner",
                    ("approvals",),
                    f"the {role} approval is by the owner {runbook.owner}; type {rule.name} needs "
                    f"a {role} approval by someone other than the owner (four-eyes)",
                )
            )
        else:
            problems.append(
                Conflict(
                    "approval",
                    "approval-missing",
                    ("approvals",),
                    f"type {rule.name} needs an approval by role {role}; none is given "
                    + (f"for this content (the one by {', '.join(stale)} was given for other "
                       "content) " if stale else "")
                    + f"(required: {', '.join(rule.approvals)})",
                )
            )
    return problems


# --------------------------------------------------------------------------- checks


def _window(ctx: _Context) -> list[Conflict]:
    """outside-window. passes: planned-outage Sunday 02:00–04:00Z; fails: Tuesday 10:00Z."""
    rb, rule = ctx.runbook, ctx.rule
    if exempt(rb, rule):
        return []
    allowed = allowed_periods(ctx.policy, rule, rb.start, rb.end)
    if allowed is None or contains(merge((p.start, p.end) for p in allowed), rb.start, rb.end):
        return []
    windows = "; ".join(
        f"{name}: {ctx.policy.windows[name].rrule} "
        f"{ctx.policy.windows[name].start:%H:%M} "
        f"{format_duration(ctx.policy.windows[name].duration)} "
        f"{ctx.policy.windows[name].tz}"
        for name in rule.windows or ()
    )
    return [
        Conflict(
            "outside-window",
            "outside-window",
            START,
            f"window {span_text(rb.start, rb.end)} is not inside an allowed window "
            f"of type {rule.name} ({windows})",
        )
    ]


def _exemptable(kind: str, message: str, ctx: _Context) -> Conflict:
    """An error, or information only for a type exempt from blackouts (emergency)."""
    if not exempt(ctx.runbook, ctx.rule):
        return Conflict(kind, kind, START, message)
    return Conflict(
        kind, f"{kind}-overridden", START, f"{message}; allowed for type {ctx.rule.name}", "info"
    )


def _blackout(ctx: _Context) -> list[Conflict]:
    """blackout. passes: 2026-11-08T02:00Z; fails: 2026-12-20T02:00Z (year-end freeze)."""
    rb = ctx.runbook
    found = []
    for period in dict.fromkeys(blackouts_between(ctx.policy, rb.start, rb.end)):
        message = (
            f"window {span_text(rb.start, rb.end)} overlaps blackout "
            f'"{period.name}" ({period.detail})'
        )
        found.append(_exemptable("blackout", message, ctx))
    return found


def _notice(ctx: _Context) -> list[Conflict]:
    """notice. passes: planned-outage 8 days ahead; fails: 6 days ahead (7d needed)."""
    rb, rule = ctx.runbook, ctx.rule
    if exempt(rb, rule) or ctx.now + rule.notice <= rb.start:
        return []
    return [
        Conflict(
            "notice",
            "notice",
            START,
            f"type {rule.name} needs {format_duration(rule.notice)} notice: "
            f"window.start {format_utc(rb.start)} is earlier than now "
            f"({format_utc(ctx.now)}) + {format_duration(rule.notice)}; the "
            f"earliest allowed start is {format_utc(ctx.now + rule.notice)}",
        )
    ]


def _duration(ctx: _Context) -> list[Conflict]:
    """duration. passes: planned-outage 2h; fails: planned-outage 5h (2h maximum)."""
    rb, rule = ctx.runbook, ctx.rule
    if rule.max_duration is None or rb.duration <= rule.max_duration:
        return []
    return [
        Conflict(
            "duration",
            "duration",
            ("window", "duration"),
            f"window.duration {format_duration(rb.duration)} exceeds the "
            f"{format_duration(rule.max_duration)} maximum of type {rule.name}",
        )
    ]


def _approval(ctx: _Context) -> list[Conflict]:
    """approval. See `approval_problems`."""
    return approval_problems(ctx.runbook, ctx.rule)


def _overlap(ctx: _Context) -> list[Conflict]:
    """overlap. fails: another runbook at the same time on system database."""
    rb = ctx.runbook
    hosts = target_hosts(rb.targets.hosts, ctx.hosts_of)
    found = []
    for other in ctx.others:
        if other.is_series or other.id == rb.id:
            continue
        if not overlaps(rb.start, rb.end, other.start, other.end):
            continue
        shared = shared_text(rb, other, hosts, ctx.hosts_of)
        if shared:
            found.append(
                Conflict("overlap", "overlap", START, f"overlap with {label(other)} on {shared}")
            )
    return found


def _calendar(ctx: _Context) -> list[Conflict]:
    """calendar. fails: an event of an external calendar overlaps the window."""
    rb = ctx.runbook
    found = []
    for event in event_periods(ctx.events, rb.start, rb.end):
        message = (
            f"window {span_text(rb.start, rb.end)} overlaps the event "
            f'"{event.name}" ({span_text(event.start, event.end)}) of calendar '
            f"{event.detail}"
        )
        found.append(_exemptable("calendar", message, ctx))
    return found


CHECKS: tuple[tuple[str, Callable[[_Context], list[Conflict]]], ...] = (
    ("outside-window", _window),
    ("blackout", _blackout),
    ("notice", _notice),
    ("duration", _duration),
    ("approval", _approval),
    ("overlap", _overlap),
    ("calendar", _calendar),
)
SLOT_KINDS = ("outside-window", "blackout", "overlap", "calendar")
STANDING_KINDS = ("duration", "approval")


def _unknown_type(runbook: Runbook, policy: Policy) -> Conflict:
    return Conflict(
        "policy",
        "policy-type",
        ("type",),
        f"type {runbook.type} is not defined by the policy "
        f"(defined: {', '.join(sorted(policy.types))})",
    )


def _run(
    kinds: Sequence[str],
    runbook: Runbook,
    policy: Policy,
    now: datetime,
    others: Sequence[Runbook] = (),
    events: Sequence[CalendarEvent] = (),
    hosts_of: HostsOf | None = None,
) -> list[Conflict]:
    rule = policy.types.get(runbook.type)
    if rule is None:
        return [_unknown_type(runbook, policy)]
    ctx = _Context(runbook, rule, policy, now, others, events, hosts_of)
    return [conflict for kind, check in CHECKS if kind in kinds for conflict in check(ctx)]


def check_conflicts(
    runbook: Runbook,
    policy: Policy,
    now: datetime,
    others: Sequence[Runbook],
    events: Sequence[CalendarEvent],
    hosts_of: HostsOf | None = None,
) -> list[Conflict]:
    """Every conflict of SPEC §5 for one concrete window, in the order of `CHECKS`.

    An emergency (a type with `blackouts: ignore`) is exempt from windows (its type allows
    any time), notice and blackouts; an overridden blackout or calendar event is reported
    with severity "info". Raises ValueError for a policy the engine cannot expand.
    """
    return _run([kind for kind, _ in CHECKS], runbook, policy, now, others, events, hosts_of)


def slot_conflicts(
    runbook: Runbook,
    policy: Policy,
    others: Sequence[Runbook],
    events: Sequence[CalendarEvent],
    hosts_of: HostsOf | None = None,
) -> list[Conflict]:
    """The conflicts of the window's place in time: outside-window, blackout, overlap, calendar.

    passes: planned-outage 2026-11-08T03:00Z for 1h; fails: 2026-12-20T03:00Z (blackout).
    """
    return _run(SLOT_KINDS, runbook, policy, _UNUSED, others, events, hosts_of)


def standing_conflicts(runbook: Runbook, policy: Policy) -> list[Conflict]:
    """The conflicts that do not depend on the window: type, duration, approvals.

    passes: planned-outage of 2h approved by vp-engineering; fails: of 3h (2h maximum).
    """
    return _run(STANDING_KINDS, runbook, policy, _UNUSED)


# --------------------------------------------------------------------------- run time


def runtime_refusals(
    runbook: Runbook,
    policy: Policy,
    now: datetime,
    reservations: Sequence[Reservation],
    *,
    forced: bool,
    hosts: frozenset[str] | None = None,
) -> list[str]:
    """Why the run must be refused now (SPEC §5 run-time rules); empty: it may run.

    Time rules (skipped when `forced`): now within [start − 15 min, start + duration]; no
    blackout covers now (exempt for a type with `blackouts: ignore`). Always: the type's
    approvals, not by the owner; no other live reservation overlapping the window (or now)
    shares a system or a host. `hosts` are this run's hosts (default: its pattern).
    """
    rule = policy.types.get(runbook.type)
    if rule is None:
        return [_unknown_type(runbook, policy).message]
    reasons: list[str] = []
    if not forced:
        reasons += _time_refusals(runbook, rule, policy, now)
    reasons += [p.message for p in approval_problems(runbook, rule)]
    reasons += _reservation_refusals(
        runbook,
        _run_span(runbook, now, forced),
        reservations,
        hosts if hosts is not None else frozenset({runbook.targets.hosts}),
    )
    return reasons


def _time_refusals(runbook: Runbook, rule: TypeRule, policy: Policy, now: datetime) -> list[str]:
    reasons = []
    opens = runbook.start - EARLY_START
    if not opens <= now <= runbook.end:
        reasons.append(
            f"now ({format_utc(now)}) is outside the run window "
            f"{format_utc(opens)} to {format_utc(runbook.end)} (window.start − 15m "
            f"to window.start + {format_duration(runbook.duration)}); "
            "--force-window --reason TEXT overrides it"
        )
    if not exempt(runbook, rule):
        for period in dict.fromkeys(blackouts_between(policy, now, now + timedelta(seconds=1))):
            reasons.append(
                f'now ({format_utc(now)}) is inside blackout "{period.name}" '
                f"({period.detail}); --force-window --reason TEXT overrides it"
            )
    return reasons


def _run_span(runbook: Runbook, now: datetime, forced: bool) -> Interval:
    """When the run holds its resources: its window (from now when early), or, forced,
    from now for the window's duration."""
    if forced:
        return now, now + runbook.duration
    return min(runbook.start, now), max(runbook.end, now + timedelta(seconds=1))


def _reservation_refusals(
    runbook: Runbook, span: Interval, reservations: Sequence[Reservation], hosts: frozenset[str]
) -> list[str]:
    reasons = []
    low, high = span
    for held in reservations:
        if held.runbook_id == runbook.id or not overlaps(low, high, held.start, held.end):
            continue
        systems = [s for s in runbook.systems if s in held.systems]
        common = sorted(hosts & set(held.hosts))
        what = ", ".join([f"system {s}" for s in systems] + [f"host {h}" for h in common])
        if what:
            reasons.append(
                f"{held.runbook_id} holds a reservation on {what} from "
                f"{format_utc(held.start)} to {format_utc(held.end)}"
            )
    return reasons
