"""The run gate (SPEC §5, revision 2): may this maintenance run now?

Each refusal names its rule and how to satisfy it. The time rules (run window, blackout,
allowed window, required notices) give way to `--force-window --reason`; the others never
do. A `--check` run is never refused: the same reasons are reported and the run goes on.

The rules that depend on the state database (the maintenance's state, the ledger, the live
leases) are judged inside the same write transaction that then takes the lease, so two runs
started at the same moment cannot both pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from maintbook.approvals import stale_message
from maintbook.calendar import blackouts_between
from maintbook.config import Policy
from maintbook.lifecycle import CANCELLED, RUNNING, SUCCEEDED, may_run
from maintbook.model import Runbook
from maintbook.policy import EARLY_START, approval_problems, check_conflicts, exempt
from maintbook.store.leases import Lease
from maintbook.store.ledger import Entry
from maintbook.store.maintenances import Maintenance
from maintbook.timeparse import format_duration, format_utc, parse_rfc3339
from maintbook.timing import reserve


@dataclass(frozen=True)
class Refusal:
    rule: str
    message: str
    forceable: bool = False  # --force-window --reason overrides it

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class Held:
    """A live lease and whether its holder still runs."""

    lease: Lease
    holder: str  # running | crashed


def time_rules(rb: Runbook, policy: Policy, now: datetime) -> list[Refusal]:
    """The run window, blackouts and the type's allowed windows (all forceable)."""
    rule = policy.types.get(rb.type)
    found = []
    opens = rb.start - EARLY_START
    if not opens <= now <= rb.end:
        found.append(Refusal("run-window", f"now ({format_utc(now)}) is outside the run window "
                             f"{format_utc(opens)} to {format_utc(rb.end)} (window.start − 15m "
                             "to window end); --force-window --reason TEXT overrides it", True))
    if rule is not None and not exempt(rb, rule):
        for period in dict.fromkeys(blackouts_between(policy, now, now + timedelta(seconds=1))):
            found.append(Refusal("blackout", f'now ({format_utc(now)}) is inside blackout '
                                 f'"{period.name}" ({period.detail}); --force-window --reason '
                                 "TEXT overrides it", True))
    for conflict in check_conflicts(rb, policy, now, (), ()):
        if conflict.kind == "outside-window":
            found.append(Refusal("allowed-window", f"{conflict.message}; --force-window "
                                 "--reason TEXT overrides it", True))
    return found


def approval_rules(rb: Runbook, policy: Policy, now: datetime) -> list[Refusal]:
    """The type's approvals, not by the owner, not dated later than now or the window,
    and bound to this content when they carry a digest."""
    rule = policy.types.get(rb.type)
    if rule is None:
        return [Refusal("type", f"type {rb.type} is not defined by the policy")]
    found = [Refusal("approval", p.message) for p in approval_problems(rb, rule)]
    for approval in rb.approvals:
        who = f"the {approval.role} approval by {approval.by}"
        if approval.at:
            at = parse_rfc3339(approval.at)
            if at > now:
                found.append(Refusal("approval", f"{who} is dated {approval.at}, in the future"))
            elif rb.window_start is not None and at > rb.end:
                found.append(Refusal("approval", f"{who} is dated {approval.at}, after the "
                                     f"window ended ({format_utc(rb.end)})"))
        if approval.digest and approval.digest != rb.digest:
            found.append(Refusal("approval", stale_message(
                approval.role, approval.by, approval.digest, approval.sections, rb.sections)
                + "; approve it again (maintbook approve)"))
    return found


def state_rules(maintenance: Maintenance, held: bool) -> list[Refusal]:
    """Not cancelled, not already succeeded; a running one is named by its lease (`held`)."""
    if maintenance.state == RUNNING:
        return [] if held else [Refusal("state", f"{maintenance.id} is marked running but no "
                                        "run holds it; maintbook recover closes it")]
    if maintenance.state == CANCELLED:
        return [Refusal("cancelled", f"{maintenance.id} was cancelled"
                        f"{': ' + maintenance.reason if maintenance.reason else ''}; "
                        "a cancelled maintenance does not run")]
    if maintenance.state == SUCCEEDED:
        return [Refusal("succeeded", f"{maintenance.id} already succeeded; "
                        "a maintenance runs again only after a failure")]
    if not may_run(maintenance.state):
        return [Refusal("state", f"{maintenance.id} is {maintenance.state}; it cannot run")]
    return []


def notice_rules(rb: Runbook, policy: Policy, maintenance: Maintenance,
                 channels: Sequence[str], announced: Sequence[Entry]) -> list[Refusal]:
    """The announce reached every channel at least the type's notice before the start
    (forceable; emergency exempt). A window moved earlier counts from the reschedule."""
    rule = policy.types.get(rb.type)
    if rule is None or exempt(rb, rule) or rule.notice <= timedelta(0) or not channels:
        return []
    latest = rb.start - rule.notice
    by_channel = {e.channel: parse_rfc3339(e.sent_at) for e in announced}
    late = [c for c in channels if c not in by_channel or by_channel[c] > latest]
    if not late:
        return []
    moved = maintenance.announced_start and parse_rfc3339(maintenance.announced_start) > rb.start
    why = " (the window moved earlier; the notice counts from the rescheduled notice)" \
        if moved else ""
    notice = format_duration(rule.notice)
    return [Refusal("notice", f"type {rb.type} needs its announcement {notice} before the "
                    f"start ({format_utc(latest)} at the latest) on every channel; not "
                    f"delivered in time to {', '.join(late)}{why}. maintbook tick sends "
                    "announcements; --force-window --reason TEXT overrides it", True)]


def _span(rb: Runbook, now: datetime, forced: bool) -> tuple[datetime, datetime]:
    if forced:
        return now, max(rb.end, now + rb.duration)
    return min(rb.start, now), max(rb.end, now + timedelta(seconds=1))


def lease_rules(rb: Runbook, hosts: frozenset[str], held: Sequence[Held], now: datetime,
                forced: bool) -> list[Refusal]:
    """No other live run holds the same maintenance, or a shared system or host at the time."""
    low, high = _span(rb, now, forced)
    found = []
    for item in held:
        lease = item.lease
        start, end = lease.span
        same = lease.maintenance == rb.maintenance_id
        shared = [f"system {s}" for s in rb.systems if s in lease.systems]
        shared += [f"host {h}" for h in sorted(hosts & set(lease.hosts))]
        if not same and not (shared and start < high and low < end):
            continue
        what = f"the same maintenance {rb.maintenance_id}" if same else ", ".join(shared)
        if item.holder == "crashed":
            found.append(Refusal("lease", f"run {lease.run_id} of {lease.maintenance} crashed "
                                 f"and still holds {what}; run `maintbook recover "
                                 f"{lease.run_id}` to close what it left open"))
        else:
            found.append(Refusal("lease", f"run {lease.run_id} of {lease.maintenance} "
                                 f"(pid {lease.pid} on {lease.hostname}) holds {what} until "
                                 f"{lease.ends}"))
    return found


def deadline_rule(deadline: datetime, now: datetime) -> list[Refusal]:
    if deadline > now:
        return []
    return [Refusal("deadline", f"the deadline ({format_utc(deadline)}: window end minus the "
                    "rollback reserve) has passed; no step may start. maintbook extend "
                    "or --force-window --reason TEXT", True)]


def targets_rule(pattern: str, hosts: tuple[str, ...]) -> list[Refusal]:
    if hosts:
        return []
    return [Refusal("targets", f"targets.hosts {pattern} matches no host of this inventory")]


def limit_rule(limit: str | None, matched: bool) -> list[Refusal]:
    if limit is None or matched:
        return []
    return [Refusal("limit", f"--limit {limit} matches none of the runbook's target hosts")]


def reserve_of(rb: Runbook) -> timedelta:
    """Time kept to roll back (see maintbook.timing.reserve)."""
    undo = [*rb.rollback, *(own for step in rb.steps for own in step.rollback)]
    return reserve(rb.rollback_reserve, (s.timeout for s in undo if s.timeout), rb.duration)


def deadline_of(rb: Runbook, now: datetime, forced: bool, end: datetime | None = None
                ) -> datetime:
    window_end = end or _span(rb, now, forced)[1]
    return window_end - reserve_of(rb)
