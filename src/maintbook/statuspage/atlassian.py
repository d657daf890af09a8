"""The `statuspage` provider: Atlassian Statuspage API v1.

A maintenance is a scheduled incident found again by `metadata.maintbook.maintenance`; an
emergency is a real incident (investigating → identified → monitoring → resolved). Components
are the page's ids from `statuspage.components` (system name → id), else looked up by name.
Requests answered 420, 429 or 5xx are retried with backoff (Retry-After honoured). No message
ever carries the API key.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from maintbook.http import ConnectionFailed, Transport, urllib_transport
from maintbook.statuspage.model import Change, PageError, is_news, last_body
from maintbook.timeparse import parse_rfc3339

RETRY_STATUSES = (420, 429)
MAX_PAGES = 50
# maintbook's statuses → Statuspage's (scheduled maintenance; incident for an emergency).
MAINTENANCE_STATUS = {
    "scheduled": "scheduled",
    "in_progress": "in_progress",
    "verifying": "verifying",
    "completed": "completed",
    "cancelled": "completed",
    "ended_early": "completed",
    "missed": "completed",
    "not_completed": "in_progress",
}
INCIDENT_STATUS = {
    "scheduled": "investigating",
    "in_progress": "identified",
    "verifying": "monitoring",
    "completed": "resolved",
    "cancelled": "resolved",
    "ended_early": "resolved",
    "missed": "resolved",
    "not_completed": "monitoring",
}


class Api:
    """Statuspage API v1 through an injectable transport, with bounded backoff."""

    def __init__(self, base: str, page_id: str, key: str, transport: Transport | None = None,
                 sleep: Callable[[float], None] = time.sleep, retries: int = 4,
                 delay: float = 1.0) -> None:
        self.base = base.rstrip("/")
        self.page = f"/pages/{quote(page_id, safe='')}"
        self.key, self.transport, self.sleep = key, transport or urllib_transport, sleep
        self.retries, self.delay = max(retries, 0), max(delay, 0.0)

    def call(self, method: str, path: str, body: Any = None, query: str = "") -> Any:
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Authorization": f"OAuth {self.key}", "Content-Type": "application/json",
                   "Accept": "application/json"}
        status, detail = -1, ""
        for attempt in range(self.retries + 1):
            try:
                answer = self.transport(method, self.base + path + query, data, headers, 30)
            except ConnectionFailed as exc:
                status, detail = -1, f": {exc}"
            else:
                status = answer.status
                if 200 <= status < 300:
                    return json.loads(answer.body) if answer.body.strip() else None
                detail = self._detail(answer.body)
                retry_after = str(answer.headers.get("Retry-After") or "")
            if not (status in (-1, *RETRY_STATUSES) or status >= 500) or attempt == self.retries:
                break
            wait = float(retry_after) if status != -1 and retry_after.isdigit() else (
                self.delay * 2**attempt)
            self.sleep(min(wait, 60.0))
        raise PageError(f"Statuspage {method} {path} answered {status}{detail}")

    def _detail(self, body: bytes) -> str:
        text = body.decode("utf-8", "replace").replace(self.key, "********")[:300]
        return f": {text}" if text else ""

    def paged(self, path: str, size_param: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        for number in range(1, MAX_PAGES + 1):
            batch = self.call("GET", path, query=f"?{size_param}=100&page={number}") or []
            items.extend(batch)
            if len(batch) < 100:
                break
        return items


def _state(incident: dict[str, Any]) -> str | None:
    meta = (incident.get("metadata") or {}).get("maintbook") or {}
    return meta.get("state")


def record_of(entry_id: str, incident: dict[str, Any]) -> dict[str, Any]:
    updates = sorted(incident.get("incident_updates") or [],
                     key=lambda u: u.get("created_at") or "")
    return {
        "id": entry_id,
        "incident_id": incident.get("id"),
        "name": incident.get("name"),
        "kind": "incident" if incident.get("scheduled_for") is None else "maintenance",
        "status": _state(incident) or incident.get("status"),
        "scheduled_for": incident.get("scheduled_for"),
        "scheduled_until": incident.get("scheduled_until"),
        "components": {c.get("name"): c.get("status") for c in incident.get("components") or []},
        "updates": [{"status": u.get("status"), "body": u.get("body"), "at": u.get("created_at")}
                    for u in updates],
    }


def component_ids(api: Api, names: tuple[str, ...], mapping: dict[str, str]) -> dict[str, str]:
    """System or component name → the page's component id."""
    if not names:
        return {}
    if all(name in mapping for name in names):
        return {name: mapping[name] for name in names}
    known = api.paged(api.page + "/components", "per_page")
    by_name = {c.get("name"): c.get("id") for c in known}
    ids = {c.get("id") for c in known}
    found: dict[str, str] = {}
    for name in names:
        value = mapping.get(name) or by_name.get(name) or (name if name in ids else None)
        if value is None:
            raise PageError(f"component {name} is not on the Statuspage page and "
                            "statuspage.components does not map it")
        found[name] = str(value)
    return found


def _same_time(ours: str, theirs: str | None) -> bool:
    """The API answers times in its own form (`2026-12-06T02:00:00.000Z`): compare instants."""
    if theirs is None:
        return False
    try:
        return parse_rfc3339(ours) == parse_rfc3339(theirs)
    except ValueError:
        return ours == theirs


def _moved(change: Change, incident: dict[str, Any]) -> bool:
    """Whether the change moves the window (a reschedule, or an extension's new end); an
    incident (an emergency) has no window on the page."""
    return change.kind != "incident" and any(
        value and not _same_time(value, incident.get(key))
        for key, value in (("scheduled_for", change.scheduled_for),
                           ("scheduled_until", change.scheduled_until))
    )


def find(api: Api, entry_id: str) -> dict[str, Any] | None:
    for incident in api.paged(api.page + "/incidents", "limit"):
        meta = (incident.get("metadata") or {}).get("maintbook") or {}
        if meta.get("maintenance") == entry_id:
            return incident
    return None


def payload(entry_id: str, change: Change, ids: dict[str, str], creating: bool
            ) -> dict[str, Any]:
    emergency = change.kind == "incident"
    table = INCIDENT_STATUS if emergency else MAINTENANCE_STATUS
    incident: dict[str, Any] = {
        "status": table.get(change.status, "completed"),
        "body": change.body,
        "metadata": {"maintbook": {"maintenance": entry_id, "state": change.status}},
    }
    if ids:
        incident["components"] = {i: change.component_status for i in ids.values()}
        incident["component_ids"] = list(ids.values())
    if change.name:
        incident["name"] = change.name
    if not emergency:
        for key in ("scheduled_for", "scheduled_until"):
            if getattr(change, key):
                incident[key] = getattr(change, key)
    if creating:
        incident.setdefault("name", entry_id)
        if emergency:
            incident["impact_override"] = "major" if change.component_status != "operational" \
                else "minor"
        else:
            incident.update(scheduled_auto_in_progress=False, scheduled_auto_completed=False,
                            impact_override="maintenance")
    return {"incident": incident}


def apply(api: Api, entry_id: str, change: Change, mapping: dict[str, str], check: bool
          ) -> tuple[bool, dict[str, Any]]:
    current = find(api, entry_id)
    if current is not None and not is_news(_state(current), last_body(record_of(
            entry_id, current)), change) and not _moved(change, current):
        return False, record_of(entry_id, current)
    if current is None and change.kind != "incident" and not (
        change.scheduled_for and change.scheduled_until
    ):
        raise PageError(f"maintenance {entry_id} is not on the page yet: its window is needed "
                        "to create it")
    ids = component_ids(api, change.components, mapping)
    body = payload(entry_id, change, ids, creating=current is None)
    if check:
        preview = dict(current or {}, **body["incident"])
        preview["components"] = [{"name": n, "status": change.component_status} for n in ids]
        return True, record_of(entry_id, preview)
    if current is None:
        return True, record_of(entry_id, api.call("POST", api.page + "/incidents", body))
    path = f"{api.page}/incidents/{quote(str(current['id']), safe='')}"
    return True, record_of(entry_id, api.call("PATCH", path, body))
