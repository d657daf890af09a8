"""The status page's HTML: golden output, structure, sections, words, zones and escaping."""

from __future__ import annotations

import copy
import doctest
import os
import re
from pathlib import Path
from typing import Any

import pytest

from maintbook.site import render_site, times, words
from tests.site.htmlcheck import parse
from tests.site.sample import NOW, TITLE, URL, ZONES, sample

GOLDEN = Path(__file__).resolve().parent / "golden"
RFC3339_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
RAW_TOKENS = (
    "in_progress", "not_completed", "ended_early", "under_maintenance",
    "degraded_performance", "partial_outage", "major_outage",
)  # fmt: skip


def _render(data: dict[str, Any] | None = None, **options: Any) -> dict[str, str]:
    given: dict[str, Any] = {"title": TITLE, "url": URL, "zones": ZONES, "now": NOW} | options
    return render_site(sample() if data is None else data, **given)


def _html(data: dict[str, Any] | None = None, **options: Any) -> str:
    return _render(data, **options)["index.html"]


def _maintenance(
    ident: str, status: str, start: str, end: str | None, **extra: Any
) -> dict[str, Any]:
    return {
        "id": ident, "name": f"Maintenance {ident}", "status": status,
        "scheduled_for": start, "scheduled_until": end, "components": {}, "updates": [],
    } | extra  # fmt: skip


@pytest.mark.parametrize("name", ["index.html", "feed.atom"])
def test_output_matches_the_golden_file(name: str) -> None:
    """Regenerate with MAINTBOOK_UPDATE_GOLDEN=1 after a deliberate change, then review."""
    text = _render()[name]
    path = GOLDEN / name
    if os.environ.get("MAINTBOOK_UPDATE_GOLDEN"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def test_the_site_is_three_files_and_links_its_one_stylesheet() -> None:
    files = _render()
    assert sorted(files) == ["feed.atom", "index.html", "style.css"]
    page = parse(files["index.html"])
    sheets = [t.attrs for t in page.all("link") if t.attrs.get("rel") == "stylesheet"]
    assert sheets == [{"rel": "stylesheet", "href": "style.css"}]
    assert "{" in files["style.css"] and "@media" in files["style.css"]


def test_output_is_deterministic_and_independent_of_input_order() -> None:
    first = _render()
    assert _render() == first
    shuffled = sample()
    shuffled["maintenances"].reverse()
    for entry in shuffled["maintenances"]:
        entry["components"] = dict(reversed(list(entry["components"].items())))
    assert _render(shuffled) == first


def test_page_is_semantic_html_without_any_script() -> None:
    html = _html()
    page = parse(html)
    assert html.startswith("<!DOCTYPE html>\n")
    assert page.all("html")[0].attrs == {"lang": "en"}
    for landmark in ("header", "main", "footer", "section"):
        assert page.all(landmark), landmark
    assert [level for level, _ in page.headings].count(1) == 1
    levels = [level for level, _ in page.headings]
    assert all(b <= a + 1 for a, b in zip(levels, levels[1:], strict=False)), levels
    assert not page.all("script") and "javascript:" not in html
    assert not [t for t in page.tags if any(a.startswith("on") for a in t.attrs)]
    assert not [t for t in page.tags if "style" in t.attrs]
    ids = [t.attrs["id"] for t in page.tags if "id" in t.attrs]
    assert len(ids) == len(set(ids))


def test_every_time_element_carries_a_utc_datetime() -> None:
    stamps = parse(_html()).all("time")
    assert len(stamps) > 20
    assert all(RFC3339_UTC.match(t.attrs["datetime"]) for t in stamps)


def test_sections_hold_active_upcoming_and_past_in_order() -> None:
    sections = parse(_html()).sections
    assert sections == {
        "components": [],
        "now": ["EMT-202612051800", "MNT-2026-0042"],
        "upcoming": ["MNT-2026-0050"],
        "past": ["MNT-2026-0040", "MNT-2026-0038", "MNT-2026-0031"],
    }
    headings = [text for level, text in parse(_html()).headings if level == 2]
    assert headings == ["Components", "Happening now", "Scheduled maintenance", "Past maintenance"]


def test_components_show_the_state_active_maintenances_set() -> None:
    text = parse(_html()).text
    assert "api Under maintenance database Under maintenance" in text
    assert "load-balancer Degraded performance search Operational web Operational" in text
    assert parse(_html()).all("p")[0].text == "Degraded performance"  # the headline


def test_the_worst_state_wins_and_finished_maintenances_leave_components_operational() -> None:
    data = {
        "maintenances": [
            _maintenance("A", "in_progress", "2026-12-06T02:00:00Z", "2026-12-06T04:00:00Z",
                         components={"api": "under_maintenance"}),
            _maintenance("B", "verifying", "2026-12-06T01:00:00Z", "2026-12-06T03:00:00Z",
                         components={"api": "partial_outage", "db": "major_outage"}),
            _maintenance("C", "completed", "2026-12-01T01:00:00Z", "2026-12-01T02:00:00Z",
                         components={"db": "major_outage", "web": "degraded_performance"}),
        ]
    }  # fmt: skip
    page = parse(_html(data))
    assert "api Partial outage db Major outage web Operational" in page.text
    assert page.all("p")[0].text == "Major outage"


@pytest.mark.parametrize(
    ("components", "active", "headline"),
    [
        ({}, False, "All systems operational"),
        ({"api": "operational"}, True, "Maintenance in progress"),
        ({"api": "under_maintenance"}, True, "Maintenance in progress"),
        ({"api": "flooded"}, True, "Some systems are affected"),
    ],
)
def test_headline(components: dict[str, str], active: bool, headline: str) -> None:
    status = "in_progress" if active else "completed"
    entry = _maintenance("A", status, "2026-12-06T02:00:00Z", "2026-12-06T04:00:00Z",
                         components=components)  # fmt: skip
    assert parse(_html({"maintenances": [entry]})).all("p")[0].text == headline


def test_no_raw_status_token_reaches_the_page() -> None:
    html = _html()
    assert not [token for token in RAW_TOKENS if token in html]
    text = parse(html).text
    for label in ("In progress", "Verifying", "Completed", "Cancelled", "Ended early",
                  "Not completed — engineers are working on it", "Scheduled"):  # fmt: skip
        assert label in text, label


def test_times_are_shown_in_every_zone() -> None:
    text = parse(_html()).text
    assert "Sun 6 Dec 2026, 02:00 UTC · Sat 5 Dec 2026, 21:00 EST" in text
    assert "Sun 6 Dec 2026, 02:00 – 04:00 UTC Sat 5 Dec 2026, 21:00 – 23:00 EST" in text
    assert "Sun 13 Dec 2026, 23:30 UTC – Mon 14 Dec 2026, 00:30 UTC" in text
    assert "Times are shown in UTC and America/New_York" in text


def test_impact_text_and_the_feed_link_are_on_the_page() -> None:
    page = parse(_html())
    assert "The API may answer slowly and refuse writes for short moments." in page.text
    assert "What to expect Writes can fail for up to two minutes, twice; retry them." in page.text
    links = {t.attrs.get("href") for t in page.all("a")}
    assert {"feed.atom", "maintenance.ics", "#main"} <= links
    alternates = [t.attrs for t in page.all("link") if t.attrs.get("rel") == "alternate"]
    assert alternates[0]["type"] == "application/atom+xml"
    assert alternates[0]["href"] == "feed.atom"
    assert "maintenance.ics" not in _html(calendar=None)


def test_timelines_are_newest_first() -> None:
    html = _html()
    card = html[html.index('id="MNT-2026-0031"') :]
    order = [card.index(word) for word in ("Completed", "Verifying", "In progress", "Scheduled")]
    assert order == sorted(order)


def test_the_past_is_bounded_to_the_most_recent() -> None:
    data = {
        "maintenances": [
            _maintenance(f"MNT-2026-{n:04d}", "completed", f"2026-11-{n:02d}T01:00:00Z",
                         f"2026-11-{n:02d}T02:00:00Z")
            for n in range(1, 26)
        ]
    }  # fmt: skip
    page = parse(_html(data))
    assert page.sections["past"] == [f"MNT-2026-{n:04d}" for n in range(25, 5, -1)]
    assert "The 20 most recent of 25." in page.text
    assert len(parse(_html(data, past_limit=3)).sections["past"]) == 3


def test_a_scheduled_window_that_ended_did_not_take_place() -> None:
    data = {"maintenances": [
        _maintenance("OLD", "scheduled", "2026-12-01T01:00:00Z", "2026-12-01T02:00:00Z"),
        _maintenance("OPEN", "scheduled", "2026-12-06T02:00:00Z", "2026-12-06T03:00:00Z"),
    ]}  # fmt: skip
    page = parse(_html(data))
    assert page.sections["past"] == ["OLD"] and page.sections["upcoming"] == ["OPEN"]
    assert "Maintenance OLD Did not take place" in page.text
    assert "Maintenance OPEN Scheduled" in page.text


def test_unknown_tokens_and_broken_entries_are_humanised_not_fatal() -> None:
    data: dict[str, Any] = {"maintenances": [
        _maintenance("X", "on_hold", "yesterday", None, kind="drill",
                     components={"api": "flooded-badly"},
                     updates=[{"status": "paused_by_ops", "at": 12, "body": None}, "junk"]),
        {"id": "Y", "status": None, "components": ["api"], "updates": "none", "impact": "big"},
        "not a maintenance",
        None,
    ]}  # fmt: skip
    page = parse(_html(data))
    assert page.sections["upcoming"] == ["X", "Y"]
    assert "Maintenance X On hold" in page.text
    assert "Y Unknown When Not yet known" in page.text
    assert "api Operational" in page.text  # not active: the unknown token does not count
    assert "Paused by ops" in page.text
    data["maintenances"][0]["status"] = "in_progress"
    assert "api Flooded badly" in parse(_html(data)).text
    assert parse(_html({})).sections["upcoming"] == []
    assert "No maintenance is scheduled." in parse(_html({})).text


HOSTILE = '<script>alert("x")</script>{{ 7*7 }}{% raw %}&amp;'


def test_hostile_names_and_bodies_are_printed_as_text() -> None:
    data = {"maintenances": [
        _maintenance('"><img src=x onerror=alert(1)>', "in_progress", "2026-12-06T02:00:00Z",
                     "2026-12-06T04:00:00Z", name=HOSTILE,
                     components={"<b>api</b>": "under_maintenance"},
                     impact={"summary": HOSTILE, "expect": HOSTILE},
                     updates=[{"status": "<i>x</i>", "at": "2026-12-06T02:00:00Z",
                               "body": HOSTILE}]),
    ]}  # fmt: skip
    html = _html(data, title=HOSTILE)
    page = parse(html)
    assert not page.all("script") and not page.all("img") and not page.all("b")
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert page.text.count(HOSTILE) == 6  # title, h1, h3, summary, expect, update body
    assert "<b>api</b> Under maintenance" in page.text and "49" not in page.text
    assert page.sections["now"] == ["img-src-x-onerror-alert-1"]


def test_control_characters_are_dropped() -> None:
    data = {"maintenances": [_maintenance("A", "in_progress", "2026-12-06T02:00:00Z",
                                          "2026-12-06T04:00:00Z", name="bell\x07 \ud800end")]}
    assert (3, "bell end") in parse(_html(data)).headings
    assert "\x07" not in _html(data)


def test_zones_default_to_utc_and_an_unknown_zone_is_an_error() -> None:
    text = parse(_html(zones=[])).text
    assert "Sun 6 Dec 2026, 02:00 UTC" in text and "EST" not in text
    with pytest.raises(ValueError, match="Mars/Olympus_Mons"):
        _html(zones=["Mars/Olympus_Mons"])


def test_a_window_across_a_clock_change_names_both_offsets() -> None:
    start, end = times.parse("2026-11-01T05:30:00Z"), times.parse("2026-11-01T06:30:00Z")
    assert start and end
    span = times.span(start, end, times.zones(["America/New_York"])[0])
    assert (span.start.parts, span.end.parts) == (
        ("Sun 1 Nov 2026, 01:30 EDT",), ("Sun 1 Nov 2026, 01:30 EST",)
    )


def test_a_naive_now_is_taken_as_utc() -> None:
    assert _html(now=NOW.replace(tzinfo=None)) == _html()


def test_input_data_is_not_modified() -> None:
    data = sample()
    kept = copy.deepcopy(data)
    _render(data)
    assert data == kept


@pytest.mark.parametrize("module", [times, words])
def test_docstring_examples_hold(module: object) -> None:
    result = doctest.testmod(module)  # type: ignore[arg-type]
    assert result.attempted > 0 and result.failed == 0
