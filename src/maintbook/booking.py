"""The repository's bookings, seen by every command that judges time: the booked runbooks of
runbooks/, the events of external calendars, and inventory host resolution (through
`ansible-inventory --list`, a subprocess: ansible is never imported here); and the policy
problems of runbooks judged against them (what `check` and `validate` report)."""

from __future__ import annotations

import fnmatch
import json
import shutil
import subprocess
import sys
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from maintbook.calendar import CalendarEvent
from maintbook.calendars_io import calendar_events
from maintbook.config import Config
from maintbook.diagnostics import Diagnostic
from maintbook.errors import UsageError
from maintbook.loader import Document
from maintbook.model import Runbook
from maintbook.overlap import HostsOf
from maintbook.policy_check import HORIZON, policy_diagnostics
from maintbook.project import Loaded, load_runbooks
from maintbook.shared import booked_elsewhere
from maintbook.timeparse import utc_now

EVENT_MARGIN = timedelta(days=1)


def booked_runbooks(config: Config, exclude: Sequence[Path] = ()) -> list[Runbook]:
    """The valid runbooks under the repository's runbooks/ folder, except `exclude`."""
    folder = config.root / "runbooks"
    if not folder.is_dir():
        return []
    if folder.resolve().is_relative_to(Path.cwd().resolve()):  # shorter names in messages
        folder = folder.resolve().relative_to(Path.cwd().resolve())
    skip = frozenset(path.resolve() for path in exclude)
    return [
        item.runbook
        for item in load_runbooks([folder], config, skip=skip)
        if item.runbook is not None
    ]


def events_between(config: Config, start: datetime, end: datetime) -> list[CalendarEvent]:
    """Events of the configured external calendars overlapping [start, end)."""
    if not config.calendars:
        return []
    return calendar_events(
        config.calendars, start - EVENT_MARGIN, end + EVENT_MARGIN, root=config.root
    )


def _ansible_inventory() -> str:
    beside = Path(sys.executable).parent / "ansible-inventory"
    found = str(beside) if beside.exists() else shutil.which("ansible-inventory")
    if found is None:
        raise UsageError("--inventory needs ansible-inventory (pip install ansible-core)")
    return found


def read_inventory(inventory: Path) -> dict[str, Any]:
    """`ansible-inventory -i INVENTORY --list` as data."""
    try:
        done = subprocess.run(
            [_ansible_inventory(), "-i", str(inventory), "--list"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise UsageError(f"{inventory}: ansible-inventory failed: {exc}") from exc
    if done.returncode != 0:
        detail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise UsageError(f"{inventory}: ansible-inventory failed: {detail}")
    try:
        data: dict[str, Any] = json.loads(done.stdout)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{inventory}: ansible-inventory printed no JSON") from exc
    return data


def group_members(data: dict[str, Any]) -> dict[str, frozenset[str]]:
    """Every group's hosts, children included, from `ansible-inventory --list` output."""
    members: dict[str, frozenset[str]] = {}

    def hosts(group: str, seen: frozenset[str]) -> frozenset[str]:
        if group in members:
            return members[group]
        entry = data.get(group, {}) if isinstance(data.get(group), dict) else {}
        found = set(entry.get("hosts", []))
        for child in entry.get("children", []):
            if child not in seen:
                found |= hosts(child, seen | {child})
        members[group] = frozenset(found)
        return members[group]

    for group in data:
        if group != "_meta":
            hosts(group, frozenset({group}))
    every = set(data.get("_meta", {}).get("hostvars", {})) | {
        h for m in members.values() for h in m
    }
    members["all"] = frozenset(every)
    return members


def pattern_resolver(members: dict[str, frozenset[str]]) -> HostsOf:
    """An Ansible host pattern (`a:b`, `a,b`, `a:&b`, `a:!b`, wildcards) → host names."""
    every = members.get("all", frozenset())

    def term(text: str) -> frozenset[str]:
        if text in members:
            return members[text]
        if text in every:
            return frozenset({text})
        groups = [members[g] for g in members if fnmatch.fnmatchcase(g, text)]
        return frozenset(h for h in every if fnmatch.fnmatchcase(h, text)).union(*groups)

    def resolve(pattern: str) -> frozenset[str]:
        result: frozenset[str] = frozenset()
        for raw in pattern.replace(",", ":").split(":"):
            part = raw.strip()
            if part.startswith("!"):
                result -= term(part[1:])
            elif part.startswith("&"):
                result &= term(part[1:])
            elif part:
                result |= term(part)
        return result or frozenset({pattern})

    return resolve


def hosts_resolver(inventory: Path | None) -> HostsOf | None:
    """Host resolution through the inventory, or None (patterns compared as strings)."""
    if inventory is None:
        return None
    return pattern_resolver(group_members(read_inventory(inventory)))


PERIOD_REACH = timedelta(days=32)  # a monthly series' last occurrence may move this far


def _span(
    runbooks: Sequence[Runbook], now: datetime, horizon: timedelta
) -> tuple[datetime, datetime]:
    """What the checked windows can touch: one-off windows, and the horizon of the series
    (with the period of its last occurrence)."""
    longest = max(rb.duration for rb in runbooks)
    spans = [(rb.start, rb.end) for rb in runbooks if not rb.is_series]
    if any(rb.is_series for rb in runbooks):
        spans.append((now, now + horizon + PERIOD_REACH + longest))
    return min(low for low, _ in spans), max(high for _, high in spans)


def _pairs(loaded: Sequence[Loaded]) -> list[tuple[Document, Runbook]]:
    return [
        (item.document, item.runbook)
        for item in loaded
        if item.document is not None and item.runbook is not None
    ]


def policy_problems(
    loaded: Sequence[Loaded],
    config: Config,
    now: datetime | None,
    inventory: Path | None,
    horizon: timedelta = HORIZON,
) -> list[Diagnostic]:
    """Policy and calendar conflicts of every runbook that loaded cleanly."""
    pairs = _pairs(loaded)
    if not pairs:
        return []
    moment = now or utc_now()
    others = booked_runbooks(config, [item.path for item in loaded])
    others += booked_elsewhere(config, moment)
    events = events_between(config, *_span([rb for _, rb in pairs], moment, horizon))
    try:
        return policy_diagnostics(
            pairs,
            config.policy,
            moment,
            events,
            hosts_resolver(inventory),
            others=others,
            horizon=horizon,
        )
    except ValueError as exc:
        raise UsageError(f"policy: {exc}") from exc
