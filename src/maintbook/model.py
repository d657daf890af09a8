"""The runbook as frozen dataclasses, built only from data that passed validation."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, time, timedelta
from typing import Any

from maintbook.digest import digest_and_fingerprints
from maintbook.loader import Document, PathKey
from maintbook.timeparse import parse_clock, parse_duration, parse_rfc3339

ACTIONS = ("role", "command", "shell", "http", "wait", "module")
PHASES = ("precheck", "steps", "verify", "rollback")


@dataclass(frozen=True)
class Step:
    """A named action with its options; `line` is where its name sits in the runbook."""

    name: str
    kind: str
    action: Any
    line: int
    vars: dict[str, Any] = field(default_factory=dict)
    when: str | bool | None = None
    timeout: timedelta | None = None
    retries: int | None = None
    delay: timedelta | None = None
    tags: tuple[str, ...] = ()
    run_once: bool | None = None
    delegate_to: str | None = None
    hosts: str | None = None
    rollback: tuple[Step, ...] = ()


@dataclass(frozen=True)
class Approval:
    role: str
    by: str
    at: str | None = None
    digest: str | None = None
    # what was approved, section by section, to name a later change (maintbook.approvals)
    sections: dict[str, Any] | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Impact:
    """What customers will notice: public notices and the status page say this."""

    summary: str
    expect: str = ""


@dataclass(frozen=True)
class Recurrence:
    """A recurring runbook's occurrences: the RRULE's dates at `start` local time in `tz`."""

    rrule: str
    start: time
    tz: str = "UTC"
    run: str = "manual"  # auto: `maintbook tick` starts each occurrence
    on_conflict: str = "next-slot"  # or skip


@dataclass(frozen=True)
class Soak:
    """Checks that run every `every` for `duration` after maintenance mode is off."""

    duration: timedelta
    every: timedelta
    checks: tuple[Step, ...]

    @property
    def rounds(self) -> int:
        return max(1, int(self.duration.total_seconds() // max(1, self.every.total_seconds())))


@dataclass(frozen=True)
class Targets:
    hosts: str
    serial: int | str | None = None
    max_fail_percentage: int | None = None


@dataclass(frozen=True)
class Runbook:
    """One maintenance: what, when, who approved, where, and how to check and undo it."""

    file: str
    id: str
    title: str
    owner: str
    type: str
    risk: str
    systems: tuple[str, ...]
    window_start: datetime | None  # None for a recurring series; set on each occurrence
    duration: timedelta
    targets: Targets
    steps: tuple[Step, ...]
    description: str = ""
    justification: str = ""
    approvals: tuple[Approval, ...] = ()
    notify: tuple[str, ...] = ()
    progress_every: timedelta | None = None
    components: tuple[str, ...] = ()
    silence: tuple[str, ...] = ()
    maintenance_mode: bool = False
    precheck: tuple[Step, ...] = ()
    verify: tuple[Step, ...] = ()
    rollback: tuple[Step, ...] = ()
    impact: Impact | None = None
    recurrence: Recurrence | None = None
    occurrence: str | None = None  # YYYYMMDDTHHMMZ of one occurrence of a recurring runbook
    rollback_reserve: timedelta | None = None
    soak: Soak | None = None
    on_interrupt: str = "rollback"
    digest: str = ""  # of the executable content, which approvals are bound to
    sections: dict[str, Any] = field(default_factory=dict, compare=False)  # its fingerprints
    lines: dict[str, int] = field(default_factory=dict, compare=False)

    @property
    def start(self) -> datetime:
        """The window start of a one-off runbook or of one occurrence."""
        if self.window_start is None:
            raise ValueError(f"{self.id} recurs: pick an occurrence before asking for its window")
        return self.window_start

    @property
    def end(self) -> datetime:
        return self.start + self.duration

    @property
    def is_series(self) -> bool:
        """A recurring runbook before an occurrence is chosen."""
        return self.window_start is None

    @property
    def maintenance_id(self) -> str:
        """The id of this maintenance: the runbook id, or `<id>@<occurrence>`."""
        return f"{self.id}@{self.occurrence}" if self.occurrence else self.id

    def at(self, start: datetime) -> Runbook:
        """The occurrence of a recurring runbook that starts at `start`."""
        return replace(self, window_start=start, occurrence=occurrence_key(start))

    def all_steps(self) -> tuple[Step, ...]:
        """The steps of every phase, and each step's own rollback, in runbook order."""
        found: list[Step] = []
        for phase in PHASES:
            for step in self.phase(phase):
                found += [step, *step.rollback]
        return tuple(found) + (self.soak.checks if self.soak else ())

    @property
    def is_emergency(self) -> bool:
        return self.type == "emergency"

    def phase(self, name: str) -> tuple[Step, ...]:
        phases: dict[str, tuple[Step, ...]] = {
            "precheck": self.precheck,
            "steps": self.steps,
            "verify": self.verify,
            "rollback": self.rollback,
        }
        return phases[name]


def occurrence_key(start: datetime) -> str:
    """`20261206T0200Z`: the occurrence part of a maintenance id."""
    return start.strftime("%Y%m%dT%H%MZ")


def action_kind(step: dict[str, Any]) -> str | None:
    """The one action key of a step, or None when there is not exactly one."""
    present = [key for key in ACTIONS if key in step]
    return present[0] if len(present) == 1 else None


def _optional_duration(value: Any) -> timedelta | None:
    return None if value is None else parse_duration(value)


def _step(document: Document, path: PathKey, data: dict[str, Any]) -> Step:
    kind = action_kind(data)
    assert kind is not None, "build_runbook needs validated data"
    return Step(
        name=data["name"],
        kind=kind,
        action=data[kind],
        line=document.source.value(path)[0],
        vars=dict(data.get("vars", {})),
        when=data.get("when"),
        timeout=_optional_duration(data.get("timeout")),
        retries=data.get("retries"),
        delay=_optional_duration(data.get("delay")),
        tags=tuple(data.get("tags", ())),
        run_once=data.get("run_once"),
        delegate_to=data.get("delegate_to"),
        hosts=data.get("hosts"),
        rollback=_steps(document, (*path, "rollback"), data.get("rollback", [])),
    )


def _steps(document: Document, path: PathKey, items: list[dict[str, Any]]) -> tuple[Step, ...]:
    return tuple(_step(document, (*path, i), item) for i, item in enumerate(items))



def _recurrence(data: dict[str, Any] | None) -> Recurrence | None:
    if data is None:
        return None
    return Recurrence(
        rrule=data["rrule"],
        start=parse_clock(data["start"]),
        tz=data.get("tz", "UTC"),
        run=data.get("run", "manual"),
        on_conflict=data.get("on_conflict", "next-slot"),
    )


def _soak(document: Document, data: dict[str, Any] | None) -> Soak | None:
    if data is None:
        return None
    return Soak(
        duration=parse_duration(data["duration"]),
        every=parse_duration(data["every"]),
        checks=_steps(document, ("soak", "checks"), data["checks"]),
    )


def _impact(data: dict[str, Any] | None) -> Impact | None:
    return None if data is None else Impact(data["summary"], data.get("expect", ""))


def build_runbook(document: Document) -> Runbook:
    """The model of a runbook whose schema and semantic checks passed."""
    data = document.data
    targets = data["targets"]
    lines = {key: document.source.key((key,))[0] for key in data}
    start = data["window"].get("start")
    digest, sections = digest_and_fingerprints(data)
    return Runbook(
        file=document.file,
        id=data["id"],
        title=data["title"],
        owner=data["owner"],
        type=data["type"],
        risk=data.get("risk", "medium"),
        systems=tuple(data["systems"]),
        window_start=parse_rfc3339(start) if start is not None else None,
        duration=parse_duration(data["window"]["duration"]),
        targets=Targets(
            targets["hosts"], targets.get("serial"), targets.get("max_fail_percentage")
        ),
        steps=_steps(document, ("steps",), data["steps"]),
        description=data.get("description", ""),
        justification=data.get("justification", ""),
        approvals=tuple(
            Approval(a["role"], a["by"], a.get("at"), a.get("digest"), a.get("sections"))
            for a in data.get("approvals", [])
        ),
        notify=tuple(data.get("notify", ())),
        progress_every=_optional_duration(data.get("progress_every")),
        components=tuple(data.get("statuspage", {}).get("components", data["systems"])),
        silence=tuple(data.get("silence", {}).get("matchers", ())),
        maintenance_mode=bool(data.get("maintenance_mode", False)),
        precheck=_steps(document, ("precheck",), data.get("precheck", [])),
        verify=_steps(document, ("verify",), data.get("verify", [])),
        rollback=_steps(document, ("rollback",), data.get("rollback", [])),
        impact=_impact(data.get("impact")),
        recurrence=_recurrence(data.get("recurrence")),
        rollback_reserve=_optional_duration(data.get("rollback_reserve")),
        soak=_soak(document, data.get("soak")),
        on_interrupt=data.get("on_interrupt", "rollback"),
        digest=digest,
        sections=sections,
        lines=lines,
    )
