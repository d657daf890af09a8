"""Closing a run (SPEC §7 step 4, §10): the page, the silence, the outcome notice, the release.

The closing actions run in `CLOSING` order whatever happened, each on its own: one that fails
is recorded in `closing_errors` and the others still run. The compiled playbook's close play
calls the same functions through the lifecycle plugins; `maintbook run` calls `close_run`
itself when the playbook could not (an interrupt, a playbook that stopped early), and
`maintbook recover` calls it for a run that crashed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from maintbook import notify, silence, statuspage
from maintbook.context import Context
from maintbook.http import Transport
from maintbook.lifecycle import INTERRUPTED, NO_GO, SUCCEEDED, page_close
from maintbook.notify.render import Story
from maintbook.statuspage.model import BODY
from maintbook.store import Store, leases, maintenances, runs
from maintbook.timeparse import parse_rfc3339

CLOSING = ("page", "silence", "notice", "release")


@dataclass(frozen=True)
class Ending:
    """How a run ended: what the close says and records."""

    outcome: str
    hosts: dict[str, str] = field(default_factory=dict)
    failures: tuple[dict[str, Any], ...] = ()
    drained: tuple[str, ...] = ()  # hosts left in maintenance mode
    stop_reason: str | None = None  # interrupt | deadline | ...
    note: str = ""  # what else a person must know (e.g. maintenance mode left as it was)
    check: bool = False
    retry: bool = False

    def summary(self) -> dict[str, Any]:
        return {
            "hosts": self.hosts,
            "failures": list(self.failures),
            "drained": list(self.drained),
            "stop_reason": self.stop_reason,
            "note": self.note,
        }


def failure_text(failure: dict[str, Any]) -> str:
    """`verify 'API healthy' failed on web1: answered 503 (rc 1)` and the stderr tail."""
    head = (f"{failure.get('phase', 'step')} {failure.get('step')!r} failed on "
            f"{failure.get('host')}: {failure.get('msg') or 'failed'}")
    if failure.get("rc") not in (None, ""):
        head += f" (rc {failure['rc']})"
    stderr = [line for line in failure.get("stderr") or [] if line.strip()]
    return head + ("".join(f"\n    {line}" for line in stderr[-20:]) if stderr else "")


def story_of(ending: Ending, now: str) -> Story:
    lines = [failure_text(f) for f in ending.failures]
    if ending.drained:
        lines.append("Left in maintenance mode (drained): " + ", ".join(ending.drained))
    if ending.stop_reason:
        lines.append(f"Stopped by: {ending.stop_reason}")
    if ending.note:
        lines.append(ending.note)
    return Story(outcome=ending.outcome, message="\n".join(lines), retry=ending.retry,
                 degraded=bool(ending.drained), now=now)


def page_body(ending: Ending) -> str:
    if ending.outcome == NO_GO:
        return BODY["no_go"]
    if ending.outcome == INTERRUPTED and not ending.drained:
        return BODY["interrupted"] + " The changes were undone." if ending.hosts else \
            BODY["interrupted"]
    return BODY[page_close(ending.outcome, bool(ending.drained)).status]


def close_change(ctx: Context, ending: Ending) -> statuspage.Change:
    """The page change that closes a maintenance as `ending` says."""
    closing = page_close(ending.outcome, bool(ending.drained))
    return statuspage.close_change(ctx, closing, page_body(ending))


def close_page(ctx: Context, ending: Ending, now: datetime,
               transport: Transport | None = None) -> tuple[bool, dict[str, Any]]:
    return statuspage.publish(ctx, close_change(ctx, ending), now=now, check=ending.check,
                              transport=transport)


def close_silence(ctx: Context, ending: Ending, transport: Transport | None = None) -> None:
    if ctx.silence is None:
        return
    api = silence.Alertmanager(ctx.silence.url, transport) if transport else \
        silence.Alertmanager(ctx.silence.url)
    silence.absent(api, ctx.facts.maintenance, check=ending.check)


def outcome_notice_due(ctx: Context, outcome: str) -> bool:
    """`complete` goes out where the type's notices list it, and always after a failure."""
    return "complete" in ctx.notice_offsets or outcome != SUCCEEDED


def send_outcome(store: Store, ctx: Context, run_id: str, ending: Ending, now: datetime,
                 transport: Transport | None = None) -> list[str]:
    """The outcome notice; the channels it could not reach (required or not)."""
    if not outcome_notice_due(ctx, ending.outcome):
        return []
    sent = notify.send(store, ctx, "complete", run_id=run_id, now=now,
                       story=story_of(ending, now.strftime("%Y-%m-%d %H:%M UTC")),
                       check=ending.check, transport=transport)
    return sent.errors


def release(store: Store, ctx: Context, run_id: str, ending: Ending, now: datetime,
            closing_errors: list[str], *, recovered: bool = False) -> None:
    """The maintenance takes the outcome, the lease goes, the run row is finished."""
    summary = {**ending.summary(), "closing_errors": closing_errors}
    with store.write() as tx:
        if not ending.check:
            leases.release(tx, run_id, now)
            current = maintenances.get(tx, ctx.facts.maintenance)
            if current is not None and current.state == "running":
                maintenances.transition(tx, ctx.facts.maintenance, ending.outcome, now,
                                        run_id=run_id)
        runs.finish(tx, run_id, ending.outcome, now, summary, recovered=recovered)


def close_run(store: Store, ctx: Context, run_id: str, ending: Ending, now: datetime, *,
              recovered: bool = False, transport: Transport | None = None) -> list[str]:
    """Every closing action, each on its own; the errors of those that failed."""
    errors: list[str] = []
    steps: list[tuple[str, Callable[[], Any]]] = [
        ("page", lambda: close_page(ctx, ending, now, transport)),
        ("silence", lambda: close_silence(ctx, ending, transport)),
    ]
    for name, action in steps:
        try:
            action()
        except Exception as exc:  # noqa: BLE001 - a closing action never stops the others
            errors.append(f"{name}: {exc}")
    try:
        errors += [f"notice {e}" for e in send_outcome(store, ctx, run_id, ending, now,
                                                        transport)]
    except Exception as exc:  # noqa: BLE001
        errors.append(f"notice: {exc}")
    try:
        release(store, ctx, run_id, ending, now, errors, recovered=recovered)
    except Exception as exc:  # noqa: BLE001
        errors.append(f"release: {exc}")
    return errors


def window_end(ctx: Context) -> datetime:
    return parse_rfc3339(ctx.facts.window_end)
