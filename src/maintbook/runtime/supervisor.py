"""`maintbook run` around its playbook: signals, the heartbeat, the unwind and the last close.

The compiled playbook runs the whole lifecycle itself (SPEC §7). The supervisor adds what
only a process that outlives the playbook can do (SPEC §10):

- the first SIGINT, SIGTERM or SIGHUP stops the playbook at once (the running task with it),
  then, with `on_interrupt: rollback`, runs the unwind playbook: every host undoes what
  ran on it, as after a failure, and the run closes as `interrupted`;
- a second signal stops that too: only the closing actions run (in this process), and
  maintenance mode is left as it is, which the close says;
- a heartbeat keeps the run's lease fresh, so another machine sharing the state can tell a
  live run from a crashed one;
- if the playbook ended without releasing its lease (every target unreachable, Ansible
  itself failed), the run is closed here.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

from maintbook.context import Context
from maintbook.lifecycle import INTERRUPTED, run_outcome
from maintbook.runner import Event
from maintbook.runtime.closing import Ending, close_run
from maintbook.store import Location, Store, leases, runs
from maintbook.timeparse import utc_now
from maintbook.trace import Trace

SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
HARD_STOP = ("A second interrupt stopped the run at once: only the closing actions ran, "
             "and maintenance mode was left as it was on {hosts}.")
NOT_UNDONE = "on_interrupt is stop: what ran was left as it was on {hosts}."


@dataclass
class Supervisor:
    """Watches one run: counts signals, keeps the heartbeat, remembers what ran where."""

    run_id: str
    state: Location
    on_note: Callable[[str], None]
    trace: Trace
    signals: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)

    # ---------------------------------------------------------------- signals

    def _handle(self, number: int, frame: FrameType | None) -> None:
        self.signals += 1
        name = signal.Signals(number).name
        if self.signals == 1:
            self.on_note(f"{name}: stopping; what ran is undone, then the run closes "
                         "(again to stop at once)")
        else:
            self.on_note(f"{name} again: stopping at once; only the closing actions run")

    @contextmanager
    def handling_signals(self) -> Iterator[None]:
        previous = {s: signal.signal(s, self._handle) for s in SIGNALS}
        try:
            yield
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)

    def interrupted(self) -> bool:
        return self.signals > 0

    def hard_stop(self) -> bool:
        return self.signals > 1

    # ---------------------------------------------------------------- heartbeat

    def _beat(self) -> None:
        store = Store.open(self.state)
        try:
            while not self._stop.wait(leases.HEARTBEAT.total_seconds()):
                with store.write() as tx:
                    leases.heartbeat(tx, self.run_id, utc_now())
        finally:
            store.close()

    @contextmanager
    def heartbeat(self) -> Iterator[None]:
        thread = threading.Thread(target=self._beat, daemon=True, name="heartbeat")
        thread.start()
        try:
            yield
        finally:
            self._stop.set()
            thread.join(timeout=10)

    def on_event(self, event: Event) -> None:
        self.trace.on_event(event)


def request_stop(state: Location, run_id: str, reason: str) -> None:
    store = Store.open(state)
    try:
        with store.write() as tx:
            leases.request_stop(tx, run_id, reason)
    finally:
        store.close()


def still_held(store: Store, run_id: str) -> leases.Lease | None:
    with store.read() as tx:
        lease = leases.get(tx, run_id)
    return lease if lease is not None and lease.status == "live" else None


def close_here(store: Store, run_id: str, ending: Ending) -> list[str]:
    """Close a run whose playbook could not, with the context its lease kept."""
    lease = still_held(store, run_id)
    if lease is None:
        return []
    ctx = Context.from_dict(lease.context)
    with store.read() as tx:
        run = runs.get(tx, run_id)
    if run is not None:
        ending = Ending(**{**ending.__dict__, "retry": run.retry})
    return close_run(store, ctx, run_id, ending, utc_now())


def interrupted_ending(hosts: Sequence[str], ran: Mapping[str, Any], note: str,
                       maintenance_mode: bool) -> Ending:
    touched = sorted(ran)
    return Ending(
        outcome=INTERRUPTED,
        hosts={h: ("drained" if maintenance_mode else "failed") if h in ran else "not_started"
               for h in hosts},
        drained=tuple(touched) if maintenance_mode else (),
        stop_reason="interrupt",
        note=note.format(hosts=", ".join(touched) or "no host"),
    )


def stopped_early_ending(hosts: Sequence[str], unreachable: set[str],
                         ran: Mapping[str, Any] | None = None, maintenance_mode: bool = False,
                         cause: str = "") -> Ending:
    """The playbook ended before its close play (Ansible failed, every target unreachable,
    the worker's connection lost: `cause`): judge the hosts from what the events said. A host
    whose steps had started (`ran`, see `Trace.what_ran`) was cut off: failed, or drained."""
    cut = sorted(h for h in (ran or {}) if h not in unreachable)
    table = {h: "unreachable" if h in unreachable else
             ("drained" if maintenance_mode else "failed") if h in cut else "not_started"
             for h in hosts}
    details = [f"unreachable: {', '.join(sorted(unreachable))}"] if unreachable else []
    details += [f"cut off: {', '.join(cut)}"] if cut else []
    return Ending(outcome=run_outcome(table), hosts=table,
                  drained=tuple(cut) if maintenance_mode else (),
                  note="the playbook stopped before it could close the run"
                  + (f": {cause}" if cause else "")
                  + (f" ({'; '.join(details)})" if details else ""))
