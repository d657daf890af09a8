"""Rendering stays linear in the number of maintenances, and the page stays bounded."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from maintbook.site import render_site

NOW = datetime(2026, 12, 6, 2, 30, tzinfo=UTC)


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _history(count: int, same_id: bool = False) -> dict[str, Any]:
    """`count` finished maintenances, three hours apart, each with two updates."""
    first = datetime(2020, 1, 1, tzinfo=UTC)
    maintenances = []
    for n in range(count):
        start = first + timedelta(hours=3 * n)
        maintenances.append(
            {
                "id": "MNT" if same_id else f"MNT-{n}",
                "name": f"Maintenance {n}", "status": "completed",
                "scheduled_for": _stamp(start),
                "scheduled_until": _stamp(start + timedelta(hours=1)),
                "components": {f"component-{n % 7}": "operational"},
                "updates": [
                    {"status": "scheduled", "at": _stamp(start - timedelta(days=1)), "body": "a"},
                    {"status": "completed", "at": _stamp(start + timedelta(hours=1)), "body": "b"},
                ],
            }
        )  # fmt: skip
    return {"maintenances": maintenances}


def _seconds(data: dict[str, Any]) -> float:
    best = float("inf")
    for _ in range(5):
        began = time.perf_counter()
        render_site(data, title="Status", url=None, zones=["UTC", "Europe/Berlin"], now=NOW)
        best = min(best, time.perf_counter() - began)
    return best


@pytest.mark.parametrize("same_id", [False, True], ids=["distinct-ids", "one-id"])
def test_eight_times_the_maintenances_take_about_eight_times_as_long(same_id: bool) -> None:
    """Measured here: about 7.4x. A quadratic step shows as 25x and more."""
    small, large = _history(1_000, same_id), _history(8_000, same_id)
    ratio = _seconds(large) / _seconds(small)
    assert ratio < 16, f"8x the input took {ratio:.1f}x the time (quadratic would be ~64x)"


def test_the_page_and_the_feed_do_not_grow_with_history() -> None:
    small = render_site(_history(100), title="S", url=None, zones=["UTC"], now=NOW)
    large = render_site(_history(5_000), title="S", url=None, zones=["UTC"], now=NOW)
    for name in ("index.html", "feed.atom"):
        assert len(large[name]) < 1.1 * len(small[name]), name
    assert large["index.html"].count("<article") == 20
    assert large["feed.atom"].count("<entry>") == 50


def test_repeated_ids_get_unique_anchors() -> None:
    html = render_site(_history(30, same_id=True), title="S", url=None, zones=["UTC"], now=NOW)
    anchors = re.findall(r'<article class="card" id="([^"]+)"', html["index.html"])
    assert anchors == [f"MNT-{n}" for n in range(30, 10, -1)]
