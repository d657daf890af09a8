"""A representative status.json for the site tests: every section and status, two zones."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

NOW = datetime(2026, 12, 6, 2, 30, tzinfo=UTC)
ZONES = ["UTC", "America/New_York"]
TITLE = "Example Cloud status"
URL = "https://status.example.com"


def _update(status: str, at: str, body: str) -> dict[str, str]:
    return {"status": status, "at": at, "body": body}


def sample() -> dict[str, Any]:
    """Active (in progress, not completed), upcoming, past (completed, cancelled, ended early)."""
    return {
        "maintenances": [
            {
                "id": "MNT-2026-0031",
                "name": "Weekly operating system updates",
                "status": "completed",
                "scheduled_for": "2026-11-29T03:00:00Z",
                "scheduled_until": "2026-11-29T04:00:00Z",
                "components": {"web": "operational", "api": "operational"},
                "updates": [
                    _update("scheduled", "2026-11-22T09:00:00Z", "Maintenance is scheduled."),
                    _update("in_progress", "2026-11-29T03:00:00Z", "Maintenance is in progress."),
                    _update("verifying", "2026-11-29T03:40:00Z", "Checking that all is well."),
                    _update("completed", "2026-11-29T03:52:00Z", "Maintenance is complete."),
                ],
            },
            {
                "id": "MNT-2026-0042",
                "name": "Monthly PostgreSQL full maintenance",
                "status": "in_progress",
                "scheduled_for": "2026-12-06T02:00:00Z",
                "scheduled_until": "2026-12-06T04:00:00Z",
                "components": {"database": "under_maintenance", "api": "under_maintenance"},
                "impact": {
                    "summary": "The API may answer slowly and refuse writes for short moments.",
                    "expect": "Writes can fail for up to two minutes, twice; retry them.",
                },
                "updates": [
                    _update("scheduled", "2026-11-30T10:00:00Z", "Maintenance is scheduled."),
                    _update("in_progress", "2026-12-06T02:00:00Z", "Maintenance is in progress."),
                ],
            },
            {
                "id": "EMT-202612051800",
                "kind": "incident",
                "name": "Emergency patch of the load balancers",
                "status": "not_completed",
                "scheduled_for": "2026-12-05T18:00:00Z",
                "scheduled_until": "2026-12-05T19:00:00Z",
                "components": {"load-balancer": "degraded_performance"},
                "updates": [
                    _update("in_progress", "2026-12-05T18:00:00Z", "Patching has started."),
                    _update(
                        "not_completed",
                        "2026-12-05T19:05:00Z",
                        "The patch did not apply on one node.\nSome requests may be slower.",
                    ),
                ],
            },
            {
                "id": "MNT-2026-0050",
                "name": "TLS certificate rotation",
                "status": "scheduled",
                "scheduled_for": "2026-12-13T23:30:00Z",
                "scheduled_until": "2026-12-14T00:30:00Z",
                "components": {"web": "operational"},
                "impact": {"summary": "Open connections are closed once; browsers reconnect."},
                "updates": [
                    _update("scheduled", "2026-12-01T09:00:00Z", "Maintenance is scheduled."),
                ],
            },
            {
                "id": "MNT-2026-0038",
                "name": "Search index rebuild",
                "status": "cancelled",
                "scheduled_for": "2026-12-02T01:00:00Z",
                "scheduled_until": "2026-12-02T03:00:00Z",
                "components": {"search": "operational"},
                "updates": [
                    _update("scheduled", "2026-11-25T12:00:00Z", "Maintenance is scheduled."),
                    _update("cancelled", "2026-12-01T16:00:00Z", "Postponed to a later date."),
                ],
            },
            {
                "id": "MNT-2026-0040",
                "name": "Cache cluster resize",
                "status": "ended_early",
                "scheduled_for": "2026-12-04T02:00:00Z",
                "scheduled_until": "2026-12-04T03:00:00Z",
                "components": {"api": "operational"},
                "updates": [
                    _update("in_progress", "2026-12-04T02:00:00Z", "Maintenance is in progress."),
                    _update("ended_early", "2026-12-04T02:20:00Z", "Stopped early; no impact."),
                ],
            },
        ]
    }
