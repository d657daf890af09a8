"""The life of a maintenance (SPEC §10, §12): its states, outcomes and what each one means.

One owner for the vocabulary every other part reads: the state database writes only the
transitions listed here, the status page and the notices say what `PAGE` and `NOTICE_OUTCOME`
say for an outcome, and `maintbook run` exits with `EXIT_CODES`.

    draft ──first notice──▶ announced ──run──▶ running ──▶ an outcome
      │                        │                             (not succeeded: may run again)
      ├────────────────────────┴── cancel ──▶ cancelled
      └── window ended, no run ─────────────▶ missed

A run's outcome is decided from its hosts' end states (`run_outcome`): the worst host wins,
in the order rollback_failed, failed, rolled_back, succeeded.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

DRAFT, ANNOUNCED, RUNNING = "draft", "announced", "running"
CANCELLED, MISSED = "cancelled", "missed"

SUCCEEDED, NO_GO, FAILED = "succeeded", "no_go", "failed"
ROLLED_BACK, ROLLBACK_FAILED = "rolled_back", "rollback_failed"
INTERRUPTED, REFUSED = "interrupted", "refused"

OUTCOMES = (SUCCEEDED, NO_GO, FAILED, ROLLED_BACK, ROLLBACK_FAILED, INTERRUPTED, REFUSED)
# A refused run changes nothing: it is recorded on the run, never on the maintenance.
RUN_ENDS = (SUCCEEDED, NO_GO, FAILED, ROLLED_BACK, ROLLBACK_FAILED, INTERRUPTED)
STATES = (DRAFT, ANNOUNCED, RUNNING, *RUN_ENDS, CANCELLED, MISSED)

# Ends after which the same maintenance may run again while its window is open.
RETRYABLE = (NO_GO, FAILED, ROLLED_BACK, ROLLBACK_FAILED, INTERRUPTED)

TRANSITIONS: dict[str, tuple[str, ...]] = {
    DRAFT: (ANNOUNCED, RUNNING, CANCELLED, MISSED),
    ANNOUNCED: (ANNOUNCED, RUNNING, CANCELLED, MISSED),
    RUNNING: RUN_ENDS,
    **{end: (RUNNING,) for end in RETRYABLE},
    SUCCEEDED: (),
    CANCELLED: (),
    MISSED: (),
}

EXIT_CODES = {
    SUCCEEDED: 0,
    NO_GO: 1,
    FAILED: 1,
    ROLLED_BACK: 1,
    ROLLBACK_FAILED: 3,
    REFUSED: 2,
    INTERRUPTED: 130,
}

# Host end states (record.json `hosts`).
HOST_SUCCEEDED, HOST_ROLLED_BACK, HOST_ROLLBACK_FAILED = "succeeded", "rolled_back", (
    "rollback_failed"
)
HOST_DRAINED, HOST_FAILED = "drained", "failed"
HOST_NOT_STARTED, HOST_UNREACHABLE = "not_started", "unreachable"
HOST_STATES = (
    HOST_SUCCEEDED,
    HOST_ROLLED_BACK,
    HOST_ROLLBACK_FAILED,
    HOST_DRAINED,
    HOST_FAILED,
    HOST_NOT_STARTED,
    HOST_UNREACHABLE,
)
# Maintenance mode goes off only on these (SPEC §12); every other host stays drained.
CLEAN_HOST_STATES = (HOST_SUCCEEDED, HOST_ROLLED_BACK, HOST_NOT_STARTED)

# Notice kinds: the calendar decides the first group (tick), what happened the second.
CALENDAR_NOTICES = ("announce", "reminder", "rescheduled", "cancelled", "missed")
RUN_NOTICES = ("start", "emergency", "progress", "rollback", "extended", "complete")
NOTICES = (*CALENDAR_NOTICES, *RUN_NOTICES)


class TransitionError(ValueError):
    """A move the state machine does not allow; the message says from where to where."""


def check_transition(current: str, wanted: str) -> None:
    if wanted not in TRANSITIONS.get(current, ()):
        allowed = ", ".join(TRANSITIONS.get(current, ())) or "nothing"
        raise TransitionError(f"a maintenance that is {current} cannot become {wanted} "
                              f"(from {current}: {allowed})")


def may_run(state: str) -> bool:
    return RUNNING in TRANSITIONS.get(state, ())


@dataclass(frozen=True)
class PageClose:
    """How the status page shows a maintenance that ended this way."""

    status: str  # the page entry's status (SPEC §13 vocabulary of the file page)
    components: str  # Atlassian component status
    provider_status: str  # the nearest Atlassian scheduled-maintenance status


PAGE: dict[str, PageClose] = {
    SUCCEEDED: PageClose("completed", "operational", "completed"),
    NO_GO: PageClose("cancelled", "operational", "completed"),
    ROLLED_BACK: PageClose("ended_early", "operational", "completed"),
    INTERRUPTED: PageClose("ended_early", "operational", "completed"),
    FAILED: PageClose("not_completed", "degraded_performance", "in_progress"),
    ROLLBACK_FAILED: PageClose("not_completed", "degraded_performance", "in_progress"),
    CANCELLED: PageClose("cancelled", "operational", "completed"),
    MISSED: PageClose("missed", "operational", "completed"),
}
# An interrupted run that left hosts drained is not over for its customers either.
PAGE_INTERRUPTED_DRAINED = PageClose("not_completed", "degraded_performance", "in_progress")


def page_close(outcome: str, drained: bool = False) -> PageClose:
    if outcome == INTERRUPTED and drained:
        return PAGE_INTERRUPTED_DRAINED
    return PAGE[outcome]


_HOST_RANK = {
    HOST_ROLLBACK_FAILED: 4,
    HOST_UNREACHABLE: 3,
    HOST_FAILED: 3,
    HOST_DRAINED: 3,
    HOST_ROLLED_BACK: 2,
    HOST_SUCCEEDED: 1,
    HOST_NOT_STARTED: 0,
}
_RANK_OUTCOME = {4: ROLLBACK_FAILED, 3: FAILED, 2: ROLLED_BACK, 1: SUCCEEDED, 0: SUCCEEDED}


def run_outcome(host_states: Mapping[str, str], *, no_go: bool = False) -> str:
    """The outcome of a run that was not interrupted, from its hosts' end states.

    >>> run_outcome({"db": "rolled_back", "web": "not_started"})
    'rolled_back'
    >>> run_outcome({"db": "failed", "web": "rolled_back"})
    'failed'
    >>> run_outcome({}, no_go=True)
    'no_go'
    """
    if no_go:
        return NO_GO
    rank = max((_HOST_RANK.get(state, 3) for state in host_states.values()), default=1)
    return _RANK_OUTCOME[rank]


def batch_progress(batch: Mapping[str, int] | None) -> str:
    """A rolling run's batch in words, or "" when the run has no batches.

    >>> batch_progress({"number": 2, "total": 4})
    'batch 2 of 4'
    """
    if not batch:
        return ""
    return f"batch {int(batch['number'])} of {int(batch['total'])}"


def drained(host_states: Mapping[str, str]) -> list[str]:
    """Hosts left in maintenance mode (when the runbook uses it)."""
    return sorted(h for h, s in host_states.items() if s not in CLEAN_HOST_STATES)
