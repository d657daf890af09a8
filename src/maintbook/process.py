"""Is a process still there? A pid plus its start time, so that a reused pid does not count.

Leases (SPEC §10) name their holder by host name, pid and start time: on the same host the
process table decides; on another host only the heartbeat can.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
from pathlib import Path


def hostname() -> str:
    return socket.gethostname()


def _stat(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name, read once; None when the
    process is gone (it may end, and be reaped, at any moment)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after the last ')'.
    return stat.rpartition(")")[2].split()


def start_time(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (/proc/PID/stat field 22)."""
    fields = _stat(pid)
    return fields[19] if fields is not None and len(fields) > 19 else None


def alive(pid: int, started: str | None) -> bool:
    """Whether the process `pid` that started at `started` still runs on this host."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    fields = _stat(pid)  # one read: the process may end between two
    if fields is None or len(fields) <= 19:
        return False
    if fields[0] == "Z":  # a zombie has finished; only its parent has not reaped it
        return False
    return started is None or fields[19] == started


def children(pid: int) -> list[int]:
    """Every descendant of `pid`, found through /proc."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text(errors="replace")
        except OSError:
            continue
        fields = stat.rpartition(")")[2].split()
        if len(fields) > 1:
            parents.setdefault(int(fields[1]), []).append(int(entry.name))
    found: list[int] = []
    todo = [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def kill_tree(pid: int, sig: int = signal.SIGKILL, *, include_root: bool = True) -> None:
    """Signal `pid` and everything it started, found first so that nothing escapes by being
    reparented; a module's command may run in a session of its own, out of reach of killpg."""
    targets = children(pid)
    if include_root:
        targets.insert(0, pid)
    for target in targets:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(target, sig)
