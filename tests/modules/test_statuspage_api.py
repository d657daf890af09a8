"""The `statuspage` provider (Atlassian Statuspage API v1, SPEC §6, §13) against a local server
that checks every request against Atlassian's OpenAPI document (tests/fixtures)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from maintbook import statuspage
from maintbook.context import Context
from maintbook.runtime.closing import Ending, close_page
from maintbook.statuspage import atlassian
from maintbook.statuspage.model import BODY, PageError
from tests.modules.conftest import CONTRACT, NOW, RUNBOOK_ID, START, ModProject
from tests.support.statuspage_server import Fault, State, statuspage_server

API_KEY = "sp-api-key-secret-5150"
PAGE = "kctbh9vrtdwd"
# The page's components, by their names on the page; the project maps its systems to their ids.
ON_PAGE = {"Public API": "cmpapi000001", "Primary database": "cmpdb0000002"}
MAPPING = {"api": "cmpapi000001", "database": "cmpdb0000002"}


@pytest.fixture
def server() -> Iterator[tuple[str, State]]:
    with statuspage_server(CONTRACT, API_KEY, PAGE, ON_PAGE) as served:
        yield served
        assert served[1].violations == []


@pytest.fixture
def api_project(proj: ModProject, server: tuple[str, State],
                monkeypatch: pytest.MonkeyPatch) -> ModProject:
    monkeypatch.setenv("TEST_STATUSPAGE_KEY", API_KEY)
    proj.config["statuspage"] = {
        "provider": "statuspage", "page_id": PAGE, "api_key_env": "TEST_STATUSPAGE_KEY",
        "base_url": server[0], "components": MAPPING, "url": "https://status.example.com",
        "zones": ["UTC", "America/New_York"]}
    return proj


def publish(ctx: Context, status: str, minutes: int = 0) -> bool:
    changed, _ = statuspage.publish(ctx, statuspage.change_for(ctx, status),
                                    now=NOW + timedelta(minutes=minutes))
    return changed


def close(ctx: Context, outcome: str) -> None:
    close_page(ctx, Ending(outcome, {"db-primary-7.internal": "x"}), NOW + timedelta(hours=1))


def the_incident(state: State) -> dict[str, Any]:
    (incident,) = state.incidents.values()
    return incident


def timeline(state: State) -> list[str]:
    return [u["status"] for u in reversed(the_incident(state)["incident_updates"])]


def writes(state: State) -> list[tuple[str, str]]:
    return [(r["method"], r["path"]) for r in state.requests if r["method"] != "GET"]


def component_states(state: State) -> dict[str, str]:
    return {c["id"]: c["status"] for c in state.components.values()}


def test_a_maintenance_moves_through_its_statuses_within_the_contract(
    api_project: ModProject, server: tuple[str, State]
) -> None:
    _, state = server
    ctx = api_project.context()
    assert publish(ctx, "scheduled") is True
    assert component_states(state) == dict.fromkeys(MAPPING.values(), "operational")
    assert publish(ctx, "in_progress", 5) is True
    assert component_states(state) == dict.fromkeys(MAPPING.values(), "under_maintenance")
    assert publish(ctx, "verifying", 40) is True
    close(ctx, "succeeded")
    assert state.violations == []
    incident = the_incident(state)
    assert timeline(state) == ["scheduled", "in_progress", "verifying", "completed"]
    assert incident["name"] == "Monthly PostgreSQL maintenance"
    assert incident["impact"] == "maintenance"
    assert incident["metadata"]["maintbook"]["maintenance"] == RUNBOOK_ID
    assert incident["scheduled_for"].startswith("2026-12-06T02:00:00")
    assert component_states(state) == dict.fromkeys(MAPPING.values(), "operational")
    assert [m for m, _ in writes(state)] == ["POST", "PATCH", "PATCH", "PATCH"]
    assert {r["authorization"] for r in state.requests} == {f"OAuth {API_KEY}"}


def test_component_ids_come_from_the_mapping_without_asking_the_page(
    api_project: ModProject, server: tuple[str, State]
) -> None:
    _, state = server
    publish(api_project.context(), "in_progress")
    assert {c["id"] for c in the_incident(state)["components"]} == set(MAPPING.values())
    assert not [r for r in state.requests if r["path"].endswith("/components")]


def test_without_a_mapping_components_are_found_by_their_name_on_the_page(
    api_project: ModProject, server: tuple[str, State]
) -> None:
    _, state = server
    del api_project.config["statuspage"]["components"]
    ctx = api_project.context(statuspage={"components": ["Public API"]})
    publish(ctx, "in_progress")
    assert [c["id"] for c in the_incident(state)["components"]] == ["cmpapi000001"]
    assert [r["path"] for r in state.requests if r["path"].endswith("/components")] == [
        f"/v1/pages/{PAGE}/components"]


def test_a_component_neither_mapped_nor_on_the_page_fails_before_any_write(
    api_project: ModProject, server: tuple[str, State]
) -> None:
    _, state = server
    del api_project.config["statuspage"]["components"]
    ctx = api_project.context(statuspage={"components": ["api"]})
    with pytest.raises(PageError, match="component api is not on the Statuspage page"):
        publish(ctx, "in_progress")
    assert writes(state) == []


def test_a_rerun_makes_no_second_incident(
    api_project: ModProject, server: tuple[str, State]
) -> None:
    _, state = server
    ctx = api_project.context()
    publish(ctx, "scheduled")
    assert publish(ctx, "scheduled", 1) is False
    publish(ctx, "in_progress", 5)
    assert publish(ctx, "in_progress", 6) is False
    close(ctx, "rolled_back")
    assert publish(ctx, "in_progress", 70) is True  # the second run of the maintenance
    close(ctx, "succeeded")
    assert len(state.incidents) == 1
    assert [m for m, _ in writes(state)] == ["POST", "PATCH", "PATCH", "PATCH", "PATCH"]
    assert timeline(state) == ["scheduled", "in_progress", "completed", "in_progress",
                               "completed"]
    assert the_incident(state)["metadata"]["maintbook"]["state"] == "completed"


def test_an_extension_moves_the_end_of_the_same_incident(
    api_project: ModProject, server: tuple[str, State]
) -> None:
    """What `maintbook extend` publishes: in progress still, with a later end."""
    _, state = server
    ctx = api_project.context()
    publish(ctx, "in_progress")
    change = statuspage.change_for(ctx, "in_progress", body=BODY["extended"],
                                   window=(START, "2026-12-06T05:00:00Z"))
    changed, record = statuspage.publish(ctx, change, now=NOW + timedelta(minutes=90))
    assert changed is True
    assert record["scheduled_until"] == "2026-12-06T05:00:00.000Z"
    assert the_incident(state)["incident_updates"][0]["body"] == BODY["extended"]
    assert [m for m, _ in writes(state)] == ["POST", "PATCH"]
    again, _ = statuspage.publish(ctx, change, now=NOW + timedelta(minutes=91))
    assert again is False


def test_a_failed_maintenance_is_not_completed_and_its_components_degraded(
    api_project: ModProject, server: tuple[str, State]
) -> None:
    _, state = server
    ctx = api_project.context()
    publish(ctx, "in_progress")
    close(ctx, "rollback_failed")
    assert the_incident(state)["status"] == "in_progress"
    assert the_incident(state)["metadata"]["maintbook"]["state"] == "not_completed"
    assert component_states(state) == dict.fromkeys(MAPPING.values(), "degraded_performance")


def test_an_emergency_is_an_incident_from_investigating_to_resolved(
    api_project: ModProject, server: tuple[str, State]
) -> None:
    _, state = server
    ctx = api_project.context(id="EMT-202612060200", type="emergency", approvals=[])
    for minutes, status in enumerate(("scheduled", "in_progress", "verifying")):
        publish(ctx, status, minutes)
    close(ctx, "succeeded")
    incident = the_incident(state)
    assert timeline(state) == ["investigating", "identified", "monitoring", "resolved"]
    assert incident["scheduled_for"] is None and incident["scheduled_until"] is None
    (post,) = [r for r in state.requests if r["method"] == "POST"]
    assert "scheduled_for" not in post["body"]["incident"]


def test_an_emergency_opened_in_progress_is_a_major_incident(
    api_project: ModProject, server: tuple[str, State]
) -> None:
    _, state = server
    ctx = api_project.context(id="EMT-202612060200", type="emergency", approvals=[])
    publish(ctx, "in_progress")
    assert publish(ctx, "in_progress", 1) is False  # an incident has no window to move
    incident = the_incident(state)
    assert (incident["status"], incident["impact"]) == ("identified", "major")
    assert len(incident["incident_updates"]) == 1
    assert component_states(state) == dict.fromkeys(MAPPING.values(), "under_maintenance")


def test_check_mode_only_reads(api_project: ModProject, server: tuple[str, State]) -> None:
    _, state = server
    ctx = api_project.context()
    changed, record = statuspage.publish(ctx, statuspage.change_for(ctx, "scheduled"),
                                         now=NOW, check=True)
    assert (changed, record["status"]) == (True, "scheduled")
    assert writes(state) == []


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def api(url: str, sleeps: Sleeps) -> atlassian.Api:
    return atlassian.Api(url, PAGE, API_KEY, sleep=sleeps)


def test_429_is_retried_after_the_time_the_server_asks_for(
    api_project: ModProject, server: tuple[str, State]
) -> None:
    url, state = server
    state.faults.append(Fault("POST", r"/incidents$", 429, 1, retry_after="7"))
    ctx, sleeps = api_project.context(), Sleeps()
    changed, record = atlassian.apply(api(url, sleeps), RUNBOOK_ID,
                                      statuspage.change_for(ctx, "scheduled"), MAPPING, False)
    assert (changed, record["status"]) == (True, "scheduled")
    assert sleeps == [7.0]
    assert [m for m, _ in writes(state)] == ["POST", "POST"]
    assert len(state.incidents) == 1


def test_a_persistent_500_fails_naming_the_endpoint_and_status_not_the_key(
    api_project: ModProject, server: tuple[str, State]
) -> None:
    url, state = server
    echoed = {"error": "internal error", "request": {"authorization": f"OAuth {API_KEY}"}}
    state.faults.append(Fault("POST", r"/incidents$", 500, -1, body=echoed))
    ctx, sleeps = api_project.context(), Sleeps()
    with pytest.raises(PageError) as failure:
        atlassian.apply(api(url, sleeps), RUNBOOK_ID, statuspage.change_for(ctx, "scheduled"),
                        MAPPING, False)
    message = str(failure.value)
    assert message.startswith(f"Statuspage POST /pages/{PAGE}/incidents answered 500: ")
    assert API_KEY not in message
    assert sleeps == [1.0, 2.0, 4.0, 8.0]
    assert len(writes(state)) == 5
    assert state.incidents == {}


def test_publish_without_the_key_fails_clearly(
    api_project: ModProject, server: tuple[str, State], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TEST_STATUSPAGE_KEY")
    with pytest.raises(PageError, match="the API key variable TEST_STATUSPAGE_KEY is not set"):
        publish(api_project.context(), "scheduled")
    assert server[1].requests == []
