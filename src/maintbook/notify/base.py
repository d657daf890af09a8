"""A notice channel: one class per kind, registered by `@channel`, found by `channel_for`.

A channel gets the rendered notice and sends it once; it raises `DeliveryError` for a failure
worth retrying and `ChannelConfigError` for one that is not. Messages name the endpoint and the
status, never a secret: a channel reads its secrets through `self.secret(option)`, which
remembers the values so every message is scrubbed of them.

Adding a channel kind is one module in `maintbook/notify/channels/` with a class decorated
`@channel("kind")`, and one test against a local server.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import urlsplit

from maintbook.http import ConnectionFailed, Transport, urllib_transport
from maintbook.notify.render import Rendered
from maintbook.secrets import lookup


class DeliveryError(Exception):
    """One failed attempt; the message names the endpoint and status and holds no secret."""


class ChannelConfigError(Exception):
    """The channel cannot work as configured (a missing secret, a missing option)."""


@dataclass(frozen=True)
class Envelope:
    """Who and what a notice is about, besides its text (for payloads and headers)."""

    maintenance: str
    runbook: str
    title: str
    run_id: str | None
    sent_at: str
    thread: str | None = None  # the Slack thread of this maintenance on this channel


@dataclass
class Channel:
    """Base of every channel kind."""

    kind: ClassVar[str] = ""
    name: str
    options: dict[str, Any]
    transport: Transport = urllib_transport
    secrets: list[str] = field(default_factory=list)

    def send(self, notice: Rendered, envelope: Envelope) -> str | None:
        """Deliver once; return a thread id to keep (Slack), else None."""
        raise NotImplementedError

    def secret(self, option: str, source: dict[str, Any] | None = None) -> str:
        """The value of the environment variable named by `option`."""
        name = (self.options if source is None else source).get(option)
        value = lookup(str(name)) if name else None
        if not value:
            raise ChannelConfigError(
                f"channel {self.name}: environment variable {name} ({option}) is not set"
            )
        self.secrets.append(value)
        self.secrets.extend(_url_parts(value))
        return value

    def scrub(self, text: str) -> str:
        for value in sorted(self.secrets, key=len, reverse=True):
            text = text.replace(value, "********")
        return text

    def post_json(self, url: str, endpoint: str, payload: Any,
                  headers: dict[str, str] | None = None) -> bytes:
        """POST JSON; DeliveryError naming `endpoint` unless the answer is 2xx."""
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        all_headers = {"Content-Type": "application/json; charset=utf-8", **(headers or {})}
        timeout = float(self.options.get("timeout") or 15)
        try:
            answer = self.transport("POST", url, body, all_headers, timeout)
        except ConnectionFailed as exc:
            raise DeliveryError(f"{endpoint}: {exc}") from None
        if not 200 <= answer.status < 300:
            # scrubbed before it is cut short, so that no part of a secret survives the cut
            detail = self.scrub(answer.body.decode("utf-8", "replace"))[:200]
            raise DeliveryError(f"{endpoint} answered {answer.status}: {detail}")
        return answer.body


def _url_parts(value: str) -> list[str]:
    """The secret parts of a secret URL that an endpoint may echo on their own: its path and
    query (a Slack webhook's path is its credential). Short, generic parts are left alone."""
    parts = urlsplit(value)
    if not (parts.scheme and parts.netloc):
        return []
    found = [parts.path + ("?" + parts.query if parts.query else ""), parts.path, parts.query]
    return [part for part in found if len(part) >= 8]


REGISTRY: dict[str, type[Channel]] = {}


def channel(kind: str) -> Callable[[type[Channel]], type[Channel]]:
    def register(cls: type[Channel]) -> type[Channel]:
        cls.kind = kind
        REGISTRY[kind] = cls
        return cls

    return register
