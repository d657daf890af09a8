#!/usr/bin/python
"""Ansible module alertmanager_silence: one silence per runbook id (Alertmanager API v2)."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: alertmanager_silence
short_description: Create or expire the Alertmanager silence of a maintenance
description:
  - Creates a silence for the maintenance window through the Alertmanager API v2, or expires
    every active silence of the runbook.
  - The silence is found again by the tag C(maintbook:RUNBOOK_ID) in its comment, so a second
    call with the same matchers and end time changes nothing.
  - Runs on the controller.
version_added: "0.1.0"
author: maintbook developers
options:
  url:
    description: Alertmanager base URL, for example C(http://127.0.0.1:9093).
    type: str
    required: true
  runbook_id:
    description: Runbook id, written into the comment as C(maintbook:RUNBOOK_ID).
    type: str
    required: true
  matchers:
    description:
      - Matchers in PromQL style, for example C(service="postgres"), C(env=~"prod|staging"),
        C(a!="b"), C(a!~"x").
      - Required with O(state=present).
    type: list
    elements: str
    default: []
  starts_at:
    description: Start, RFC 3339. Defaults to now.
    type: str
  ends_at:
    description: End, RFC 3339. Required with O(state=present).
    type: str
  created_by:
    description: Author shown in Alertmanager.
    type: str
    default: maintbook
  comment:
    description: Free text; the runbook tag is prepended.
    type: str
    default: ""
  state:
    description: C(present) creates (or updates) the silence; C(absent) expires every active
      silence of the runbook.
    type: str
    choices: [present, absent]
    default: present
  timeout:
    description: HTTP timeout in seconds.
    type: int
    default: 10
notes:
  - Supports check mode.
"""

EXAMPLES = r"""
- name: Silence postgres alerts during the window
  alertmanager_silence:
    url: http://127.0.0.1:9093
    runbook_id: MNT-2026-0042
    matchers: ['service="postgres"', 'env=~"prod|staging"']
    starts_at: "2026-12-06T02:00:00Z"
    ends_at: "2026-12-06T04:00:00Z"
    comment: Monthly PostgreSQL maintenance
  delegate_to: localhost

- name: Expire the silence
  alertmanager_silence:
    url: http://127.0.0.1:9093
    runbook_id: MNT-2026-0042
    state: absent
  delegate_to: localhost
"""

RETURN = r"""
silence_ids:
  description: Ids of the silences created, kept or expired.
  returned: always
  type: list
  elements: str
  sample: [6b8c1ae4-58a5-4d2b-a0d8-8b8f1d5c3d11]
matchers:
  description: The matchers as sent to the API.
  returned: always
  type: list
  elements: dict
  sample: [{name: service, value: postgres, isRegex: false, isEqual: true}]
"""

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.urls import fetch_url

ARGUMENT_SPEC: dict[str, Any] = {
    "url": {"type": "str", "required": True},
    "runbook_id": {"type": "str", "required": True},
    "matchers": {"type": "list", "elements": "str", "default": []},
    "starts_at": {"type": "str"},
    "ends_at": {"type": "str"},
    "created_by": {"type": "str", "default": "maintbook"},
    "comment": {"type": "str", "default": ""},
    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
    "timeout": {"type": "int", "default": 10},
}
REQUIRED_IF = [("state", "present", ["matchers", "ends_at"])]
MATCHER = re.compile(
    r'^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*(?:"((?:[^"\\]|\\.)*)"|(\S*))\s*$'
)
OPERATORS = {"=": (False, True), "!=": (False, False), "=~": (True, True), "!~": (True, False)}
Fetch = Callable[..., tuple[Any, dict[str, Any]]]


class SilenceError(Exception):
    """An expected failure; the message names the endpoint and the status."""


def parse_matcher(text: str) -> dict[str, Any]:
    """``env=~"prod|staging"`` -> an API v2 matcher."""
    found = MATCHER.match(text)
    if not found:
        raise SilenceError(f'matcher {text!r} is not NAME OP "VALUE" with OP one of =, !=, =~, !~')
    name, op, quoted, bare = found.groups()
    value = re.sub(r"\\(.)", r"\1", quoted) if quoted is not None else bare
    is_regex, is_equal = OPERATORS[op]
    return {"name": name, "value": value, "isRegex": is_regex, "isEqual": is_equal}


def parse_time(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise SilenceError(f"not an RFC 3339 time: {text!r}") from exc
    if moment.tzinfo is None:
        raise SilenceError(f"time without an offset: {text!r}")
    return moment.astimezone(UTC)


def api_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def matcher_key(matchers: list[dict[str, Any]]) -> list[tuple[str, str, bool, bool]]:
    return sorted(
        (m["name"], m["value"], bool(m.get("isRegex")), bool(m.get("isEqual", True)))
        for m in matchers
    )


class Api:
    """The three Alertmanager v2 calls, through an injectable fetch_url."""

    def __init__(self, module: AnsibleModule, fetch: Fetch) -> None:
        self.module, self.fetch = module, fetch
        self.base = module.params["url"].rstrip("/")

    def call(self, method: str, path: str, body: Any = None) -> Any:
        data = json.dumps(body) if body is not None else None
        resp, info = self.fetch(
            self.module,
            self.base + path,
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
            timeout=self.module.params["timeout"],
        )
        status = info.get("status", -1)
        if not 200 <= status < 300:
            detail = info.get("body") or info.get("msg") or ""
            if isinstance(detail, bytes):
                detail = detail.decode("utf-8", "replace")
            raise SilenceError(
                f"Alertmanager {method} {path} answered {status}: {str(detail)[:300]}"
            )
        text = resp.read() if resp else b""
        return json.loads(text) if text.strip() else None

    def tagged(self, tag: str) -> list[dict[str, Any]]:
        silences = self.call("GET", "/api/v2/silences") or []
        return [
            s
            for s in silences
            if s.get("status", {}).get("state") in ("active", "pending")
            and tag in (s.get("comment") or "").split()
        ]


def present(
    api: Api, p: dict[str, Any], check: bool
) -> tuple[bool, list[str], list[dict[str, Any]]]:
    tag = f"maintbook:{p['runbook_id']}"
    matchers = [parse_matcher(m) for m in p["matchers"]]
    ends = parse_time(p["ends_at"])
    starts = parse_time(p["starts_at"]) if p["starts_at"] else datetime.now(UTC)
    if ends <= starts:
        raise SilenceError(f"ends_at {p['ends_at']} is not after starts_at {api_time(starts)}")
    mine = api.tagged(tag)
    for s in mine:
        same_end = abs((parse_time(s["endsAt"]) - ends).total_seconds()) < 1
        if matcher_key(s["matchers"]) == matcher_key(matchers) and same_end:
            return False, [s["id"]], matchers
    body: dict[str, Any] = {
        "matchers": matchers,
        "startsAt": api_time(starts),
        "endsAt": api_time(ends),
        "createdBy": p["created_by"],
        "comment": f"{tag} {p['comment']}".strip(),
    }
    if mine:
        body["id"] = mine[0]["id"]  # update in place: one silence per runbook
    if check:
        return True, [s["id"] for s in mine[:1]], matchers
    created = api.call("POST", "/api/v2/silences", body) or {}
    return True, [created.get("silenceID") or body.get("id", "")], matchers


def absent(
    api: Api, p: dict[str, Any], check: bool
) -> tuple[bool, list[str], list[dict[str, Any]]]:
    ids = [s["id"] for s in api.tagged(f"maintbook:{p['runbook_id']}")]
    if not check:
        for silence_id in ids:
            api.call("DELETE", f"/api/v2/silence/{silence_id}")
    return bool(ids), ids, []


def main(fetch: Fetch = fetch_url) -> None:
    module = AnsibleModule(
        argument_spec=ARGUMENT_SPEC, required_if=REQUIRED_IF, supports_check_mode=True
    )
    action = present if module.params["state"] == "present" else absent
    try:
        changed, ids, matchers = action(Api(module, fetch), module.params, module.check_mode)
    except SilenceError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=changed, silence_ids=ids, matchers=matchers)


if __name__ == "__main__":
    main()
