"""statuspage_maintenance, provider statuspage, against the contract-checking local server."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import CONTRACTS, RunPlay
from statuspage_server import Fault, State, statuspage_server

API_KEY = "sk-test-0123456789abcdef-SECRET"
PAGE = "gytm4qzbx9t6"
COMPONENTS = {"api": "cmpapi000001", "database": "cmpdb0000001", "web": "cmpweb000001"}


@pytest.fixture
def statuspage() -> Iterator[tuple[str, State]]:
    with statuspage_server(CONTRACTS / "statuspage-openapi.json", API_KEY, PAGE, COMPONENTS) as (
        url,
        state,
    ):
        yield url, state
        assert state.violations == []


def args(url: str, state: str, **extra: Any) -> dict[str, Any]:
    return {
        "provider": "statuspage",
        "page_id": PAGE,
        "api_key": API_KEY,
        "base_url": url,
        "runbook_id": "MNT-2026-0042",
        "name": "Monthly PostgreSQL maintenance",
        "state": state,
        "scheduled_for": "2026-12-06T02:00:00Z",
        "scheduled_until": "2026-12-06T04:00:00Z",
        "components": ["api", "database"],
        "retry_delay": 0.01,
        **extra,
    }


def statuses(state: State) -> dict[str, str]:
    return {c["name"]: c["status"] for c in state.components.values()}


def test_transitions_and_component_states(run_play: RunPlay, statuspage: tuple[str, State]) -> None:
    url, state = statuspage
    seen: list[dict[str, str]] = []
    for step in ("scheduled", "in_progress", "verifying", "completed"):
        (result,) = run_play([("statuspage_maintenance", args(url, step))])
        assert result["changed"] is True, result
        assert result["maintenance"]["status"] == step
        seen.append(statuses(state))
    assert [s["api"] for s in seen] == [
        "operational",
        "under_maintenance",
        "under_maintenance",
        "operational",
    ]
    assert all(s["web"] == "operational" for s in seen)
    (incident,) = state.incidents.values()
    assert incident["status"] == "completed"
    assert incident["metadata"] == {
        "maintbook": {"runbook_id": "MNT-2026-0042", "state": "completed"}
    }
    assert [u["status"] for u in reversed(incident["incident_updates"])] == [
        "scheduled",
        "in_progress",
        "verifying",
        "completed",
    ]
    assert [u["status"] for u in result["maintenance"]["updates"]] == [
        "scheduled",
        "in_progress",
        "verifying",
        "completed",
    ]
    assert {r["authorization"] for r in state.requests} == {f"OAuth {API_KEY}"}


def test_rerun_creates_no_second_maintenance(
    run_play: RunPlay, statuspage: tuple[str, State]
) -> None:
    url, state = statuspage
    results = run_play(
        [
            ("statuspage_maintenance", args(url, "scheduled")),
            ("statuspage_maintenance", args(url, "scheduled")),
            ("statuspage_maintenance", args(url, "in_progress")),
            ("statuspage_maintenance", args(url, "in_progress")),
        ]
    )
    assert [r["changed"] for r in results] == [True, False, True, False]
    assert len(state.incidents) == 1
    writes = [r["method"] for r in state.requests if r["method"] != "GET"]
    assert writes == ["POST", "PATCH"]


def test_cancelled_is_completed_with_metadata(
    run_play: RunPlay, statuspage: tuple[str, State]
) -> None:
    url, state = statuspage
    first, cancel, again = run_play(
        [
            ("statuspage_maintenance", args(url, "scheduled")),
            ("statuspage_maintenance", args(url, "cancelled")),
            ("statuspage_maintenance", args(url, "cancelled")),
        ]
    )
    assert (first["changed"], cancel["changed"], again["changed"]) == (True, True, False)
    (incident,) = state.incidents.values()
    assert incident["status"] == "completed"
    assert cancel["maintenance"]["status"] == "cancelled"
    assert incident["incident_updates"][0]["body"] == "This maintenance has been cancelled."


def test_check_mode_only_reads(run_play: RunPlay, statuspage: tuple[str, State]) -> None:
    url, state = statuspage
    (result,) = run_play([("statuspage_maintenance", args(url, "scheduled"))], check=True)
    assert result["changed"] is True
    assert state.incidents == {}
    assert {r["method"] for r in state.requests} == {"GET"}


def test_429_then_success(run_play: RunPlay, statuspage: tuple[str, State]) -> None:
    url, state = statuspage
    state.faults.append(Fault("POST", r"/incidents$", 429, 1))
    state.faults.append(Fault("GET", r"/components$", 420, 1))
    (result,) = run_play([("statuspage_maintenance", args(url, "scheduled"))])
    assert result["changed"] is True
    assert len(state.incidents) == 1
    assert [r["method"] for r in state.requests if r["path"].endswith("/incidents")] == [
        "GET",
        "POST",
        "POST",
    ]


def test_persistent_500_fails_without_the_key(
    run_play: RunPlay, statuspage: tuple[str, State]
) -> None:
    url, state = statuspage
    state.faults.append(Fault("POST", r"/incidents$", 500, -1))
    (result,) = run_play([("statuspage_maintenance", args(url, "scheduled", retries=2))])
    assert result["failed"] is True
    assert f"Statuspage POST /pages/{PAGE}/incidents answered 500" in result["msg"]
    assert API_KEY not in json.dumps(result)
    assert len([r for r in state.requests if r["method"] == "POST"]) == 3


def test_unknown_component_fails_before_writing(
    run_play: RunPlay, statuspage: tuple[str, State]
) -> None:
    url, state = statuspage
    (result,) = run_play(
        [("statuspage_maintenance", args(url, "scheduled", components=["api", "nope"]))]
    )
    assert result["failed"] is True
    assert "components not on the Statuspage page: nope" in result["msg"]
    assert state.incidents == {}


def test_missing_page_id_is_an_argument_error(run_play: RunPlay, tmp_path: Path) -> None:
    bad = args("http://127.0.0.1:9/v1", "scheduled")
    del bad["page_id"]
    (result,) = run_play([("statuspage_maintenance", bad)])
    assert result["failed"] is True
    assert "page_id" in result["msg"]
    assert API_KEY not in json.dumps(result)


def test_server_refuses_requests_off_the_contract() -> None:
    with statuspage_server(CONTRACTS / "statuspage-openapi.json", API_KEY, PAGE, COMPONENTS) as (
        url,
        state,
    ):
        codes = [
            _send(url, "POST", f"/pages/{PAGE}/incidents", {"incident": {"name": "x", "bogus": 1}}),
            _send(url, "POST", f"/pages/{PAGE}/incidents", {"incident": {"name": 5}}),
            _send(
                url,
                "POST",
                f"/pages/{PAGE}/incidents",
                {"incident": {"status": "cancelled", "name": "x"}},
            ),
            _send(url, "DELETE", f"/pages/{PAGE}/incidents", None),
            _send(url, "GET", f"/pages/{PAGE}/incidentz", None),
            _send(url, "GET", f"/pages/{PAGE}/incidents?bogus=1", None),
        ]
        assert codes == [400, 400, 400, 405, 404, 400]
        assert len(state.violations) == 6
        assert state.incidents == {}


def _send(url: str, method: str, path: str, body: Any) -> int:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        url + path,
        data=data,
        method=method,
        headers={"Authorization": f"OAuth {API_KEY}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return exc.code
