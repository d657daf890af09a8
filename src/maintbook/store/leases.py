"""Leases: a live run's hold on its systems and hosts, and the proof that it is still alive.

A lease is taken in the same write transaction that checks for conflicting ones, so two runs
started at the same moment cannot both get it. Its holder is judged by `holder_state`:
`running` while the process lives (same host) or its heartbeat is fresh (another host),
`crashed` otherwise.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any

from maintbook.process import alive, hostname
from maintbook.store.db import Tx
from maintbook.timeparse import format_utc, parse_rfc3339

HEARTBEAT = timedelta(seconds=5)
# A holder on another machine counts as crashed when its heartbeat is older than this.
STALE = timedelta(minutes=2)

_COLUMNS = (
    "run_id, maintenance, runbook, systems, hosts, starts, ends, deadline, pid, pid_start, "
    "hostname, playbook_pid, heartbeat_at, status, stop, context, released_at"
)


@dataclass(frozen=True)
class Lease:
    run_id: str
    maintenance: str
    runbook: str
    systems: tuple[str, ...]
    hosts: tuple[str, ...]
    starts: str
    ends: str
    deadline: str
    pid: int
    pid_start: str | None
    hostname: str
    playbook_pid: int | None
    heartbeat_at: str
    status: str
    stop: str | None
    context: dict[str, Any]
    released_at: str | None

    @property
    def span(self) -> tuple[datetime, datetime]:
        return parse_rfc3339(self.starts), parse_rfc3339(self.ends)


assert ", ".join(f.name for f in fields(Lease)) == _COLUMNS


def _lease(row: tuple[Any, ...]) -> Lease:
    values = list(row)
    values[3], values[4] = tuple(json.loads(values[3])), tuple(json.loads(values[4]))
    values[15] = json.loads(values[15] or "{}")
    return Lease(*values)


def holder_state(lease: Lease, now: datetime) -> str:
    """running | crashed: whether the run that holds `lease` is still there."""
    if lease.hostname == hostname():
        holders = [(lease.pid, lease.pid_start)]
        if lease.playbook_pid:
            holders.append((lease.playbook_pid, None))
        return "running" if any(alive(pid, started) for pid, started in holders) else "crashed"
    fresh = now - parse_rfc3339(lease.heartbeat_at) < STALE
    return "running" if fresh else "crashed"


def live(tx: Tx) -> list[Lease]:
    rows = tx.all(f"SELECT {_COLUMNS} FROM leases WHERE status = 'live' ORDER BY starts")
    return [_lease(row) for row in rows]


def get(tx: Tx, run_id: str) -> Lease | None:
    row = tx.one(f"SELECT {_COLUMNS} FROM leases WHERE run_id = ?", (run_id,))
    return None if row is None else _lease(row)


def insert(tx: Tx, lease: Lease) -> None:
    values = [getattr(lease, f.name) for f in fields(Lease)]
    values[3], values[4] = json.dumps(list(lease.systems)), json.dumps(list(lease.hosts))
    values[15] = json.dumps(lease.context, sort_keys=True)
    tx.execute(
        f"INSERT INTO leases ({_COLUMNS}) VALUES ({', '.join('?' * len(values))})", values
    )


def heartbeat(tx: Tx, run_id: str, now: datetime, playbook_pid: int | None = None) -> None:
    tx.execute(
        "UPDATE leases SET heartbeat_at = ?, playbook_pid = COALESCE(?, playbook_pid) "
        "WHERE run_id = ? AND status = 'live'",
        (format_utc(now), playbook_pid, run_id),
    )


def release(tx: Tx, run_id: str, now: datetime) -> bool:
    """Release a live lease; False when there was none."""
    before = get(tx, run_id)
    if before is None or before.status != "live":
        return False
    tx.execute(
        "UPDATE leases SET status = 'released', released_at = ? WHERE run_id = ?",
        (format_utc(now), run_id),
    )
    return True


def request_stop(tx: Tx, run_id: str, reason: str) -> None:
    """Ask the run to start no new step (interrupt, deadline); the first reason stays."""
    tx.execute(
        "UPDATE leases SET stop = COALESCE(stop, ?) WHERE run_id = ? AND status = 'live'",
        (reason, run_id),
    )


def move(tx: Tx, run_id: str, ends: datetime, deadline: datetime) -> None:
    tx.execute(
        "UPDATE leases SET ends = ?, deadline = ? WHERE run_id = ?",
        (format_utc(ends), format_utc(deadline), run_id),
    )


def of_maintenance(tx: Tx, maintenance: str) -> list[Lease]:
    rows = tx.all(
        f"SELECT {_COLUMNS} FROM leases WHERE maintenance = ? AND status = 'live'",
        (maintenance,),
    )
    return [_lease(row) for row in rows]
