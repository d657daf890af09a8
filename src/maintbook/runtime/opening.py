"""Opening a run (SPEC §5, §10): the gate and the lease, in one write transaction.

`open_run` is called by `maintbook run` before Ansible starts (the holder is then maintbook's
own process, which keeps a heartbeat), and by the `maintenance_window` plugin when a compiled
playbook runs on its own (the holder is then the ansible-playbook process). A run that
already holds its lease — maintbook opened it, the playbook's plugin comes second — is
adopted, not judged again.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime

from maintbook.config import Policy
from maintbook.context import Context
from maintbook.lifecycle import RETRYABLE, RUNNING
from maintbook.model import Runbook
from maintbook.process import hostname, start_time
from maintbook.runtime import gate
from maintbook.store import Store, Tx, leases, ledger, maintenances, runs
from maintbook.store.leases import Lease, holder_state
from maintbook.timeparse import format_utc


@dataclass(frozen=True)
class Request:
    """Who runs what, how: everything `open_run` needs besides the runbook."""

    run_id: str
    operator: str
    check: bool = False
    forced_reason: str | None = None
    hosts: tuple[str, ...] = ()
    limit: str | None = None
    limit_matched: bool = True
    pid: int = field(default_factory=os.getpid)
    folder: str | None = None


@dataclass(frozen=True)
class Opened:
    run_id: str
    status: str  # opened | adopted | refused | check
    refusals: tuple[gate.Refusal, ...] = ()
    retry: bool = False
    deadline: str = ""
    overridden_blackouts: tuple[str, ...] = ()

    @property
    def refused(self) -> bool:
        return self.status == "refused"


def judge(tx: Tx, rb: Runbook, ctx: Context, policy: Policy, request: Request,
          now: datetime) -> list[gate.Refusal]:
    """Every rule of the gate; the forceable ones drop out when the run is forced."""
    maintenance = maintenances.ensure(tx, rb.maintenance_id, rb.id, rb.occurrence,
                                      (rb.start, rb.end), now)
    held = [gate.Held(lease, holder_state(lease, now)) for lease in leases.live(tx)
            if lease.run_id != request.run_id]
    channels = [c.name for c in ctx.channels if c.accepts("announce")]
    # An occurrence of a recurring runbook was announced with its series (SPEC §11).
    announced = ledger.first_sent(tx, rb.id if rb.occurrence else maintenance.id, "announce")
    if maintenance.announced_start and maintenance.announced_start > maintenance.window_start:
        announced = ledger.first_sent(tx, maintenance.id, "rescheduled") or announced
    forced = request.forced_reason is not None
    found = [
        *gate.time_rules(rb, policy, now),
        *gate.notice_rules(rb, policy, maintenance, channels, announced),
        *gate.deadline_rule(gate.deadline_of(rb, now, forced), now),
        *gate.approval_rules(rb, policy, now),
        *gate.state_rules(maintenance, any(h.lease.maintenance == maintenance.id for h in held)),
        *gate.lease_rules(rb, frozenset(request.hosts), held, now, forced),
        *gate.targets_rule(rb.targets.hosts, request.hosts),
        *gate.limit_rule(request.limit, request.limit_matched),
    ]
    return [r for r in found if not (forced and r.forceable)]


def _lease(rb: Runbook, ctx: Context, request: Request, now: datetime,
           deadline: datetime) -> Lease:
    forced = request.forced_reason is not None
    start, end = (now, max(rb.end, now + rb.duration)) if forced else (rb.start, rb.end)
    return Lease(
        run_id=request.run_id,
        maintenance=rb.maintenance_id,
        runbook=rb.id,
        systems=rb.systems,
        hosts=request.hosts,
        starts=format_utc(min(start, now)),
        ends=format_utc(end),
        deadline=format_utc(deadline),
        pid=request.pid,
        pid_start=start_time(request.pid),
        hostname=hostname(),
        playbook_pid=None,
        heartbeat_at=format_utc(now),
        status="live",
        stop=None,
        context=ctx.to_dict(),
        released_at=None,
    )


def _run_row(rb: Runbook, request: Request, now: datetime, retry: bool) -> runs.Run:
    forced = {"by": request.operator, "reason": request.forced_reason} \
        if request.forced_reason is not None else None
    return runs.Run(
        run_id=request.run_id,
        maintenance=rb.maintenance_id,
        runbook=rb.id,
        occurrence=rb.occurrence,
        type=rb.type,
        started_at=format_utc(now),
        ended_at=None,
        operator=request.operator,
        outcome=None,
        check_run=request.check,
        retry=retry,
        forced=forced,
        folder=request.folder,
        summary={},
        recovered_at=None,
    )


def open_run(store: Store, rb: Runbook, ctx: Context, policy: Policy, request: Request,
             now: datetime) -> Opened:
    """Judge the run and, unless refused or a check, take its lease and mark it running."""
    with store.write() as tx:
        mine = leases.get(tx, request.run_id)
        if mine is not None and mine.status == "live":
            return Opened(request.run_id, "adopted", deadline=mine.deadline,
                          retry=bool((run := runs.get(tx, request.run_id)) and run.retry))
        refusals = tuple(judge(tx, rb, ctx, policy, request, now))
        maintenance = maintenances.get(tx, rb.maintenance_id)
        assert maintenance is not None
        retry = maintenance.state in RETRYABLE
        deadline = gate.deadline_of(rb, now, request.forced_reason is not None)
        if request.check:
            runs.start(tx, _run_row(rb, request, now, retry))
            return Opened(request.run_id, "check", refusals, retry, format_utc(deadline))
        if refusals:
            runs.start(tx, _run_row(rb, request, now, retry))
            runs.finish(tx, request.run_id, "refused", now,
                        {"refused_because": [r.message for r in refusals]})
            return Opened(request.run_id, "refused", refusals, retry)
        leases.insert(tx, _lease(rb, ctx, request, now, deadline))
        runs.start(tx, _run_row(rb, request, now, retry))
        maintenances.transition(tx, rb.maintenance_id, RUNNING, now, run_id=request.run_id,
                                note="retry" if retry else None)
    return Opened(request.run_id, "opened", (), retry, format_utc(deadline))
