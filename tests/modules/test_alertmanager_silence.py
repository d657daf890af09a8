"""alertmanager_silence against a real Alertmanager started from the Debian package."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import RunPlay
from services import alertmanager


@pytest.fixture
def am_url(tmp_path: Path) -> Iterator[str]:
    with alertmanager(tmp_path / "alertmanager") as url:
        yield url


def silences(url: str) -> list[dict[str, Any]]:
    with urllib.request.urlopen(url + "/api/v2/silences", timeout=5) as resp:
        data: list[dict[str, Any]] = json.load(resp)
        return data


def active(url: str) -> list[dict[str, Any]]:
    return [s for s in silences(url) if s["status"]["state"] == "active"]


def silence_args(url: str, **extra: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "url": url,
        "runbook_id": "MNT-2026-0042",
        "matchers": ['service="postgres"', 'env=~"prod|staging"', 'a!="b"', 'c!~"x.*"'],
        "starts_at": (now - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "ends_at": (now + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "created_by": "sre-team",
        "comment": "Monthly PostgreSQL maintenance",
        **extra,
    }


def test_present_is_idempotent_and_absent_expires(run_play: RunPlay, am_url: str) -> None:
    args = silence_args(am_url)
    first, second = run_play([("alertmanager_silence", args), ("alertmanager_silence", args)])
    assert (first["changed"], second["changed"]) == (True, False)
    (silence,) = active(am_url)
    assert first["silence_ids"] == second["silence_ids"] == [silence["id"]]
    assert sorted(
        (m["name"], m["value"], m["isRegex"], m["isEqual"]) for m in silence["matchers"]
    ) == [
        ("a", "b", False, False),
        ("c", "x.*", True, False),
        ("env", "prod|staging", True, True),
        ("service", "postgres", False, True),
    ]
    assert silence["comment"] == "maintbook:MNT-2026-0042 Monthly PostgreSQL maintenance"
    assert silence["createdBy"] == "sre-team"

    check, gone, again = run_play(
        [
            (
                "alertmanager_silence",
                {"url": am_url, "runbook_id": "MNT-2026-0042", "state": "absent"},
            ),
        ],
        check=True,
    ) + run_play(
        [
            (
                "alertmanager_silence",
                {"url": am_url, "runbook_id": "MNT-2026-0042", "state": "absent"},
            ),
            (
                "alertmanager_silence",
                {"url": am_url, "runbook_id": "MNT-2026-0042", "state": "absent"},
            ),
        ]
    )
    assert (check["changed"], gone["changed"], again["changed"]) == (True, True, False)
    assert gone["silence_ids"] == [silence["id"]]
    assert active(am_url) == []
    assert [s["status"]["state"] for s in silences(am_url)] == ["expired"]


def test_absent_leaves_other_runbooks_alone(run_play: RunPlay, am_url: str) -> None:
    run_play(
        [
            ("alertmanager_silence", silence_args(am_url)),
            ("alertmanager_silence", silence_args(am_url, runbook_id="MNT-2026-0099")),
            (
                "alertmanager_silence",
                {"url": am_url, "runbook_id": "MNT-2026-0042", "state": "absent"},
            ),
        ]
    )
    (left,) = active(am_url)
    assert left["comment"].startswith("maintbook:MNT-2026-0099 ")


def test_check_mode_creates_nothing(run_play: RunPlay, am_url: str) -> None:
    (result,) = run_play([("alertmanager_silence", silence_args(am_url))], check=True)
    assert result["changed"] is True
    assert silences(am_url) == []


def test_new_end_time_updates_the_same_silence(run_play: RunPlay, am_url: str) -> None:
    later = (datetime.now(UTC) + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    first, moved = run_play(
        [
            ("alertmanager_silence", silence_args(am_url)),
            ("alertmanager_silence", silence_args(am_url, ends_at=later)),
        ]
    )
    assert (first["changed"], moved["changed"]) == (True, True)
    (silence,) = active(am_url)
    assert silence["endsAt"].startswith(later[:19])


def test_errors_name_endpoint_and_status(run_play: RunPlay, am_url: str) -> None:
    bad, refused = run_play(
        [
            (
                "alertmanager_silence",
                silence_args(am_url, matchers=['service="postgres"', 'x=~"("']),
            ),
            ("alertmanager_silence", silence_args("http://127.0.0.1:9")),
        ]
    )
    assert bad["failed"] is True
    assert "Alertmanager POST /api/v2/silences answered 400" in bad["msg"]
    assert refused["failed"] is True
    assert "Alertmanager GET /api/v2/silences answered -1" in refused["msg"]


def test_malformed_matcher_is_refused(run_play: RunPlay, am_url: str) -> None:
    (result,) = run_play([("alertmanager_silence", silence_args(am_url, matchers=["service"]))])
    assert result["failed"] is True
    assert "matcher 'service' is not NAME OP" in result["msg"]
