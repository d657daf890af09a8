"""`maintbook check` of many runbooks at once, as positioned diagnostics (SPEC §3, §5, §11).

* A one-off runbook: every rule of `policy.check_conflicts` for its window; overlaps come
  from one sweep over every window (maintbook.overlap): one diagnostic per runbook naming
  the others, whatever their number.
* A recurring runbook: its standing rules once (type, duration, approvals), then its
  occurrences of the next `horizon` (maintbook.recurrence, notice not judged: a series is
  announced before its first occurrence, whenever that is). Occurrences moved or skipped
  for the same rule make one diagnostic at `recurrence.rrule`, naming the first few:
  ``<kind>-moved`` (info: the series does what `on_conflict` says) or ``<kind>-skipped``
  (warning; an error when no occurrence of the horizon takes place). A rule or zone the
  engine cannot expand is an error at `recurrence.rrule` / `recurrence.tz`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from maintbook.calendar import CalendarEvent
from maintbook.config import Policy
from maintbook.diagnostics import Diagnostic
from maintbook.loader import Document, PathKey
from maintbook.model import Runbook
from maintbook.overlap import HostsOf, overlap_messages
from maintbook.policy import CHECKS, START, Conflict, check_conflicts, standing_conflicts
from maintbook.recurrence import (
    MAX_OCCURRENCES,
    SKIPPED,
    Occurrence,
    RecurrenceError,
    judge_series,
)
from maintbook.series import SKIP_ALL
from maintbook.timeparse import format_duration, format_utc

HORIZON = timedelta(days=90)
LISTED = 3  # occurrences named in one diagnostic
RRULE: PathKey = ("recurrence", "rrule")
_ORDER = {kind: index for index, (kind, _) in enumerate(CHECKS)}


def _locate(document: Document, path: PathKey) -> tuple[PathKey, bool]:
    """The path to point at: the value when the document has it, else the `type` key."""
    if path in document.source.values:
        return path, False
    return ("type",), True


def _diagnostic(document: Document, conflict: Conflict) -> Diagnostic:
    path, key = _locate(document, conflict.path)
    return document.at(path, conflict.code, conflict.message, key=key, severity=conflict.severity)


def policy_diagnostics(
    pairs: Sequence[tuple[Document, Runbook]],
    policy: Policy,
    now: datetime,
    events: Sequence[CalendarEvent],
    hosts_of: HostsOf | None = None,
    *,
    others: Sequence[Runbook] = (),
    horizon: timedelta = HORIZON,
) -> list[Diagnostic]:
    """The conflicts of each runbook of `pairs` as positioned diagnostics.

    Each runbook is compared with the other runbooks of `pairs` and with `others` (booked
    runbooks that are not being checked); a runbook never overlaps its own id.
    """
    checked = {rb.id for _, rb in pairs}
    everyone = [rb for _, rb in pairs] + [rb for rb in others if rb.id not in checked]
    found = _one_off_diagnostics(
        [(d, rb) for d, rb in pairs if not rb.is_series],
        [rb for rb in everyone if not rb.is_series],
        policy,
        now,
        events,
        hosts_of,
    )
    series = [(d, rb) for d, rb in pairs if rb.is_series]
    if series:
        judged = judge_series(
            [rb for _, rb in series],
            policy,
            start=now,
            end=now + horizon,
            now=now,
            others=everyone,
            events=events,
            hosts_of=hosts_of,
        )
        for document, runbook in series:
            verdict = _Verdict(policy, horizon, judged[runbook.id])
            found += [_diagnostic(document, c) for c in verdict.conflicts(runbook)]
    return found


def _one_off_diagnostics(
    pairs: Sequence[tuple[Document, Runbook]],
    windows: Sequence[Runbook],
    policy: Policy,
    now: datetime,
    events: Sequence[CalendarEvent],
    hosts_of: HostsOf | None,
) -> list[Diagnostic]:
    """`pairs` are the first len(pairs) of `windows`, in order."""
    messages = overlap_messages(windows, [i < len(pairs) for i in range(len(windows))], hosts_of)
    found: list[Diagnostic] = []
    for index, (document, runbook) in enumerate(pairs):
        conflicts = check_conflicts(runbook, policy, now, (), events, hosts_of)
        if index in messages:
            conflicts.append(Conflict("overlap", "overlap", START, messages[index]))
        conflicts.sort(key=lambda c: _ORDER.get(c.kind, -1))
        found += [_diagnostic(document, c) for c in conflicts]
    return found


class _Verdict:
    """The conflicts of one recurring runbook, from its occurrences over the horizon."""

    def __init__(
        self, policy: Policy, horizon: timedelta, judged: list[Occurrence] | RecurrenceError
    ) -> None:
        self.policy, self.horizon, self.judged = policy, horizon, judged

    def conflicts(self, runbook: Runbook) -> list[Conflict]:
        standing = standing_conflicts(runbook, self.policy)
        if isinstance(self.judged, RecurrenceError):
            key = self.judged.key
            failed = Conflict(
                "recurrence", f"recurrence-{key}", ("recurrence", key), str(self.judged)
            )
            return [*standing, failed]
        if any(c.kind in SKIP_ALL for c in standing):
            return standing  # every occurrence is skipped for it: said once
        found = self.judged
        return standing + self._crowded(found) + self._grouped(found) + self._limit(found)

    def _crowded(self, found: Sequence[Occurrence]) -> list[Conflict]:
        """overlap (with itself). passes: weekly for 1h; fails: hourly for 2h."""
        held = [o for o in found if o.start is not None and o.end is not None]
        for this, following in zip(held, held[1:], strict=False):
            assert this.end is not None and following.start is not None
            if this.end > following.start:
                return [
                    Conflict(
                        "overlap",
                        "overlap-series",
                        ("window", "duration"),
                        f"window.duration {format_duration(this.runbook.duration)} is longer "
                        f"than the time between two occurrences: {this.maintenance_id} ends "
                        f"at {format_utc(this.end)}, after {following.maintenance_id} starts",
                    )
                ]
        return []

    def _grouped(self, found: Sequence[Occurrence]) -> list[Conflict]:
        groups: dict[tuple[str, str], list[Occurrence]] = {}
        for item in found:
            if item.status != "planned":
                groups.setdefault((item.kinds[0], item.status), []).append(item)
        never = bool(found) and all(item.status == SKIPPED for item in found)
        return [
            Conflict(
                kind,
                f"{kind}-{status}",
                RRULE,
                self._message(status, items, len(found), never),
                "info" if status != SKIPPED else ("error" if never else "warning"),
            )
            for (kind, status), items in groups.items()
        ]

    def _message(self, status: str, items: Sequence[Occurrence], total: int, never: bool) -> str:
        shown = "; ".join(_describe(item) for item in items[:LISTED])
        more = f"; and {len(items) - LISTED:,} more" if len(items) > LISTED else ""
        span = format_duration(self.horizon)
        verb = "is" if len(items) == 1 else "are"
        head = f"{len(items):,} of {total:,} occurrences of the next {span} {verb} {status}"
        if never:
            head += " (none takes place)"
        return f"{head}: {shown}{more}"

    def _limit(self, found: Sequence[Occurrence]) -> list[Conflict]:
        if len(found) < MAX_OCCURRENCES:
            return []
        last = format_utc(found[-1].planned_start)
        return [
            Conflict(
                "recurrence",
                "recurrence-limit",
                RRULE,
                f"more than {MAX_OCCURRENCES:,} occurrences in the next "
                f"{format_duration(self.horizon)}: judged up to {last}",
                "warning",
            )
        ]


def _describe(item: Occurrence) -> str:
    """`MNT-2026-0042@20261220T0300Z to 2026-12-20T05:00:00Z (why)`; skipped: `… (why)`."""
    where = f" to {format_utc(item.start)}" if item.start is not None else ""
    return f"{item.maintenance_id}{where} ({item.reason})"
