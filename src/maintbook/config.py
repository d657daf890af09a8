"""maintbook.yml: the built-in defaults of SPEC §4, overridden field by field by a project."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

from maintbook.diagnostics import Diagnostic
from maintbook.loader import Document, load_file
from maintbook.store.db import Location
from maintbook.timeparse import parse_clock, parse_duration, utc_now

TYPES = ("zero-downtime", "brief-interruption", "planned-outage", "extended-outage", "emergency")

OUTBOX = ".maintbook/outbox"
STATUS = ".maintbook/status"

DEFAULTS: dict[str, Any] = {
    "policy": {
        "types": {
            "zero-downtime": {
                "max_duration": None,
                "notice": "24h",
                "approvals": ["team-lead"],
                "windows": "any",
            },
            "brief-interruption": {
                "max_duration": "5m",
                "notice": "48h",
                "approvals": ["engineering-manager"],
                "windows": ["primary", "secondary"],
            },
            "planned-outage": {
                "max_duration": "2h",
                "notice": "7d",
                "approvals": ["vp-engineering"],
                "windows": ["primary", "extended"],
            },
            "extended-outage": {
                "max_duration": "4h",
                "notice": "14d",
                "approvals": ["cto"],
                "windows": ["extended"],
            },
            "emergency": {
                "max_duration": None,
                "notice": 0,
                "approvals": ["vp-engineering"],
                "windows": "any",
                "blackouts": "ignore",
            },
        },
        "notices": {
            "zero-downtime": ["-24h"],
            "brief-interruption": ["-48h", "-24h", "-1h", "start", "complete"],
            "planned-outage": ["-7d", "-3d", "-24h", "start", "complete"],
            "extended-outage": ["-14d", "-7d", "-24h", "start", "complete"],
            "emergency": ["start", "complete"],
        },
        "windows": {
            "primary": {
                "rrule": "FREQ=WEEKLY;BYDAY=SU",
                "start": "02:00",
                "duration": "4h",
                "tz": "UTC",
            },
            "secondary": {
                "rrule": "FREQ=WEEKLY;BYDAY=WE",
                "start": "02:00",
                "duration": "2h",
                "tz": "UTC",
            },
            "extended": {
                "rrule": "FREQ=MONTHLY;BYDAY=1SU",
                "start": "02:00",
                "duration": "6h",
                "tz": "UTC",
            },
        },
        "blackouts": [
            {"name": "year-end freeze", "from": "12-15", "to": "01-02"},
            {
                "name": "thanksgiving week",
                "rrule": "FREQ=YEARLY;BYMONTH=11;BYDAY=TH;BYMONTHDAY=22,23,24,25,26,27,28",
                "start": "00:00",
                "duration": "5d",
            },
            {
                "name": "quarter end",
                "rrule": "FREQ=YEARLY;BYMONTH=3,6,9,12;BYMONTHDAY=-1",
                "duration": "1d",
            },
        ],
    },
    "calendars": [],
    "channels": {"outbox": {"type": "outbox", "path": OUTBOX}},
    "statuspage": {"provider": "file", "path": STATUS},
    "alertmanager": None,
    "state": ".maintbook/state.db",
    "templates": None,
}


@dataclass(frozen=True)
class TypeRule:
    """What one maintenance type requires."""

    name: str
    max_duration: timedelta | None
    notice: timedelta
    approvals: tuple[str, ...]
    windows: tuple[str, ...] | None  # None: any time
    blackouts: bool  # False: blackouts do not apply (emergency)


@dataclass(frozen=True)
class WindowRule:
    """A recurring allowed window: RRULE + local start + duration + IANA zone."""

    name: str
    rrule: str
    start: time
    duration: timedelta
    tz: str = "UTC"


@dataclass(frozen=True)
class Blackout:
    """A period when maintenance may not happen; which fields are set says which kind."""

    name: str
    start_text: str | None = None  # `from`
    end_text: str | None = None  # `to`
    rrule: str | None = None
    local_start: time | None = None
    duration: timedelta | None = None
    tz: str = "UTC"
    holidays: str | None = None
    subdivision: str | None = None


@dataclass(frozen=True)
class Policy:
    types: dict[str, TypeRule]
    notices: dict[str, tuple[str, ...]]
    windows: dict[str, WindowRule]
    blackouts: tuple[Blackout, ...]


@dataclass(frozen=True)
class Config:
    """The project configuration with every default filled in; paths are absolute."""

    policy: Policy
    channels: dict[str, dict[str, Any]]
    statuspage: dict[str, Any]
    alertmanager: dict[str, Any] | None
    calendars: tuple[dict[str, Any], ...]
    state: Location
    root: Path
    templates: Path | None = None
    file: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False)
    warnings: tuple[Diagnostic, ...] = field(default=(), compare=False)

    def path(self, relative: str) -> Path:
        """A path from the configuration, resolved against the project root."""
        return (self.root / relative).resolve()

    def channel(self, name: str) -> dict[str, Any]:
        """A channel's settings; an outbox's folder made absolute."""
        options = dict(self.channels[name])
        if options.get("type") == "outbox":
            options["path"] = str(self.path(options.get("path", OUTBOX)))
        return options

    def status_path(self) -> Path:
        """The folder of the `file` status page."""
        return self.path(self.statuspage.get("path", STATUS))


def _merge(defaults: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Mappings merge key by key (recursively); anything else is replaced."""
    merged = copy.deepcopy(defaults)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged



def _type_rule(name: str, data: dict[str, Any]) -> TypeRule:
    max_duration = data.get("max_duration")
    windows = data.get("windows", "any")
    return TypeRule(
        name=name,
        max_duration=None if max_duration is None else parse_duration(max_duration),
        notice=parse_duration(data.get("notice", 0)),
        approvals=tuple(data.get("approvals", ())),
        windows=None if windows == "any" else tuple(windows),
        blackouts=data.get("blackouts", "enforce") != "ignore",
    )


def _blackout(data: dict[str, Any]) -> Blackout:
    return Blackout(
        name=data["name"],
        start_text=data.get("from"),
        end_text=data.get("to"),
        rrule=data.get("rrule"),
        local_start=parse_clock(data["start"]) if "start" in data else None,
        duration=parse_duration(data["duration"]) if "duration" in data else None,
        tz=data.get("tz", "UTC"),
        holidays=data.get("holidays"),
        subdivision=data.get("subdivision"),
    )


def build_policy(data: dict[str, Any]) -> Policy:
    return Policy(
        types={name: _type_rule(name, rule) for name, rule in data["types"].items()},
        notices={name: tuple(items) for name, items in data["notices"].items()},
        windows={
            name: WindowRule(
                name,
                w["rrule"],
                parse_clock(w["start"]),
                parse_duration(w["duration"]),
                w.get("tz", "UTC"),
            )
            for name, w in data["windows"].items()
        },
        blackouts=tuple(_blackout(b) for b in data["blackouts"]),
    )


def _state(value: str | dict[str, Any], root: Path) -> Location:
    """A SQLite path (relative to the project root) or a PostgreSQL URL."""
    if isinstance(value, dict):
        return Location(url=str(value["url"]), password_env=value.get("password_env"))
    return Location(path=(root / value).resolve())


def build_config(data: dict[str, Any], root: Path, file: str | None = None) -> Config:
    """A Config from an (already validated) project mapping merged over the defaults."""
    merged = _merge(DEFAULTS, data)
    templates = merged.get("templates")
    return Config(
        policy=build_policy(merged["policy"]),
        channels=merged["channels"],
        statuspage=merged["statuspage"],
        alertmanager=merged["alertmanager"],
        calendars=tuple(merged["calendars"]),
        state=_state(merged["state"], root),
        root=root.resolve(),
        templates=(root / templates).resolve() if templates else None,
        file=file,
        raw=merged,
    )


def default_config(root: Path | None = None) -> Config:
    return build_config({}, root or Path.cwd())


def _problems(document: Document) -> list[Diagnostic]:
    """Schema and load-time problems of a configuration document, one per mistake."""
    from maintbook.config_checks import config_findings
    from maintbook.schema import schema_findings

    schema = schema_findings(document, "config.schema.json")
    rejected = {finding.path for finding in schema}
    merged = _merge(DEFAULTS, document.data) if isinstance(document.data, dict) else {}
    semantic = [
        finding
        for finding in config_findings(document, merged)
        if not any(finding.path[:end] in rejected for end in range(len(finding.path) + 1))
    ]
    return [finding.diagnostic for finding in schema + semantic if finding.shown]


def _type_place(document: Document, name: str) -> tuple[str | int, ...]:
    for path in (("policy", "types", name), ("policy", "windows"), ("policy",)):
        if path in document.source.keys:
            return path
    return ()


def policy_warnings(document: Document, config: Config, now: datetime) -> list[Diagnostic]:
    """SPEC §14: types that can never get a slot, calendars that block every window."""
    from maintbook.satisfiability import unsatisfiable_types

    found = [
        document.at(
            _type_place(document, name),
            "policy-unsatisfiable",
            message,
            key=True,
            severity="warning",
        )
        for name, message in unsatisfiable_types(config.policy, now)
    ]
    return found + _calendar_warnings(document, config, now)


def _calendar_warnings(document: Document, config: Config, now: datetime) -> list[Diagnostic]:
    """Local ICS calendars only: a URL or a CalDAV server is not fetched to load a file."""
    from maintbook.calendars_io import CalendarError, ics_events
    from maintbook.satisfiability import CALENDAR_DAYS, calendar_blocks_all

    found = []
    for i, item in enumerate(config.calendars):
        location = item.get("ics")
        if not isinstance(location, str) or location.startswith(("http://", "https://")):
            continue
        name = str(item.get("name", "calendar"))
        try:
            events = ics_events(location, name, now, now + CALENDAR_DAYS, root=config.root)
        except CalendarError:
            continue  # reported, with its reason, by the commands that read it
        problem = calendar_blocks_all(config.policy, events, now)
        if problem is not None:
            found.append(
                document.at(
                    ("calendars", i),
                    "calendar-blocks-all",
                    f"calendar {name}: {problem}",
                    severity="warning",
                )
            )
    return found


def load_config(
    path: Path | None, now: datetime | None = None, *, warnings: bool = True
) -> tuple[Config | None, list[Diagnostic]]:
    """The project configuration from `path` (None or missing default file: the defaults).

    Errors come back with None (exit 2); warnings (SPEC §14) with the configuration, which
    also keeps them in `Config.warnings`. `warnings=False` skips working them out (they read
    the policy's year ahead and local calendars), for a reader that only needs the settings.
    """
    if path is None:
        default = Path("maintbook.yml")
        if not default.exists():
            return default_config(Path.cwd()), []
        path = default
    document, problems = load_file(path)
    if document is None:
        return None, problems
    problems = _problems(document)
    if any(p.is_error for p in problems):
        return None, problems
    config = build_config(document.data, path.resolve().parent, str(path))
    if warnings:
        problems += policy_warnings(document, config, now or utc_now())
    return replace(config, warnings=tuple(problems)), problems
