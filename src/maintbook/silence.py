"""Alertmanager silences (API v2) for a maintenance's window (SPEC §6, §12).

One silence per maintenance, found again by the tag `maintbook:<maintenance id>` in its
comment, so the same call twice changes nothing and an extension updates it in place. The
silence covers [window start − 15 minutes, window end + 15 minutes] and is expired at close.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from maintbook.http import ConnectionFailed, Transport, urllib_transport

MARGIN = timedelta(minutes=15)
MATCHER = re.compile(
    r'^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*(?:"((?:[^"\\]|\\.)*)"|(\S*))\s*$'
)
OPERATORS = {"=": (False, True), "!=": (False, False), "=~": (True, True), "!~": (True, False)}


class SilenceError(Exception):
    """A failed call; the message names the endpoint and the status."""


def parse_matcher(text: str) -> dict[str, Any]:
    """`env=~"prod|staging"` → an API v2 matcher."""
    found = MATCHER.match(text)
    if not found:
        raise SilenceError(f'matcher {text!r} is not NAME OP "VALUE" with OP one of =, !=, =~, !~')
    name, op, quoted, bare = found.groups()
    value = re.sub(r"\\(.)", r"\1", quoted) if quoted is not None else bare
    is_regex, is_equal = OPERATORS[op]
    return {"name": name, "value": value, "isRegex": is_regex, "isEqual": is_equal}


def api_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def parse_api_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def _key(matchers: list[dict[str, Any]]) -> list[tuple[str, str, bool, bool]]:
    return sorted((m["name"], m["value"], bool(m.get("isRegex")), bool(m.get("isEqual", True)))
                  for m in matchers)


def covered(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """The span a window's silence covers: 15 minutes either side."""
    return start - MARGIN, end + MARGIN


@dataclass
class Alertmanager:
    url: str
    transport: Transport = urllib_transport
    timeout: float = 10

    def call(self, method: str, path: str, body: Any = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        try:
            answer = self.transport(method, self.url.rstrip("/") + path, data,
                                    {"Content-Type": "application/json"}, self.timeout)
        except ConnectionFailed as exc:
            raise SilenceError(f"Alertmanager {method} {path}: {exc}") from None
        if not 200 <= answer.status < 300:
            detail = answer.body.decode("utf-8", "replace")[:300]
            raise SilenceError(f"Alertmanager {method} {path} answered {answer.status}: {detail}")
        return json.loads(answer.body) if answer.body.strip() else None

    def tagged(self, tag: str) -> list[dict[str, Any]]:
        silences = self.call("GET", "/api/v2/silences") or []
        return [s for s in silences
                if s.get("status", {}).get("state") in ("active", "pending")
                and tag in (s.get("comment") or "").split()]


def tag_of(maintenance: str) -> str:
    return f"maintbook:{maintenance}"


def present(api: Alertmanager, maintenance: str, matcher_texts: tuple[str, ...],
            start: datetime, end: datetime, comment: str, *, check: bool = False
            ) -> tuple[bool, list[str]]:
    """Create the silence, or move the existing one to [start, end); (changed, ids)."""
    tag = tag_of(maintenance)
    matchers = [parse_matcher(m) for m in matcher_texts]
    if end <= start:
        raise SilenceError(f"the silence would end ({api_time(end)}) before it starts")
    mine = api.tagged(tag)
    for silence in mine:
        same_end = abs((parse_api_time(silence["endsAt"]) - end).total_seconds()) < 1
        if _key(silence["matchers"]) == _key(matchers) and same_end:
            return False, [silence["id"]]
    body: dict[str, Any] = {
        "matchers": matchers,
        "startsAt": api_time(start),
        "endsAt": api_time(end),
        "createdBy": "maintbook",
        "comment": f"{tag} {comment}".strip(),
    }
    if mine:
        body["id"] = mine[0]["id"]  # one silence per maintenance: update it in place
        if mine[0].get("status", {}).get("state") == "active":
            # Alertmanager updates an active silence in place only if its start is unchanged
            # (it set the start to the moment of creation); otherwise it expires it and makes
            # a new one.
            body["startsAt"] = mine[0]["startsAt"]
    if check:
        return True, [s["id"] for s in mine[:1]]
    created = api.call("POST", "/api/v2/silences", body) or {}
    return True, [created.get("silenceID") or body.get("id", "")]


def absent(api: Alertmanager, maintenance: str, *, check: bool = False
           ) -> tuple[bool, list[str]]:
    """Expire every active silence of the maintenance; (changed, ids)."""
    ids = [s["id"] for s in api.tagged(tag_of(maintenance))]
    if not check:
        for silence_id in ids:
            api.call("DELETE", f"/api/v2/silence/{silence_id}")
    return bool(ids), ids
