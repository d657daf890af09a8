"""status.json → what the page shows: plain frozen data the templates only print.

Sections (``now`` is passed in, never read from the clock):

- *active*: ``in_progress``, ``verifying`` and ``not_completed``, earliest window first;
- *upcoming*: ``scheduled`` (or an unknown token) whose window has not ended, soonest first;
- *past*: everything else, newest window first, at most ``past_limit``. A ``scheduled``
  maintenance whose window ended without starting is shown as "Did not take place".

A component's current state is the one an active maintenance sets, the worst when several
do, else operational. Every maintenance is visited once and the past is picked with
``heapq.nlargest`` (O(n log k)): the page and the work stay proportional to what is shown,
plus sorting the active and upcoming ones it lists in full.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any

from maintbook.site import times, words
from maintbook.site.times import Moment, Span
from maintbook.site.words import Label

ACTIVE = frozenset({"in_progress", "verifying", "not_completed"})
FINISHED = frozenset({"completed", "cancelled", "ended_early", "missed"})
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NOT_ANCHOR = re.compile(r"[^A-Za-z0-9_-]+")
RESERVED_IDS = ("main", "components", "now", "upcoming", "past")  # the page's own ids


@dataclass(frozen=True)
class Item:
    """One maintenance of status.json, parsed once; `anchor` is unique on the page."""

    id: str
    anchor: str
    name: str
    status: str
    kind: str
    start: datetime | None
    end: datetime | None
    components: Mapping[str, str]
    updates: tuple[Mapping[str, Any], ...]
    impact: Mapping[str, Any]


@dataclass(frozen=True)
class Update:
    status: Label
    at: Moment | None
    body: str


@dataclass(frozen=True)
class Component:
    name: str
    state: Label


@dataclass(frozen=True)
class Card:
    """A maintenance as the page shows it; `updates` newest first."""

    anchor: str
    name: str
    kind: str
    status: Label
    window: tuple[Span, ...]
    components: tuple[str, ...]
    summary: str
    expect: str
    updates: tuple[Update, ...]


@dataclass(frozen=True)
class Page:
    title: str
    url: str | None
    zone_names: tuple[str, ...]
    generated: Moment
    overall: Label
    components: tuple[Component, ...]
    active: tuple[Card, ...]
    upcoming: tuple[Card, ...]
    past: tuple[Card, ...]
    past_total: int


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


class _Anchors:
    """Unique HTML ids from maintenance ids: ``MNT-2026-0042``; a repeat becomes ``…-2``.

    The next number per base is remembered, so n repeats of one id cost O(n), not O(n²).
    """

    def __init__(self) -> None:
        self._taken = set(RESERVED_IDS)
        self._next: dict[str, int] = {}

    def __call__(self, raw: str) -> str:
        base = _NOT_ANCHOR.sub("-", raw).strip("-") or "maintenance"
        anchor, n = base, self._next.get(base, 1)
        while anchor in self._taken:
            n += 1
            anchor = f"{base}-{n}"
        self._next[base] = n
        self._taken.add(anchor)
        return anchor


def items(data: Mapping[str, Any]) -> tuple[Item, ...]:
    """The maintenances of a status.json document; entries that are not objects are skipped."""
    raw = data.get("maintenances") if isinstance(data, Mapping) else None
    anchors = _Anchors()
    found: list[Item] = []
    for entry in raw if isinstance(raw, list) else ():
        if isinstance(entry, Mapping):
            found.append(_item(entry, anchors))
    return tuple(found)


def _item(entry: Mapping[str, Any], anchors: _Anchors) -> Item:
    ident = words.clean(entry.get("id"))
    updates = entry.get("updates")
    return Item(
        id=ident,
        anchor=anchors(ident),
        name=words.clean(entry.get("name")) or ident or "Maintenance",
        status=words.clean(entry.get("status")),
        kind=words.kind_label(entry.get("kind")),
        start=times.parse(entry.get("scheduled_for")),
        end=times.parse(entry.get("scheduled_until")),
        components={
            words.clean(k): words.clean(v) for k, v in _mapping(entry.get("components")).items()
        },
        updates=tuple(u for u in updates if isinstance(u, Mapping))
        if isinstance(updates, list)
        else (),
        impact=_mapping(entry.get("impact")),
    )


def section(item: Item, now: datetime) -> str:
    """``active``, ``upcoming`` or ``past`` (see the module docstring)."""
    if item.status in ACTIVE:
        return "active"
    if item.status in FINISHED:
        return "past"
    end = item.end or item.start
    return "upcoming" if end is None or end > now else "past"


def _key(item: Item) -> tuple[datetime, str]:
    return item.start or EPOCH, item.anchor


def current_states(active: Iterable[Item], every: Iterable[Item]) -> dict[str, str]:
    """Every component named anywhere → the worst token an active item sets, else operational."""
    state = dict.fromkeys((name for item in every for name in item.components), "operational")
    for item in active:
        for name, token in item.components.items():
            if (words.severity(token), token) > (words.severity(state[name]), state[name]):
                state[name] = token
    return state


def overall(states: Mapping[str, str], active: int) -> Label:
    """The headline: the worst component state; maintenance in progress if any is active."""
    worst = max((words.severity(token) for token in states.values()), default=0)
    return words.OVERALL[max(worst, 1 if active else 0)]


def _status(item: Item, now: datetime) -> Label:
    if item.status == "scheduled" and section(item, now) == "past":
        return words.MAINTENANCE["missed"]
    return words.maintenance_label(item.status)


def _updates(item: Item, where: Sequence[tzinfo]) -> tuple[Update, ...]:
    order = sorted(
        enumerate(item.updates),
        key=lambda pair: (times.parse(pair[1].get("at")) or EPOCH, pair[0]),
        reverse=True,
    )
    return tuple(
        Update(
            status=words.maintenance_label(update.get("status")),
            at=_moment(update.get("at"), where),
            body=words.clean(update.get("body")),
        )
        for _, update in order
    )


def _moment(value: object, where: Sequence[tzinfo]) -> Moment | None:
    instant = times.parse(value)
    return times.moment(instant, where) if instant else None


def card(item: Item, now: datetime, where: Sequence[tzinfo]) -> Card:
    """What the page shows of one maintenance."""
    window: tuple[Span, ...] = ()
    if item.start and item.end:
        window = tuple(times.span(item.start, item.end, zone) for zone in where)
    return Card(
        anchor=item.anchor,
        name=item.name,
        kind=item.kind,
        status=_status(item, now),
        window=window,
        components=tuple(sorted(item.components)),
        summary=words.clean(item.impact.get("summary")),
        expect=words.clean(item.impact.get("expect")),
        updates=_updates(item, where),
    )


def page(
    every: Sequence[Item],
    *,
    title: str,
    url: str | None,
    zones: Sequence[str],
    now: datetime,
    past_limit: int = 20,
) -> Page:
    """The whole page model; raises ValueError for an unknown zone name."""
    where, now = times.zones(zones), times.utc(now)
    parts: dict[str, list[Item]] = {"active": [], "upcoming": [], "past": []}
    for item in every:
        parts[section(item, now)].append(item)
    states = current_states(parts["active"], every)
    return Page(
        title=words.clean(title) or "System status",
        url=url or None,
        zone_names=tuple(zones) or ("UTC",),
        generated=times.moment(now, where),
        overall=overall(states, len(parts["active"])),
        components=tuple(Component(n, words.component_label(states[n])) for n in sorted(states)),
        active=tuple(card(i, now, where) for i in sorted(parts["active"], key=_key)),
        upcoming=tuple(card(i, now, where) for i in sorted(parts["upcoming"], key=_key)),
        past=tuple(card(i, now, where) for i in heapq.nlargest(past_limit, parts["past"], _key)),
        past_total=len(parts["past"]),
    )
