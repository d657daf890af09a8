"""Secrets named by `*_env`: from the environment, or from the running `maintbook run`.

ansible-runner writes the Ansible process environment into its artifacts, so `maintbook run`
takes every secret the configuration names out of that environment. The lifecycle plugins,
which run in the Ansible process, ask for them over a Unix socket that the run serves from
memory (`SecretServer`): it answers only processes that descend from the run, and only while
the run lives. No secret is ever written to a file, so none can be stranded by a crash.
Outside `maintbook run` (plain ansible-playbook, AWX), the plugins read the environment.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import struct
import tempfile
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

SOCKET_ENV = "MAINTBOOK_SECRETS_SOCKET"
_MAX_REQUEST = 4096


def lookup(name: str | None) -> str | None:
    """The secret held by environment variable `name`, wherever the run keeps it."""
    if not name:
        return None
    value = os.environ.get(name)
    if value:
        return value
    path = os.environ.get(SOCKET_ENV)
    return _ask(path, name) if path else None


def _ask(path: str, name: str) -> str | None:
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
            client.settimeout(5)
            client.connect(path)
            client.sendall(name.encode()[:_MAX_REQUEST] + b"\n")
            answer = b""
            while chunk := client.recv(65536):
                answer += chunk
    except OSError:
        return None
    value = json.loads(answer or b"null")
    return str(value) if value else None


def env_names(config_data: Any) -> Iterator[str]:
    """Every value of a key ending in `_env`, anywhere in the configuration."""
    if isinstance(config_data, Mapping):
        for key, value in config_data.items():
            if isinstance(key, str) and key.endswith("_env") and isinstance(value, str):
                yield value
            else:
                yield from env_names(value)
    elif isinstance(config_data, list):
        for item in config_data:
            yield from env_names(item)


def _ancestors(pid: int) -> Iterator[int]:
    for _ in range(64):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text(errors="replace")
        except OSError:
            return
        pid = int(stat.rpartition(")")[2].split()[1])
        if pid <= 1:
            return
        yield pid


class SecretServer:
    """Serves `values` to processes descended from this one, from memory, until closed."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self.values = dict(values)
        self.folder = tempfile.mkdtemp(prefix=f"maintbook-run-{os.getpid()}-")
        os.chmod(self.folder, 0o700)
        self.path = os.path.join(self.folder, "secrets.sock")
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(self.path)
        os.chmod(self.path, 0o600)
        self.server.listen(16)
        self.thread = threading.Thread(target=self._serve, daemon=True, name="secrets")
        self.thread.start()

    def _allowed(self, connection: socket.socket) -> bool:
        creds = connection.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED,
                                      struct.calcsize("3i"))
        pid, uid, _ = struct.unpack("3i", creds)
        return uid == os.getuid() and os.getpid() in _ancestors(pid)

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.server.accept()
            except OSError:
                return
            with connection:
                try:
                    name = connection.recv(_MAX_REQUEST).decode(errors="replace").strip()
                    value = self.values.get(name) if self._allowed(connection) else None
                    connection.sendall(json.dumps(value).encode())
                except OSError:
                    continue

    def close(self) -> None:
        self.values.clear()
        self.server.close()
        with contextlib.suppress(OSError):
            os.unlink(self.path)
        with contextlib.suppress(OSError):
            os.rmdir(self.folder)

    def __enter__(self) -> SecretServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def stale_folders(temp: str | None = None) -> list[Path]:
    """Socket folders of runs that died without closing them (recover removes them)."""
    root = Path(temp or tempfile.gettempdir())
    return [p for p in root.glob("maintbook-run-*") if p.is_dir()]
