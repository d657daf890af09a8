"""The status-page entry of a maintenance and the one rule that moves it (SPEC §6, §10, §13).

Both providers keep the same record: `{"id", "name", "status", "scheduled_for",
"scheduled_until", "components": {name: status}, "updates": [{"status", "body", "at"}],
"impact", "kind"}` and call `transition()` to change it. Statuses:

    scheduled ──▶ in_progress ──▶ verifying ──▶ completed | ended_early | not_completed
        │              └────────────────────────▶ cancelled (a no-go: before any change)
        ├──▶ cancelled (maintbook cancel)   └──▶ missed (the window passed without a run)
    a closed entry opens again (in_progress) when the maintenance runs again in its window.

Every text on the page is public: a status's default body never names a host, a step or an
error (SPEC §13).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

ACTIVE = ("in_progress", "verifying")
CLOSED = ("completed", "cancelled", "ended_early", "not_completed", "missed")
STATUSES = ("scheduled", *ACTIVE, *CLOSED)

BODY = {
    "scheduled": "Maintenance is scheduled.",
    "rescheduled": "The maintenance has moved to a new window.",
    "in_progress": "Maintenance is in progress.",
    "verifying": "The work is done; we are verifying the results.",
    "completed": "The maintenance is complete and all systems are operational.",
    "cancelled": "This maintenance has been cancelled. Nothing was changed.",
    "no_go": "The maintenance was cancelled before any change. Nothing was changed.",
    "ended_early": "The maintenance ended early. The changes were undone and the service "
    "works as before.",
    "interrupted": "The maintenance was interrupted and ended early.",
    "not_completed": "The maintenance did not complete; some features may be degraded while "
    "our engineers finish the work.",
    "missed": "This maintenance did not take place.",
    "extended": "The maintenance will take longer than planned.",
    "batch": "Maintenance is in progress: {batch}.",
}


class PageError(Exception):
    """A page operation that failed; the message names the provider and what it got."""


@dataclass(frozen=True)
class Change:
    """What to do to the entry."""

    status: str
    body: str
    components: tuple[str, ...] = ()
    component_status: str = "operational"
    scheduled_for: str | None = None
    scheduled_until: str | None = None
    name: str | None = None
    impact: dict[str, str] | None = None
    kind: str = "maintenance"  # or incident (an emergency)


def component_status(status: str, closing: str | None = None) -> str:
    if status in ACTIVE:
        return "under_maintenance"
    return closing or "operational"


def new_record(entry_id: str, change: Change) -> dict[str, Any]:
    if not (change.scheduled_for and change.scheduled_until):
        raise PageError(f"maintenance {entry_id} is not on the page yet: its window is needed "
                        "to create it")
    return {
        "id": entry_id,
        "name": change.name or entry_id,
        "kind": change.kind,
        "status": None,
        "scheduled_for": None,
        "scheduled_until": None,
        "components": {},
        "impact": change.impact,
        "updates": [],
    }


def allowed(current: str | None, wanted: str) -> bool:
    if current is None or current == wanted:
        return True
    if current in CLOSED:
        return wanted in ("in_progress", "scheduled") and current != "missed"
    if current == "scheduled":
        return True
    return wanted != "scheduled"  # an active entry only moves on


def is_news(current_status: str | None, last_body: str | None, change: Change) -> bool:
    """The change adds an update: a new status, or new words for an active one (a rolling
    run's next batch). The same words again add nothing, so a repeated call is idempotent."""
    if current_status != change.status:
        return True
    return change.status in ACTIVE and last_body is not None and change.body != last_body


def last_body(record: dict[str, Any]) -> str | None:
    updates = record.get("updates") or []
    return str(updates[-1].get("body")) if updates else None


def transition(record: dict[str, Any] | None, entry_id: str, change: Change,
               now: str) -> dict[str, Any]:
    """The entry after `change`; the input is not modified. Same status, same window: no change."""
    current = record or new_record(entry_id, change)
    if not allowed(current["status"], change.status):
        raise PageError(f"maintenance {entry_id} is {current['status']} on the page; "
                        f"it cannot become {change.status}")
    new = copy.deepcopy(current)
    moved = any(
        value and value != new.get(key)
        for key, value in (("scheduled_for", change.scheduled_for),
                           ("scheduled_until", change.scheduled_until))
    )
    for key in ("name", "scheduled_for", "scheduled_until", "impact"):
        value = getattr(change, key)
        if value:
            new[key] = value
    new["kind"] = change.kind or new.get("kind", "maintenance")
    names = list(change.components) or list(new["components"])
    new["components"] = {name: change.component_status for name in names}
    if is_news(current["status"], last_body(current), change) or (
            moved and current["status"] is not None):
        new["status"] = change.status
        new["updates"].append({"status": change.status, "body": change.body, "at": now})
    return new
