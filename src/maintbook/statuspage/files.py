"""The `file` provider: `status.json`, the static site and `maintenance.ics` in one folder.

Every write happens under an exclusive lock on `<path>/.lock` and replaces each file
atomically (write, fsync, rename), so a reader never sees half a page and two runs never
lose each other's entries.
"""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from maintbook.statuspage.model import PageError
from maintbook.timeparse import parse_rfc3339

MAX_BYTES = 32 * 1024 * 1024


def read_status(folder: Path) -> dict[str, Any]:
    path = folder / "status.json"
    try:
        if path.stat().st_size > MAX_BYTES:
            raise PageError(f"{path} is larger than {MAX_BYTES} bytes")
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {"maintenances": []}
    except ValueError as exc:
        raise PageError(f"{path} is not valid JSON: {exc}") from exc
    if not isinstance(data.get("maintenances"), list):
        raise PageError(f"{path} has no list of maintenances")
    return data


def write_atomic(folder: Path, name: str, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, folder / name)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


@contextmanager
def locked(folder: Path) -> Iterator[None]:
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "a", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def render_ics(data: dict[str, Any]) -> str:
    from icalendar import Calendar, Event

    cal = Calendar()
    cal.add("prodid", "-//maintbook//status page//EN")
    cal.add("version", "2.0")
    for m in data["maintenances"]:
        if not (m.get("scheduled_for") and m.get("scheduled_until")):
            continue
        event = Event()
        event.add("uid", f"{m['id']}@maintbook")
        updates = m.get("updates") or []
        event.add("dtstamp", parse_rfc3339(updates[-1]["at"]) if updates else
                  parse_rfc3339(m["scheduled_for"]))
        event.add("dtstart", parse_rfc3339(m["scheduled_for"]))
        event.add("dtend", parse_rfc3339(m["scheduled_until"]))
        event.add("summary", m["name"])
        event.add("description", updates[-1]["body"] if updates else "")
        closed_off = m["status"] in ("cancelled", "missed")
        event.add("status", "CANCELLED" if closed_off else "CONFIRMED")
        event.add("sequence", max(len(updates) - 1, 0))
        cal.add_component(event)
    return str(cal.to_ical().decode("utf-8"))


SiteRenderer = Callable[[dict[str, Any], datetime], dict[str, str]]


def update(folder: Path, entry_id: str,
           change: Callable[[dict[str, Any] | None], dict[str, Any]],
           site: SiteRenderer, now: datetime, check: bool = False
           ) -> tuple[bool, dict[str, Any]]:
    """Apply `change` to the entry `entry_id` and rewrite the page; (changed, new entry)."""
    if check:
        data = read_status(folder)
        found = next((m for m in data["maintenances"] if m.get("id") == entry_id), None)
        new = change(found)
        return new != found, new
    with locked(folder):
        data = read_status(folder)
        found = next((m for m in data["maintenances"] if m.get("id") == entry_id), None)
        new = change(found)
        if new == found:
            return False, new
        others = [m for m in data["maintenances"] if m.get("id") != entry_id]
        data["maintenances"] = sorted([*others, new],
                                      key=lambda m: (m.get("scheduled_for") or "", m["id"]))
        write_atomic(folder, "status.json", json.dumps(data, indent=2, sort_keys=True) + "\n")
        for name, text in site(data, now).items():
            write_atomic(folder, name, text)
        write_atomic(folder, "maintenance.ics", render_ics(data))
        return True, new
