"""A local stand-in for Slack (and any JSON webhook) that records what it was sent.

- ``POST /services/...``: an incoming webhook; answers ``ok`` as Slack does.
- ``POST /api/chat.postMessage``: the Web API; checks the bearer token and answers
  ``{"ok": true, "ts": ...}`` with a fresh ``ts`` per message.
- ``POST /hook/...``: a plain JSON webhook; answers 204.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    token: str
    requests: list[dict[str, Any]] = field(default_factory=list)
    next_ts: int = 1_700_000_000

    def posted(self, prefix: str) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["path"].startswith(prefix)]


def make_handler(box: Received) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            return

        def do_POST(self) -> None:  # noqa: N802
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            entry = {
                "path": self.path,
                "headers": dict(self.headers),
                "raw": raw,
                "json": json.loads(raw) if raw.strip() else None,
            }
            box.requests.append(entry)
            if self.path.startswith("/api/chat.postMessage"):
                self._chat(entry)
            elif self.path.startswith("/services/"):
                self._reply(200, b"ok", "text/html")
            else:
                self._reply(204, b"", "text/plain")

        def _chat(self, entry: dict[str, Any]) -> None:
            if self.headers.get("Authorization") != f"Bearer {box.token}":
                self._reply(200, json.dumps({"ok": False, "error": "invalid_auth"}).encode())
                return
            box.next_ts += 1
            ts = f"{box.next_ts}.000100"
            entry["ts"] = ts
            body = {
                "ok": True,
                "channel": entry["json"]["channel"],
                "ts": ts,
                "message": {"text": entry["json"]["text"], "ts": ts},
            }
            self._reply(200, json.dumps(body).encode())

        def _reply(self, status: int, body: bytes, ctype: str = "application/json") -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


@contextmanager
def slack_receiver(
    token: str = "xoxb-test-token", host: str = "127.0.0.1"
) -> Iterator[tuple[str, Received]]:
    """Serve on a free port of `host` (loopback by default); yield (base_url, received)."""
    box = Received(token)
    server = ThreadingHTTPServer((host, 0), make_handler(box))
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_address[1]}", box
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
