"""Semantic checks of times: durations, timestamps, and a recurring runbook's rule and zone.

Registered in `checks.REGISTRY` like the others; each docstring shows a passing and a
failing example.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from maintbook.checks import Context, check, mapping, walk_steps
from maintbook.loader import Document, Finding, PathKey
from maintbook.schema import dotted
from maintbook.timeparse import parse_duration, parse_rfc3339
from maintbook.timerules import rrule_problem, zone_problem


def _durations(data: dict[str, Any]) -> Iterator[tuple[PathKey, Any]]:
    window = mapping(data.get("window"))
    if "duration" in window:
        yield ("window", "duration"), window["duration"]
    for key in ("progress_every", "rollback_reserve"):
        if key in data:
            yield (key,), data[key]
    soak = mapping(data.get("soak"))
    for key in ("duration", "every"):
        if key in soak:
            yield ("soak", key), soak[key]
    for path, step in walk_steps(data):
        for key in ("timeout", "delay", "wait"):
            if key in step:
                yield (*path, key), step[key]
        http = mapping(step.get("http"))
        if "max_latency" in http:
            yield (*path, "http", "max_latency"), http["max_latency"]


@check("duration")
def durations_parse(doc: Document, ctx: Context) -> Iterator[Finding]:
    """Every duration parses and is at most 366d; a window lasts longer than 0.

    pass: `window: {start: 2027-01-10T02:00:00Z, duration: 1h30m}`
    fail: `window: {start: 2027-01-10T02:00:00Z, duration: 90 minutes}`
    """
    for path, value in _durations(mapping(doc.data)):
        if not isinstance(value, str | int) or isinstance(value, bool):
            continue  # a wrong type: the schema says so
        try:
            delta = parse_duration(value)
        except ValueError as exc:
            yield doc.find(path, "duration", f"{dotted(path)} {exc}")
            continue
        if path == ("window", "duration") and delta.total_seconds() <= 0:
            yield doc.find(path, "duration", "window.duration must be longer than 0")


def _timestamp(doc: Document, path: PathKey, value: Any, code: str) -> Iterator[Finding]:
    if not isinstance(value, str):
        return
    try:
        parse_rfc3339(value)
    except ValueError as exc:
        yield doc.find(path, code, f"{dotted(path)} {exc}")


@check("window-start")
def window_start_rfc3339(doc: Document, ctx: Context) -> Iterator[Finding]:
    """window.start is an RFC 3339 timestamp with an offset, from 1970 to 2999.

    pass: `window: {start: 2026-12-06T02:00:00Z, duration: 1h}`
    fail: `window: {start: 2026-12-06 02:00, duration: 1h}`
    """
    start = mapping(mapping(doc.data).get("window")).get("start")
    yield from _timestamp(doc, ("window", "start"), start, "window-start")


@check("approval-at")
def approvals_at_rfc3339(doc: Document, ctx: Context) -> Iterator[Finding]:
    """Each approval's `at` is an RFC 3339 timestamp with an offset.

    pass: `approvals: [{role: cto, by: bob, at: 2026-11-21T09:00:00Z}]`
    fail: `approvals: [{role: cto, by: bob, at: 2026-11-21}]`
    """
    approvals = mapping(doc.data).get("approvals")
    for i, approval in enumerate(approvals if isinstance(approvals, list) else []):
        at = mapping(approval).get("at")
        yield from _timestamp(doc, ("approvals", i, "at"), at, "approval-at")


@check("recurrence-rrule")
def recurrence_rule(doc: Document, ctx: Context) -> Iterator[Finding]:
    """A recurring runbook's RRULE parses, occurs, and repeats at most hourly.

    pass: `recurrence: {rrule: "FREQ=WEEKLY;BYDAY=SU", start: "03:00"}`
    fail: `recurrence: {rrule: "FREQ=MINUTELY", start: "03:00"}`
    """
    rule = mapping(mapping(doc.data).get("recurrence")).get("rrule")
    problem = rrule_problem(rule, slowest="HOURLY")
    if problem is not None:
        yield doc.find(("recurrence", "rrule"), "recurrence-rrule", f"recurrence.rrule: {problem}")


@check("recurrence-tz")
def recurrence_zone(doc: Document, ctx: Context) -> Iterator[Finding]:
    """A recurring runbook's zone is an IANA time zone.

    pass: `recurrence: {rrule: "FREQ=WEEKLY;BYDAY=SU", start: "03:00", tz: Europe/Berlin}`
    fail: `recurrence: {rrule: "FREQ=WEEKLY;BYDAY=SU", start: "03:00", tz: Europe/Berln}`
    """
    zone = mapping(mapping(doc.data).get("recurrence")).get("tz")
    problem = zone_problem(zone)
    if problem is not None:
        yield doc.find(("recurrence", "tz"), "recurrence-tz", f"recurrence.tz: {problem}")
