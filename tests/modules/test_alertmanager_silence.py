"""Alert silences (SPEC §6, §12) against a real Alertmanager 0.25 started for each test: one
silence per maintenance over [start − 15 min, end + 15 min], kept, moved and expired."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from maintbook import silence
from tests.support.services import alertmanager

MATCHERS = ('service="postgres"', 'env=~"prod|staging"')
MAINTENANCE = "MNT-2026-0042"


@pytest.fixture
def am(tmp_path: Path) -> Iterator[silence.Alertmanager]:
    with alertmanager(tmp_path / "alertmanager") as url:
        yield silence.Alertmanager(url)


def listed(api: silence.Alertmanager) -> list[dict[str, Any]]:
    with urllib.request.urlopen(api.url + "/api/v2/silences", timeout=10) as answer:
        found: list[dict[str, Any]] = json.loads(answer.read())
    return found


def by_state(api: silence.Alertmanager, state: str) -> list[dict[str, Any]]:
    return [s for s in listed(api) if s["status"]["state"] == state]


def window(start_in: timedelta, duration: timedelta = timedelta(hours=2)
           ) -> tuple[datetime, datetime]:
    """The silence span of a window starting `start_in` from now (whole seconds)."""
    start = datetime.now(UTC).replace(microsecond=0) + start_in
    return silence.covered(start, start + duration)


def present(api: silence.Alertmanager, span: tuple[datetime, datetime],
            maintenance: str = MAINTENANCE, **extra: Any) -> tuple[bool, list[str]]:
    return silence.present(api, maintenance, MATCHERS, span[0], span[1],
                           "Monthly PostgreSQL maintenance", **extra)


def test_present_creates_one_silence_over_the_window_and_its_margins(
    am: silence.Alertmanager
) -> None:
    span = window(timedelta(hours=1))
    changed, ids = present(am, span)
    assert changed is True
    (made,) = listed(am)
    assert ids == [made["id"]]
    assert made["status"]["state"] == "pending"
    assert silence.parse_api_time(made["startsAt"]) == span[0]
    assert silence.parse_api_time(made["endsAt"]) == span[1]
    assert span[1] - span[0] == timedelta(hours=2, minutes=30)
    assert made["comment"] == f"maintbook:{MAINTENANCE} Monthly PostgreSQL maintenance"
    assert made["createdBy"] == "maintbook"
    assert sorted((m["name"], m["value"], m["isRegex"], m["isEqual"])
                  for m in made["matchers"]) == [("env", "prod|staging", True, True),
                                                 ("service", "postgres", False, True)]


def test_present_again_changes_nothing(am: silence.Alertmanager) -> None:
    span = window(timedelta(hours=1))
    _, ids = present(am, span)
    assert present(am, span) == (False, ids)
    assert len(listed(am)) == 1


@pytest.mark.parametrize("start_in", [timedelta(hours=1), timedelta(minutes=-30)],
                         ids=["pending", "active"])
def test_a_moved_end_updates_the_same_silence(am: silence.Alertmanager,
                                              start_in: timedelta) -> None:
    """An extension: the window's end moves while the silence is pending or already active."""
    span = window(start_in)
    _, (first,) = present(am, span)
    extended = (span[0], span[1] + timedelta(hours=1))
    changed, ids = present(am, extended)
    assert (changed, ids) == (True, [first])
    (kept,) = [s for s in listed(am) if s["status"]["state"] != "expired"]
    assert kept["id"] == first
    assert silence.parse_api_time(kept["endsAt"]) == extended[1]
    assert by_state(am, "expired") == []
    assert present(am, extended) == (False, [first])


def test_absent_expires_the_silence_and_leaves_other_maintenances_alone(
    am: silence.Alertmanager
) -> None:
    span = window(timedelta(minutes=-30))
    _, (mine,) = present(am, span)
    _, (other,) = present(am, span, maintenance="MNT-2026-0043")
    assert silence.absent(am, MAINTENANCE) == (True, [mine])
    assert [s["id"] for s in by_state(am, "expired")] == [mine]
    assert [s["id"] for s in by_state(am, "active")] == [other]
    assert silence.absent(am, MAINTENANCE) == (False, [])


def test_check_mode_creates_and_expires_nothing(am: silence.Alertmanager) -> None:
    span = window(timedelta(minutes=-30))
    assert present(am, span, check=True) == (True, [])
    assert listed(am) == []
    _, ids = present(am, span)
    assert silence.absent(am, MAINTENANCE, check=True) == (True, ids)
    assert [s["status"]["state"] for s in listed(am)] == ["active"]


def test_alertmanager_refusing_a_silence_names_the_endpoint_and_status(
    am: silence.Alertmanager
) -> None:
    past = window(timedelta(hours=-5))  # ends before now: Alertmanager refuses it
    with pytest.raises(silence.SilenceError, match=r"^Alertmanager POST /api/v2/silences "
                       r"answered 400: "):
        present(am, past)
    assert listed(am) == []


def test_a_matcher_that_is_not_name_op_value_is_refused_before_any_call(
    am: silence.Alertmanager
) -> None:
    span = window(timedelta(hours=1))
    with pytest.raises(silence.SilenceError, match="matcher 'service postgres' is not"):
        silence.present(am, MAINTENANCE, ("service postgres",), span[0], span[1], "x")
    assert listed(am) == []
