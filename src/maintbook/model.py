"""The runbook as frozen dataclasses, built only from data that passed validation."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from maintbook.loader import Document, PathKey
from maintbook.timeparse import parse_duration, parse_rfc3339

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
    rollback: tuple[Step, ...] = ()


@dataclass(frozen=True)
class Approval:
    role: str
    by: str
    at: str | None = None


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
    start: datetime
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
    lines: dict[str, int] = field(default_factory=dict, compare=False)

    @property
    def end(self) -> datetime:
        return self.start + self.duration

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
        rollback=_steps(document, (*path, "rollback"), data.get("rollback", [])),
    )


def _steps(document: Document, path: PathKey, items: list[dict[str, Any]]) -> tuple[Step, ...]:
    return tuple(_step(document, (*path, i), item) for i, item in enumerate(items))


def build_runbook(document: Document) -> Runbook:
    """The model of a runbook whose schema and semantic checks passed."""
    data = document.data
    targets = data["targets"]
    lines = {key: document.source.key((key,))[0] for key in data}
    return Runbook(
        file=document.file,
        id=data["id"],
        title=data["title"],
        owner=data["owner"],
        type=data["type"],
        risk=data.get("risk", "medium"),
        systems=tuple(data["systems"]),
        start=parse_rfc3339(data["window"]["start"]),
        duration=parse_duration(data["window"]["duration"]),
        targets=Targets(
            targets["hosts"], targets.get("serial"), targets.get("max_fail_percentage")
        ),
        steps=_steps(document, ("steps",), data["steps"]),
        description=data.get("description", ""),
        justification=data.get("justification", ""),
        approvals=tuple(
            Approval(a["role"], a["by"], a.get("at")) for a in data.get("approvals", [])
        ),
        notify=tuple(data.get("notify", ())),
        progress_every=_optional_duration(data.get("progress_every")),
        components=tuple(data.get("statuspage", {}).get("components", data["systems"])),
        silence=tuple(data.get("silence", {}).get("matchers", ())),
        maintenance_mode=bool(data.get("maintenance_mode", False)),
        precheck=_steps(document, ("precheck",), data.get("precheck", [])),
        verify=_steps(document, ("verify",), data.get("verify", [])),
        rollback=_steps(document, ("rollback",), data.get("rollback", [])),
        lines=lines,
    )
