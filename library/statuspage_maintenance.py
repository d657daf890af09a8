#!/usr/bin/python
"""Ansible module statuspage_maintenance: one scheduled maintenance per runbook id."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: statuspage_maintenance
short_description: Create and move a scheduled maintenance on a status page
description:
  - Creates the scheduled maintenance of a runbook and moves it through
    C(scheduled) -> C(in_progress) -> C(verifying) -> C(completed), or to C(cancelled).
  - There is never more than one maintenance per runbook id; the same state again changes nothing.
  - Provider C(file) keeps C(status.json), a static C(index.html) and C(maintenance.ics) in O(path).
  - Provider C(statuspage) drives the Atlassian Statuspage API v1; the maintenance is found again
    by the runbook id stored in the incident C(metadata).
  - Runs on the controller.
version_added: "0.1.0"
author: maintbook developers
options:
  provider:
    description: Where the maintenance lives.
    type: str
    choices: [file, statuspage]
    default: file
  runbook_id:
    description: Runbook id; identifies the maintenance.
    type: str
    required: true
  name:
    description: Title shown on the page. Literal text. Defaults to the runbook id when creating.
    type: str
  state:
    description: Wanted status of the maintenance.
    type: str
    required: true
    choices: [scheduled, in_progress, verifying, completed, cancelled]
  scheduled_for:
    description: Window start, RFC 3339 UTC. Required when the maintenance is created.
    type: str
  scheduled_until:
    description: Window end, RFC 3339 UTC. Required when the maintenance is created.
    type: str
  components:
    description:
      - Affected components. They are C(under_maintenance) while in progress or verifying and
        C(operational) otherwise.
      - For C(statuspage), component names or ids of the page.
    type: list
    elements: str
    default: []
  body:
    description: Text of the update added by this transition. Defaults to a sentence per state.
    type: str
  path:
    description: Folder of the C(file) provider.
    type: path
    default: .maintbook/status
  page_id:
    description: Statuspage page id. Required with O(provider=statuspage).
    type: str
  api_key:
    description:
      - Statuspage API key. Never logged.
      - With O(provider=statuspage), give this or O(api_key_env).
    type: str
  api_key_env:
    description:
      - Name of the environment variable holding the API key; the module reads it at run time,
        so the key is never a task argument. This is what C(maintbook compile) emits.
    type: str
  base_url:
    description: Statuspage API base URL.
    type: str
    default: https://api.statuspage.io/v1
  retries:
    description: How often a request answered 420, 429 or 5xx is retried.
    type: int
    default: 4
  retry_delay:
    description: First backoff delay in seconds; it doubles on every retry.
    type: float
    default: 1.0
notes:
  - Supports check mode; it reports what would change and writes nothing.
  - Statuspage has no C(cancelled) status; a cancelled maintenance is C(completed) there with a
    cancellation update and C(metadata.maintbook.state=cancelled).
"""

EXAMPLES = r"""
- name: Open the status-page maintenance
  statuspage_maintenance:
    runbook_id: MNT-2026-0042
    name: Monthly PostgreSQL full maintenance
    state: scheduled
    scheduled_for: "2026-12-06T02:00:00Z"
    scheduled_until: "2026-12-06T04:00:00Z"
    components: [api, database]
  delegate_to: localhost

- name: Mark it in progress on Atlassian Statuspage
  statuspage_maintenance:
    provider: statuspage
    page_id: gytm4qzbx9t6
    api_key: "{{ lookup('env', 'STATUSPAGE_API_KEY') }}"
    runbook_id: MNT-2026-0042
    state: in_progress
    components: [api, database]
  delegate_to: localhost
"""

RETURN = r"""
maintenance:
  description: The maintenance record after the call (or as it would be, in check mode).
  returned: always
  type: dict
  contains:
    id: {description: Runbook id., type: str, returned: always}
    incident_id:
      description: Statuspage incident id.
      type: str
      returned: with provider statuspage
    name: {description: Title., type: str, returned: always}
    status: {description: Current state., type: str, returned: always}
    scheduled_for: {description: Window start., type: str, returned: always}
    scheduled_until: {description: Window end., type: str, returned: always}
    components: {description: Component name to status., type: dict, returned: always}
    updates:
      description: Updates, oldest first, each with C(status), C(body), C(at).
      type: list
      elements: dict
      returned: always
  sample:
    id: MNT-2026-0042
    name: Monthly PostgreSQL full maintenance
    status: in_progress
    scheduled_for: "2026-12-06T02:00:00Z"
    scheduled_until: "2026-12-06T04:00:00Z"
    components: {api: under_maintenance}
    updates:
      - {status: scheduled, body: Maintenance is scheduled., at: "2026-11-30T10:00:00Z"}
      - {status: in_progress, body: Maintenance is in progress., at: "2026-12-06T02:00:00Z"}
"""

import fcntl
import html
import json
import os
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.urls import fetch_url

ACTIVE = ("in_progress", "verifying")
FINAL = ("completed", "cancelled")
DEFAULT_BODY = {
    "scheduled": "Maintenance is scheduled.",
    "in_progress": "Maintenance is in progress.",
    "verifying": "Maintenance work is done; we are verifying the results.",
    "completed": "Maintenance is complete; all systems are operational.",
    "cancelled": "This maintenance has been cancelled.",
}
ARGUMENT_SPEC: dict[str, Any] = {
    "provider": {"type": "str", "choices": ["file", "statuspage"], "default": "file"},
    "runbook_id": {"type": "str", "required": True},
    "name": {"type": "str"},
    "state": {"type": "str", "required": True, "choices": list(DEFAULT_BODY)},
    "scheduled_for": {"type": "str"},
    "scheduled_until": {"type": "str"},
    "components": {"type": "list", "elements": "str", "default": []},
    "body": {"type": "str"},
    "path": {"type": "path", "default": ".maintbook/status"},
    "page_id": {"type": "str"},
    "api_key": {"type": "str", "no_log": True},
    "api_key_env": {"type": "str", "no_log": False},
    "base_url": {"type": "str", "default": "https://api.statuspage.io/v1"},
    "retries": {"type": "int", "default": 4},
    "retry_delay": {"type": "float", "default": 1.0},
}
REQUIRED_IF = [
    ("provider", "statuspage", ["page_id"]),
    ("provider", "statuspage", ["api_key", "api_key_env"], True),
]
MUTUALLY_EXCLUSIVE = [("api_key", "api_key_env")]


class MaintenanceError(Exception):
    """An expected failure; its message is safe to show."""


def utc_now() -> str:
    return datetime.now(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def component_status(state: str) -> str:
    return "under_maintenance" if state in ACTIVE else "operational"


# ---------------------------------------------------------------- file provider


def transition(record: dict[str, Any] | None, p: dict[str, Any], now: str) -> dict[str, Any]:
    """The record after moving to ``p['state']``; the input is not modified."""
    state = p["state"]
    if record is None:
        if not (p["scheduled_for"] and p["scheduled_until"]):
            raise MaintenanceError(
                f"maintenance {p['runbook_id']} does not exist yet: "
                "scheduled_for and scheduled_until are required to create it"
            )
        record = {
            "id": p["runbook_id"],
            "name": p["name"] or p["runbook_id"],
            "status": None,
            "scheduled_for": None,
            "scheduled_until": None,
            "components": {},
            "updates": [],
        }
    new = json.loads(json.dumps(record))
    if record["status"] in FINAL and state not in (record["status"], "scheduled"):
        raise MaintenanceError(
            f"maintenance {p['runbook_id']} is already {record['status']}; cannot move to {state}"
        )
    for key in ("name", "scheduled_for", "scheduled_until"):
        if p[key]:
            new[key] = p[key]
    names = p["components"] or list(new["components"])
    new["components"] = {name: component_status(state) for name in names}
    if record["status"] != state:
        new["status"] = state
        new["updates"].append(
            {"status": state, "body": p["body"] or DEFAULT_BODY[state], "at": now}
        )
    return new


def read_status(path: str) -> dict[str, Any]:
    try:
        with open(os.path.join(path, "status.json"), encoding="utf-8") as handle:
            data: dict[str, Any] = json.load(handle)
    except FileNotFoundError:
        return {"maintenances": []}
    except ValueError as exc:
        raise MaintenanceError(f"{path}/status.json is not valid JSON: {exc}") from exc
    data.setdefault("maintenances", [])
    return data


def write_atomic(path: str, name: str, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path, prefix=f".{name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, os.path.join(path, name))
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def render_html(data: dict[str, Any]) -> str:
    e = html.escape
    rows = []
    for m in data["maintenances"]:
        comps = "".join(f"<li>{e(n)}: {e(s)}</li>" for n, s in m["components"].items())
        ups = "".join(
            f"<li><time>{e(u['at'])}</time> <strong>{e(u['status'])}</strong> {e(u['body'])}</li>"
            for u in reversed(m["updates"])
        )
        rows.append(
            f'<section class="maintenance {e(m["status"] or "")}">\n'
            f"<h2>{e(m['name'])}</h2>\n"
            f"<p>{e(m['id'])} &middot; <strong>{e(m['status'] or '')}</strong> &middot; "
            f"{e(m['scheduled_for'] or '')} &ndash; {e(m['scheduled_until'] or '')} (UTC)</p>\n"
            f'<ul class="components">{comps}</ul>\n<ol class="updates">{ups}</ol>\n</section>'
        )
    body = "\n".join(rows) or "<p>No maintenance scheduled.</p>"
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head><meta charset="utf-8">'
        "<title>Scheduled maintenance</title></head>\n<body>\n<h1>Scheduled maintenance</h1>\n"
        f"{body}\n</body>\n</html>\n"
    )


def render_ics(data: dict[str, Any]) -> str:
    try:
        from icalendar import Calendar, Event
    except ImportError as exc:
        raise MaintenanceError("the icalendar package is required on the controller") from exc
    cal = Calendar()
    cal.add("prodid", "-//maintbook//status page//EN")
    cal.add("version", "2.0")
    for m in data["maintenances"]:
        if not (m.get("scheduled_for") and m.get("scheduled_until")):
            continue
        event = Event()
        event.add("uid", f"{m['id']}@maintbook")
        event.add(
            "dtstamp", parse_time(m["updates"][-1]["at"]) if m["updates"] else datetime.now(UTC)
        )
        event.add("dtstart", parse_time(m["scheduled_for"]))
        event.add("dtend", parse_time(m["scheduled_until"]))
        event.add("summary", m["name"])
        event.add("description", m["updates"][-1]["body"] if m["updates"] else "")
        event.add("status", "CANCELLED" if m["status"] == "cancelled" else "CONFIRMED")
        event.add("sequence", max(len(m["updates"]) - 1, 0))
        cal.add_component(event)
    return cal.to_ical().decode("utf-8")


def parse_time(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise MaintenanceError(f"not an RFC 3339 time: {text!r}") from exc
    if moment.tzinfo is None:
        raise MaintenanceError(f"time without an offset: {text!r}")
    return moment.astimezone(UTC)


def run_file(p: dict[str, Any], check_mode: bool) -> tuple[bool, dict[str, Any]]:
    path = p["path"]
    for key in ("scheduled_for", "scheduled_until"):
        if p[key]:
            parse_time(p[key])
    if not check_mode:
        os.makedirs(path, exist_ok=True)
    lock = open(os.path.join(path, ".lock"), "a") if not check_mode else None  # noqa: SIM115
    try:
        if lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
        data = read_status(path)
        found = [m for m in data["maintenances"] if m.get("id") == p["runbook_id"]]
        record = found[0] if found else None
        new = transition(record, p, utc_now())
        changed = new != record
        if changed and not check_mode:
            others = [m for m in data["maintenances"] if m.get("id") != p["runbook_id"]]
            data["maintenances"] = sorted(
                [*others, new], key=lambda m: m.get("scheduled_for") or ""
            )
            write_atomic(path, "status.json", json.dumps(data, indent=2, sort_keys=True) + "\n")
            write_atomic(path, "index.html", render_html(data))
            write_atomic(path, "maintenance.ics", render_ics(data))
        return changed, new
    finally:
        if lock:
            lock.close()


# ---------------------------------------------------------------- statuspage provider

Fetch = Callable[..., tuple[Any, dict[str, Any]]]
RETRY_STATUSES = (-1, 420, 429)
MAX_PAGES = 50


class StatuspageApi:
    """Atlassian Statuspage API v1 through an injectable fetch_url, with bounded backoff."""

    def __init__(self, module: AnsibleModule, fetch: Fetch, sleep: Callable[[float], None]) -> None:
        p = module.params
        self.module, self.fetch, self.sleep = module, fetch, sleep
        self.base = p["base_url"].rstrip("/")
        self.page = f"/pages/{quote(p['page_id'], safe='')}"
        self.key = p["api_key"]
        self.retries, self.delay = max(p["retries"], 0), max(p["retry_delay"], 0.0)

    def call(self, method: str, path: str, body: Any = None, query: str = "") -> Any:
        data = json.dumps(body) if body is not None else None
        headers = {
            "Authorization": f"OAuth {self.key}",
            "Content-Type": "application/json",
            "Accept": "application/json",
        }
        status, detail = -1, ""
        for attempt in range(self.retries + 1):
            resp, info = self.fetch(
                self.module,
                self.base + path + query,
                data=data,
                method=method,
                headers=headers,
                timeout=30,
            )
            status = info.get("status", -1)
            if 200 <= status < 300:
                text = resp.read() if resp else b""
                return json.loads(text) if text.strip() else None
            detail = self._detail(info)
            if not (status in RETRY_STATUSES or status >= 500) or attempt == self.retries:
                break
            self.sleep(self._backoff(attempt, info))
        raise MaintenanceError(f"Statuspage {method} {path} answered {status}{detail}")

    def _backoff(self, attempt: int, info: dict[str, Any]) -> float:
        retry_after = str(info.get("retry-after") or "")
        if retry_after.isdigit():
            return min(float(retry_after), 60.0)
        return float(self.delay * 2**attempt)

    def _detail(self, info: dict[str, Any]) -> str:
        text = info.get("body") or info.get("msg") or ""
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        text = str(text).replace(self.key, "********")[:300]
        return f": {text}" if text else ""

    def paged(self, path: str, size_param: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        for number in range(1, MAX_PAGES + 1):
            batch = self.call("GET", path, query=f"?{size_param}=100&page={number}") or []
            items.extend(batch)
            if len(batch) < 100:
                break
        return items


def sp_state(incident: dict[str, Any]) -> str:
    meta = (incident.get("metadata") or {}).get("maintbook") or {}
    return str(meta.get("state") or incident.get("status"))


def sp_record(p: dict[str, Any], incident: dict[str, Any]) -> dict[str, Any]:
    newest_first = incident.get("incident_updates") or []
    updates = sorted(reversed(newest_first), key=lambda u: u.get("created_at") or "")
    return {
        "id": p["runbook_id"],
        "incident_id": incident.get("id"),
        "name": incident.get("name"),
        "status": sp_state(incident),
        "scheduled_for": incident.get("scheduled_for"),
        "scheduled_until": incident.get("scheduled_until"),
        "components": {c.get("name"): c.get("status") for c in incident.get("components") or []},
        "updates": [
            {"status": u.get("status"), "body": u.get("body"), "at": u.get("created_at")}
            for u in updates
        ],
    }


def sp_component_ids(api: StatuspageApi, names: list[str]) -> dict[str, str]:
    if not names:
        return {}
    known = api.paged(api.page + "/components", "per_page")
    by_name = {c.get("name"): c.get("id") for c in known}
    by_id = {c.get("id"): c.get("id") for c in known}
    missing = [n for n in names if n not in by_name and n not in by_id]
    if missing:
        raise MaintenanceError(f"components not on the Statuspage page: {', '.join(missing)}")
    return {n: str(by_name.get(n) or by_id[n]) for n in names}


def sp_payload(p: dict[str, Any], ids: dict[str, str], creating: bool) -> dict[str, Any]:
    state = p["state"]
    incident: dict[str, Any] = {
        "status": "completed" if state == "cancelled" else state,
        "body": p["body"] or DEFAULT_BODY[state],
        "metadata": {"maintbook": {"runbook_id": p["runbook_id"], "state": state}},
    }
    if ids:
        incident["components"] = {i: component_status(state) for i in ids.values()}
        incident["component_ids"] = list(ids.values())
    for key in ("name", "scheduled_for", "scheduled_until"):
        if p[key]:
            incident[key] = p[key]
    if creating:
        incident.setdefault("name", p["runbook_id"])
        incident.update(
            scheduled_auto_in_progress=False,
            scheduled_auto_completed=False,
            impact_override="maintenance",
        )
    return {"incident": incident}


def run_statuspage(
    module: AnsibleModule, p: dict[str, Any], fetch: Fetch, sleep: Callable[[float], None]
) -> tuple[bool, dict[str, Any]]:
    api = StatuspageApi(module, fetch, sleep)
    mine = [
        i
        for i in api.paged(api.page + "/incidents", "limit")
        if ((i.get("metadata") or {}).get("maintbook") or {}).get("runbook_id") == p["runbook_id"]
    ]
    current = mine[0] if mine else None
    if current is not None and sp_state(current) == p["state"]:
        return False, sp_record(p, current)
    if current is None and not (p["scheduled_for"] and p["scheduled_until"]):
        raise MaintenanceError(
            f"maintenance {p['runbook_id']} does not exist yet: "
            "scheduled_for and scheduled_until are required to create it"
        )
    if current is not None and sp_state(current) in FINAL and p["state"] != "scheduled":
        raise MaintenanceError(
            f"maintenance {p['runbook_id']} is already {sp_state(current)}; "
            f"cannot move to {p['state']}"
        )
    ids = sp_component_ids(api, p["components"])
    body = sp_payload(p, ids, creating=current is None)
    if module.check_mode:
        preview = dict(current or {}, **body["incident"])
        preview["components"] = [{"name": n, "status": component_status(p["state"])} for n in ids]
        return True, sp_record(p, preview)
    if current is None:
        return True, sp_record(p, api.call("POST", api.page + "/incidents", body))
    path = f"{api.page}/incidents/{quote(str(current['id']), safe='')}"
    return True, sp_record(p, api.call("PATCH", path, body))


def secret_from_env(module: AnsibleModule, name: str) -> str:
    """The API key from the variable named by api_key_env, wherever `maintbook run` put it."""
    try:
        from maintbook.secrets import lookup
    except ImportError:
        lookup = os.environ.get
    value = lookup(name)
    if not value:
        module.fail_json(msg=f"the environment variable {name} (api_key_env) is not set")
    module.no_log_values.add(value)
    return str(value)


def main(fetch: Fetch = fetch_url, sleep: Callable[[float], None] = time.sleep) -> None:
    module = AnsibleModule(
        argument_spec=ARGUMENT_SPEC,
        required_if=REQUIRED_IF,
        mutually_exclusive=MUTUALLY_EXCLUSIVE,
        supports_check_mode=True,
    )
    p = module.params
    if p["provider"] == "statuspage" and not p["api_key"]:
        p["api_key"] = secret_from_env(module, p["api_key_env"])
    try:
        if p["provider"] == "file":
            changed, record = run_file(p, module.check_mode)
        else:
            changed, record = run_statuspage(module, p, fetch, sleep)
    except (MaintenanceError, OSError) as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=changed, maintenance=record)


if __name__ == "__main__":
    main()
