"""SPEC §14: warnings for types that can never get a slot and calendars that block all."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from validate_support import validate

from maintbook.calendar import CalendarEvent
from maintbook.config import DEFAULTS, build_policy, load_config
from maintbook.satisfiability import calendar_blocks_all, subtract, unsatisfiable_types

NOW = datetime(2026, 11, 1, tzinfo=UTC)


def _at(day: int, hour: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=UTC)


def test_subtract() -> None:
    assert subtract([(_at(1), _at(5))], [(_at(2), _at(3))]) == [(_at(1), _at(2)), (_at(3), _at(5))]
    assert subtract([(_at(1), _at(2))], [(_at(1), _at(2))]) == []
    assert subtract([(_at(1), _at(2)), (_at(3), _at(4))], []) == [(_at(1), _at(2)),
                                                                    (_at(3), _at(4))]


def test_the_default_policy_is_satisfiable() -> None:
    assert unsatisfiable_types(build_policy(DEFAULTS["policy"]), NOW) == []


def test_a_maximum_longer_than_every_window_is_reported() -> None:
    data = {**DEFAULTS["policy"], "windows": {**DEFAULTS["policy"]["windows"], "extended": {
        "rrule": "FREQ=MONTHLY;BYDAY=1SU", "start": "02:00", "duration": "2h", "tz": "UTC"}}}
    found = unsatisfiable_types(build_policy(data), NOW)
    assert [name for name, _ in found] == ["extended-outage"]
    assert "maximum duration 4h" in found[0][1] and "is 2h" in found[0][1]


def test_a_calendar_blocking_90_days_is_reported() -> None:
    policy = build_policy(DEFAULTS["policy"])
    freeze = CalendarEvent("freeze", NOW, NOW + timedelta(days=120), "cal")
    assert calendar_blocks_all(policy, [freeze], NOW) is not None
    short = CalendarEvent("freeze", NOW, NOW + timedelta(days=20), "cal")
    assert calendar_blocks_all(policy, [short], NOW) is None


def test_validate_prints_the_warnings_of_the_configuration(tmp_path: Path) -> None:
    config = tmp_path / "maintbook.yml"
    config.write_text(
        "channels:\n  outbox: {type: outbox, path: .maintbook/outbox}\n"
        "policy:\n  windows:\n    extended: {rrule: 'FREQ=MONTHLY;BYDAY=1SU', start: '02:00',"
        " duration: 2h}\n", encoding="utf-8")
    loaded, problems = load_config(config, NOW)
    assert loaded is not None
    assert [(p.line, p.severity, p.code) for p in problems] == [
        (4, "warning", "policy-unsatisfiable")]
    result = validate(str(config), config=config)
    assert result.exit_code == 0
    assert result.stdout.startswith(f"{config}:4:3: warning policy-unsatisfiable type "
                                    "extended-outage can never get a slot")
