"""The one HTTP client of the lifecycle (notices, Statuspage, Alertmanager): urllib, bounded
answers, and a `Transport` type that tests replace with a local server's or a recorder."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

MAX_ANSWER = 1024 * 1024


class ConnectionFailed(Exception):
    """No answer at all (refused, timed out, DNS); the message names the reason only."""


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)


Transport = Callable[[str, str, bytes | None, Mapping[str, str], float], Answer]


def urllib_transport(method: str, url: str, body: bytes | None, headers: Mapping[str, str],
                     timeout: float) -> Answer:
    request = urllib.request.Request(url, data=body, headers=dict(headers), method=method)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310
            return Answer(int(answer.status), answer.read(MAX_ANSWER), dict(answer.headers))
    except urllib.error.HTTPError as exc:
        text = exc.read(4096) if exc.fp else b""
        return Answer(int(exc.code), text, dict(exc.headers or {}))
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ConnectionFailed(f"connection failed: {reason}") from None
