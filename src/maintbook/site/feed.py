"""The Atom 1.0 feed of status updates (RFC 4287): newest first, at most ``limit`` entries.

An entry's id is a name-based UUID of (maintenance id, update time, status, occurrence), so
it stays the same when the page is rendered again, when updates are added, and when the
page moves to another URL; fixing a typo in a body updates the entry rather than adding
one. The feed's ``updated`` is the newest update's time (``now`` when there is none). With
a public ``url`` every link is absolute; without one they are relative to the feed.
"""

from __future__ import annotations

import heapq
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from maintbook.site import times, words
from maintbook.site.view import EPOCH, Item
from maintbook.timeparse import format_utc

_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://maintbook.invalid/status-feed")


@dataclass(frozen=True)
class Entry:
    id: str
    title: str
    updated: str
    body: str
    link: str


@dataclass(frozen=True)
class Feed:
    id: str
    title: str
    updated: str
    home: str
    self_link: str | None
    entries: tuple[Entry, ...]


@dataclass(frozen=True)
class _Raw:
    at: datetime
    order: tuple[str, int]
    item: Item
    status: str
    body: str
    key: str


def _urn(text: str) -> str:
    return f"urn:uuid:{uuid.uuid5(_NAMESPACE, text)}"


def _raw_updates(every: Sequence[Item]) -> Iterator[_Raw]:
    for item in every:
        seen: Counter[tuple[str, str]] = Counter()
        for index, update in enumerate(item.updates):
            at_text, status = words.clean(update.get("at")), words.clean(update.get("status"))
            seen[(at_text, status)] += 1
            yield _Raw(
                at=times.parse(update.get("at")) or EPOCH,
                order=(item.anchor, index),
                item=item,
                status=status,
                body=words.clean(update.get("body")),
                key="\x1f".join((item.id, at_text, status, str(seen[(at_text, status)]))),
            )


def _entry(raw: _Raw, home: str) -> Entry:
    label = words.maintenance_label(raw.status).text
    return Entry(
        id=_urn(raw.key),
        title=f"{raw.item.name}: {label}",
        updated=format_utc(raw.at),
        body=raw.body or label,
        link=f"{home}#{raw.item.anchor}",
    )


def feed(
    every: Sequence[Item], *, title: str, url: str | None, now: datetime, limit: int = 50
) -> Feed:
    """The feed model: the newest ``limit`` updates of all maintenances."""
    newest = heapq.nlargest(limit, _raw_updates(every), key=lambda r: (r.at, r.order))
    base = url.rstrip("/") + "/" if url else None
    home = base or "index.html"
    return Feed(
        id=f"{base}feed.atom" if base else _urn(f"feed\x1f{title}"),
        title=title,
        updated=format_utc(newest[0].at if newest else times.utc(now)),
        home=home,
        self_link=f"{base}feed.atom" if base else None,
        entries=tuple(_entry(raw, home) for raw in newest),
    )
