"""Load-time checks of maintbook.yml that the schema cannot express.

Every value that a later stage would parse (durations, zones, RRULEs, clock times, date
ranges, holiday countries, window names, calendar files) is checked here, when the file is
loaded, so that a mistake is a diagnostic with its line (exit 2) and never an exception or
an expansion that does not end. Each check yields findings; values of the wrong type are
left to the schema.
"""

from __future__ import annotations

import re
import stat
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

from maintbook.loader import Document, Finding, PathKey
from maintbook.schema import dotted
from maintbook.store.db import masked_url, url_password
from maintbook.suggest import did_you_mean
from maintbook.timeparse import parse_duration, parse_rfc3339
from maintbook.timerules import clock_problem, holidays_problem, rrule_problem, zone_problem

ConfigCheck = Callable[[Document, dict[str, Any]], Iterator[Finding]]
CONFIG_CHECKS: list[ConfigCheck] = []
_MMDD = re.compile(r"([0-9]{2})-([0-9]{2})")


def config_check(fn: ConfigCheck) -> ConfigCheck:
    CONFIG_CHECKS.append(fn)
    return fn


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _items(value: Any) -> list[tuple[int, dict[str, Any]]]:
    return (
        [(i, v) for i, v in enumerate(value) if isinstance(v, dict)]
        if isinstance(value, list)
        else []
    )


def _policy(doc: Document) -> dict[str, Any]:
    return _mapping(_mapping(doc.data).get("policy"))


def _durations(doc: Document) -> Iterator[tuple[PathKey, Any]]:
    policy = _policy(doc)
    for name, rule in _mapping(policy.get("types")).items():
        for key in ("max_duration", "notice"):
            if _mapping(rule).get(key) is not None:
                yield ("policy", "types", name, key), rule[key]
    for name, window in _mapping(policy.get("windows")).items():
        if "duration" in _mapping(window):
            yield ("policy", "windows", name, "duration"), window["duration"]
    for i, blackout in _items(policy.get("blackouts")):
        if "duration" in blackout:
            yield ("policy", "blackouts", i, "duration"), blackout["duration"]
    for name, offsets in _mapping(policy.get("notices")).items():
        for i, offset in enumerate(offsets if isinstance(offsets, list) else []):
            if isinstance(offset, str) and offset.startswith("-"):
                yield ("policy", "notices", name, i), offset[1:]


@config_check
def durations(doc: Document, merged: dict[str, Any]) -> Iterator[Finding]:
    """config-duration. pass: `notice: 7d`; fail: `notice: 99999999999d`, `duration: 0`."""
    for path, value in _durations(doc):
        if not isinstance(value, str | int) or isinstance(value, bool):
            continue
        try:
            delta = parse_duration(value)
        except ValueError as exc:
            yield doc.find(path, "config-duration", f"{dotted(path)} {exc}")
            continue
        if path[-1] == "duration" and delta.total_seconds() <= 0:
            yield doc.find(path, "config-duration", f"{dotted(path)} must be longer than 0")


def _zones(doc: Document) -> Iterator[tuple[PathKey, Any]]:
    policy = _policy(doc)
    for name, window in _mapping(policy.get("windows")).items():
        if "tz" in _mapping(window):
            yield ("policy", "windows", name, "tz"), window["tz"]
    for i, blackout in _items(policy.get("blackouts")):
        if "tz" in blackout:
            yield ("policy", "blackouts", i, "tz"), blackout["tz"]
    zones = _mapping(_mapping(doc.data).get("statuspage")).get("zones")
    for i, zone in enumerate(zones if isinstance(zones, list) else []):
        yield ("statuspage", "zones", i), zone


@config_check
def zones(doc: Document, merged: dict[str, Any]) -> Iterator[Finding]:
    """config-tz. pass: `tz: Europe/Berlin`; fail: `tz: Europe/Berln`."""
    for path, zone in _zones(doc):
        problem = zone_problem(zone)
        if problem is not None:
            yield doc.find(path, "config-tz", f"{dotted(path)}: {problem}")


@config_check
def rules(doc: Document, merged: dict[str, Any]) -> Iterator[Finding]:
    """config-rrule. pass: `rrule: FREQ=WEEKLY;BYDAY=SU`; fail: `rrule: FREQ=MINUTELY`."""
    policy = _policy(doc)
    places: list[tuple[PathKey, Any]] = [
        (("policy", "windows", n), w) for n, w in _mapping(policy.get("windows")).items()
    ]
    places += [(("policy", "blackouts", i), b) for i, b in _items(policy.get("blackouts"))]
    for base, entry in places:
        problem = rrule_problem(_mapping(entry).get("rrule"), slowest="DAILY")
        if problem is not None:
            path = (*base, "rrule")
            yield doc.find(path, "config-rrule", f"{dotted(path)}: {problem}")


@config_check
def blackout_starts(doc: Document, merged: dict[str, Any]) -> Iterator[Finding]:
    """config-start. pass: `start: "00:00"`; fail: `start: "24:00"`."""
    for i, blackout in _items(_policy(doc).get("blackouts")):
        if isinstance(blackout.get("start"), str):
            problem = clock_problem(blackout["start"])
            if problem is not None:
                path = ("policy", "blackouts", i, "start")
                yield doc.find(path, "config-start", f"{dotted(path)} {problem}")


def _month_day(text: str) -> str | None:
    """None for a valid MM-DD (02-29 counts), else why not."""
    match = _MMDD.fullmatch(text)
    if match is None:
        return "is neither MM-DD (every year) nor an RFC 3339 timestamp"
    try:
        date(2000, int(match.group(1)), int(match.group(2)))  # 2000: a leap year
    except ValueError as exc:
        return f"is not a day of the year ({exc})"
    return None


def _range_problem(first: str, last: str) -> tuple[str, str] | None:
    """(which end, what is wrong) for a blackout's `from`/`to`, or None."""
    if _MMDD.fullmatch(first) or _MMDD.fullmatch(last) or not first[:4].isdigit():
        for key, text in (("from", first), ("to", last)):
            problem = _month_day(text)
            if problem is not None:
                return key, f"{text!r} {problem}"
        return None
    times = []
    for key, text in (("from", first), ("to", last)):
        try:
            times.append(parse_rfc3339(text))
        except ValueError as exc:
            return key, f"{exc}; both ends are MM-DD or both RFC 3339 timestamps"
    if times[1] <= times[0]:
        return "to", f"{last!r} is not after from ({first!r})"
    return None


@config_check
def blackout_ranges(doc: Document, merged: dict[str, Any]) -> Iterator[Finding]:
    """config-blackout. pass: `{from: "12-15", to: "01-02"}`; fail: `{from: "13-45", to: x}`."""
    for i, blackout in _items(_policy(doc).get("blackouts")):
        first, last = blackout.get("from"), blackout.get("to")
        if isinstance(first, str) and isinstance(last, str):
            found = _range_problem(first, last)
            if found is not None:
                path = ("policy", "blackouts", i, found[0])
                yield doc.find(path, "config-blackout", f"{dotted(path)} {found[1]}")


@config_check
def holiday_countries(doc: Document, merged: dict[str, Any]) -> Iterator[Finding]:
    """config-holidays. pass: `holidays: US`; fail: `holidays: UX`, `subdivision: ZZ`."""
    for i, blackout in _items(_policy(doc).get("blackouts")):
        if "holidays" not in blackout:
            continue
        problem = holidays_problem(blackout["holidays"], blackout.get("subdivision"))
        if problem is not None:
            key = "subdivision" if "subdivision" in problem.split(";")[0] else "holidays"
            path = ("policy", "blackouts", i, key)
            yield doc.find(path, "config-holidays", f"{dotted(path)}: {problem}")


@config_check
def window_names(doc: Document, merged: dict[str, Any]) -> Iterator[Finding]:
    """config-window-name. pass: `windows: [primary]`; fail: `windows: [primry]`."""
    defined = sorted(_mapping(_mapping(merged.get("policy")).get("windows")))
    for name, rule in _mapping(_policy(doc).get("types")).items():
        names = _mapping(rule).get("windows")
        for i, window in enumerate(names if isinstance(names, list) else []):
            if isinstance(window, str) and window not in defined:
                path = ("policy", "types", name, "windows", i)
                yield doc.find(
                    path,
                    "config-window-name",
                    f"type {name} names the window {window!r}, which the policy does not "
                    f"define (defined: {', '.join(defined)}){did_you_mean(window, defined)}",
                )


@config_check
def calendar_files(doc: Document, merged: dict[str, Any]) -> Iterator[Finding]:
    """config-calendar. pass: `ics: calendars/freeze.ics`; fail: `ics: /dev/zero`."""
    root = Path(doc.file).resolve().parent
    for i, calendar in _items(_mapping(doc.data).get("calendars")):
        location = calendar.get("ics")
        if not isinstance(location, str) or location.startswith(("http://", "https://")):
            continue
        try:
            mode = (root / location).stat().st_mode
        except (OSError, ValueError):
            continue  # a missing file is reported when a command reads the calendar
        if not stat.S_ISREG(mode):
            path = ("calendars", i, "ics")
            yield doc.find(
                path,
                "config-calendar",
                f"{dotted(path)} {location!r} is not a regular file (a device, a pipe or a "
                "folder); give an ICS file or an http(s) URL",
            )


@config_check
def state_password(doc: Document, merged: dict[str, Any]) -> Iterator[Finding]:
    """config-secret. pass: `url: postgresql://maint@db/maintbook` with `password_env`;
    fail: `url: postgresql://maint:hunter2@db/maintbook` (a password written in the file)."""
    url = _mapping(_mapping(doc.data).get("state")).get("url")
    if isinstance(url, str) and url_password(url):
        path = ("state", "url")
        yield doc.find(
            path,
            "config-secret",
            f"state.url {masked_url(url)} carries a password; secrets are never written in "
            "maintbook.yml: remove it from the URL and name the environment variable that "
            "holds it with state.password_env",
        )


def config_findings(doc: Document, merged: dict[str, Any]) -> list[Finding]:
    """Every load-time check of a configuration document (`merged`: over the defaults)."""
    return [finding for check in CONFIG_CHECKS for finding in check(doc, merged)]
