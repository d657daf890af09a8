"""The Atom feed: well-formed, complete, newest first, stable ids, absolute links with a url."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import timedelta
from typing import Any

from maintbook.site import render_site
from tests.site.sample import NOW, TITLE, URL, ZONES, sample

A = "{http://www.w3.org/2005/Atom}"
RFC3339_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


def _feed(data: dict[str, Any] | None = None, **options: Any) -> ET.Element:
    given: dict[str, Any] = {"title": TITLE, "url": URL, "zones": ZONES, "now": NOW} | options
    text = render_site(sample() if data is None else data, **given)["feed.atom"]
    assert text.startswith('<?xml version="1.0" encoding="utf-8"?>\n')
    return ET.fromstring(text.encode("utf-8"))


def _entries(root: ET.Element) -> list[dict[str, str]]:
    return [
        {
            "id": e.findtext(f"{A}id", ""),
            "title": e.findtext(f"{A}title", ""),
            "updated": e.findtext(f"{A}updated", ""),
            "content": e.findtext(f"{A}content", ""),
            "link": e.find(f"{A}link").get("href", ""),  # type: ignore[union-attr]
        }
        for e in root.findall(f"{A}entry")
    ]


def _links(root: ET.Element) -> dict[str, str]:
    return {link.get("rel", ""): link.get("href", "") for link in root.findall(f"{A}link")}


def test_feed_has_every_element_atom_requires() -> None:
    root = _feed()
    assert root.tag == f"{A}feed"
    assert root.findtext(f"{A}title") == TITLE
    assert root.findtext(f"{A}id") == "https://status.example.com/feed.atom"
    assert root.findtext(f"{A}author/{A}name") == TITLE
    for entry in root.findall(f"{A}entry"):
        assert entry.find(f"{A}content").get("type") == "text"  # type: ignore[union-attr]
        for child in ("id", "title", "updated"):
            assert entry.findtext(f"{A}{child}"), child


def test_every_update_is_an_entry_newest_first() -> None:
    entries = _entries(_feed())
    total = sum(len(m["updates"]) for m in sample()["maintenances"])
    assert len(entries) == total == 13
    stamps = [e["updated"] for e in entries]
    assert all(RFC3339_UTC.match(s) for s in stamps)
    assert stamps == sorted(stamps, reverse=True)
    assert entries[0] == {
        "id": entries[0]["id"],
        "title": "Monthly PostgreSQL full maintenance: In progress",
        "updated": "2026-12-06T02:00:00Z",
        "content": "Maintenance is in progress.",
        "link": "https://status.example.com/#MNT-2026-0042",
    }
    assert "Not completed — engineers are working on it" in entries[1]["title"]
    assert entries[1]["content"] == (
        "The patch did not apply on one node.\nSome requests may be slower."
    )


def test_feed_updated_is_the_newest_update_and_now_without_any() -> None:
    assert _feed().findtext(f"{A}updated") == "2026-12-06T02:00:00Z"
    assert _feed(now=NOW + timedelta(days=3)).findtext(f"{A}updated") == "2026-12-06T02:00:00Z"
    empty = _feed({"maintenances": []})
    assert empty.findtext(f"{A}updated") == "2026-12-06T02:30:00Z"
    assert empty.findall(f"{A}entry") == []


def test_entry_ids_are_unique_and_stable_across_renders_and_new_updates() -> None:
    before = {e["id"]: e["title"] for e in _entries(_feed())}
    assert len(before) == 13
    data = sample()
    running = data["maintenances"][1]
    running["status"] = "completed"
    done = {"status": "completed", "at": "2026-12-06T03:30:00Z", "body": "Done."}
    running["updates"].append(done)
    running["updates"][0]["body"] = "Maintenance is scheduled (typo fixed)."
    data["maintenances"].append(
        {"id": "MNT-2026-0060", "name": "New", "status": "scheduled", "components": {},
         "scheduled_for": "2026-12-20T01:00:00Z", "scheduled_until": "2026-12-20T02:00:00Z",
         "updates": [{"status": "scheduled", "at": "2026-12-06T03:40:00Z", "body": "New."}]}
    )  # fmt: skip
    after = _entries(_feed(data, now=NOW + timedelta(hours=2), url="https://elsewhere.example/"))
    assert {e["id"]: e["title"] for e in after[2:]} == before
    assert [e["title"] for e in after[:2]] == [
        "New: Scheduled", "Monthly PostgreSQL full maintenance: Completed"
    ]


def test_two_identical_updates_get_two_ids() -> None:
    update = {"status": "in_progress", "at": "2026-12-06T02:00:00Z", "body": "Still going."}
    data = {"maintenances": [{"id": "A", "name": "A", "status": "in_progress",
                              "updates": [update, dict(update)]}]}  # fmt: skip
    ids = [e["id"] for e in _entries(_feed(data))]
    assert len(ids) == 2 and len(set(ids)) == 2


def test_links_are_absolute_with_a_url_and_relative_without() -> None:
    assert _links(_feed()) == {
        "alternate": "https://status.example.com/",
        "self": "https://status.example.com/feed.atom",
    }
    nested = _feed(url="https://example.com/status/")
    assert _links(nested)["self"] == "https://example.com/status/feed.atom"
    assert _entries(nested)[0]["link"] == "https://example.com/status/#MNT-2026-0042"
    local = _feed(url=None)
    assert _links(local) == {"alternate": "index.html"}
    assert _entries(local)[0]["link"] == "index.html#MNT-2026-0042"
    assert (local.findtext(f"{A}id") or "").startswith("urn:uuid:")
    assert local.findtext(f"{A}id") == _feed(url=None, now=NOW + timedelta(1)).findtext(f"{A}id")


def test_the_feed_is_bounded_to_the_newest_entries() -> None:
    entries = _entries(_feed(feed_limit=3))
    assert [e["updated"] for e in entries] == [
        "2026-12-06T02:00:00Z", "2026-12-05T19:05:00Z", "2026-12-05T18:00:00Z"
    ]


def test_hostile_text_survives_the_feed_as_text() -> None:
    hostile = '<script>alert("x")</script>{{ 7*7 }} & ]]> \x07\ud800'
    data = {"maintenances": [{"id": "A", "name": hostile, "status": "in_progress",
                              "updates": [{"status": "<b>", "at": "2026-12-06T02:00:00Z",
                                           "body": hostile}]}]}  # fmt: skip
    entry = _entries(_feed(data, title=hostile))[0]
    clean = '<script>alert("x")</script>{{ 7*7 }} & ]]>'
    assert entry["title"] == f"{clean}: <b>"
    assert entry["content"] == clean
    assert _feed(data, title=hostile).findtext(f"{A}title") == clean
