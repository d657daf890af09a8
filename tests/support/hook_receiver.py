"""A local JSON webhook receiver that verifies maintbook's HMAC signature, as a real one would.

- With a `secret`, a request whose `X-Maintbook-Signature` is not `sha256=<HMAC-SHA256 of the
  raw body>` is answered 401 and recorded as not verified.
- `statuses` scripts the first answers (e.g. `[503, 503]`: two failures, then success), so
  retries are seen on the wire.
- `echo=True` answers 500 with everything it received (the Authorization header, the path and
  query, every header, the body) in the body: the worst a misbehaving endpoint can do with the
  secrets it was sent; `pad` spaces come first, to move them to where an error is cut short.
- `reply` answers every request 200 with these bytes as text/html (a captive portal, a proxy's
  page where an API's JSON was expected).
- `port` serves on a given port (one picked earlier, e.g. a URL that refused connections
  until now).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Hook:
    secret: bytes | None
    statuses: list[int]
    echo: bool = False
    pad: int = 0
    reply: bytes | None = None
    requests: list[dict[str, Any]] = field(default_factory=list)

    def verify(self, body: bytes, signature: str | None) -> bool:
        if self.secret is None:
            return True
        expected = "sha256=" + hmac.new(self.secret, body, hashlib.sha256).hexdigest()
        return signature is not None and hmac.compare_digest(expected, signature)


def _handler(hook: Hook) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            return

        def do_POST(self) -> None:  # noqa: N802
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            verified = hook.verify(raw, self.headers.get("X-Maintbook-Signature"))
            hook.requests.append({"path": self.path, "headers": dict(self.headers), "raw": raw,
                                  "json": json.loads(raw) if raw.strip() else None,
                                  "verified": verified})
            if hook.echo:
                lines = [" " * hook.pad + str(self.headers.get("Authorization")), self.path,
                         json.dumps(dict(self.headers)), raw.decode("utf-8", "replace")]
                self._reply(500, "\n".join(lines).encode())
            elif hook.reply is not None:
                self._reply(200, hook.reply, "text/html")
            elif hook.statuses:
                self._reply(hook.statuses.pop(0), b'{"error": "try again"}')
            elif not verified:
                self._reply(401, b'{"error": "bad signature"}')
            else:
                self._reply(204, b"")

        def _reply(self, status: int, body: bytes, ctype: str = "application/json") -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


@contextmanager
def hook_receiver(secret: str | None = None, statuses: list[int] | None = None,
                  echo: bool = False, pad: int = 0, reply: bytes | None = None,
                  port: int = 0) -> Iterator[tuple[str, Hook]]:
    """Serve on loopback; yield (base_url, hook)."""
    hook = Hook(secret.encode() if secret else None, list(statuses or []), echo, pad, reply)
    server = ThreadingHTTPServer(("127.0.0.1", port), _handler(hook))
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", hook
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
