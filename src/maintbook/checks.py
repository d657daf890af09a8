"""Semantic checks the schema cannot express: a registry of small units with ids.

Each check takes the validated document and the project context and yields
diagnostics. Its docstring shows a passing and a failing example.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from maintbook.config import Config
from maintbook.diagnostics import Diagnostic
from maintbook.loader import Document, PathKey
from maintbook.model import ACTIONS, PHASES
from maintbook.schema import dotted
from maintbook.timeparse import DURATION_HELP, parse_duration, parse_rfc3339


@dataclass(frozen=True)
class Context:
    """What a check may look at besides the runbook itself."""

    config: Config
    role_paths: tuple[Path, ...]


CheckFn = Callable[[Document, Context], Iterator[Diagnostic]]
REGISTRY: dict[str, CheckFn] = {}


def check(check_id: str) -> Callable[[CheckFn], CheckFn]:
    def register(fn: CheckFn) -> CheckFn:
        REGISTRY[check_id] = fn
        return fn

    return register


def walk_steps(data: dict[str, Any]) -> Iterator[tuple[PathKey, dict[str, Any]]]:
    """Every step of every phase, including each step's own rollback, with its path."""

    def nested(path: PathKey, items: Any) -> Iterator[tuple[PathKey, dict[str, Any]]]:
        if not isinstance(items, list):
            return
        for i, step in enumerate(items):
            if isinstance(step, dict):
                yield (*path, i), step
                yield from nested((*path, i, "rollback"), step.get("rollback"))

    for phase in PHASES:
        yield from nested((phase,), data.get(phase))
    soak = data.get("soak")
    if isinstance(soak, dict):
        yield from nested(("soak", "checks"), soak.get("checks"))


@check("step-action")
def exactly_one_action(doc: Document, ctx: Context) -> Iterator[Diagnostic]:
    """A step has exactly one action.

    pass: `{name: Backup, command: pg_dump app}`
    fail: `{name: Backup, command: pg_dump app, shell: pg_dump app}`
    """
    for path, step in walk_steps(doc.data):
        present = [key for key in ACTIONS if key in step]
        allowed = ", ".join(ACTIONS)
        if not present:
            yield doc.at(
                path,
                "step-action",
                f"step {step.get('name', '?')!r} has no action; give exactly one of {allowed}",
            )
        elif len(present) > 1:
            yield doc.at(
                (*path, present[1]),
                "step-action",
                f"step {step.get('name', '?')!r} has {len(present)} actions "
                f"({', '.join(present)}); give exactly one of {allowed}",
                key=True,
            )
        if "vars" in step and "role" not in step:
            yield doc.at((*path, "vars"), "step-vars", "vars only apply to a role step", key=True)


@check("step-name-unique")
def unique_step_names(doc: Document, ctx: Context) -> Iterator[Diagnostic]:
    """Step names are unique within a runbook (they name tasks and records).

    pass: steps `Backup`, `Vacuum`
    fail: steps `Backup`, `Backup`
    """
    seen: dict[str, int] = {}
    for path, step in walk_steps(doc.data):
        name = step.get("name")
        if not isinstance(name, str):
            continue
        if name in seen:
            yield doc.at(
                (*path, "name"),
                "step-name-unique",
                f"step name {name!r} is already used at line {seen[name]}; "
                "step names must be unique within a runbook",
            )
        else:
            seen[name] = doc.source.value((*path, "name"))[0]


def _durations(doc: Document) -> Iterator[tuple[PathKey, Any]]:
    window = doc.data.get("window", {})
    if "duration" in window:
        yield ("window", "duration"), window["duration"]
    for key in ("progress_every", "rollback_reserve"):
        if key in doc.data:
            yield (key,), doc.data[key]
    soak = doc.data.get("soak")
    if isinstance(soak, dict):
        for key in ("duration", "every"):
            if key in soak:
                yield ("soak", key), soak[key]
    for path, step in walk_steps(doc.data):
        for key in ("timeout", "delay", "wait"):
            if key in step:
                yield (*path, key), step[key]
        http = step.get("http")
        if isinstance(http, dict) and "max_latency" in http:
            yield (*path, "http", "max_latency"), http["max_latency"]


@check("duration")
def durations_parse(doc: Document, ctx: Context) -> Iterator[Diagnostic]:
    """Every duration parses.

    pass: `duration: 1h30m`
    fail: `duration: 90 minutes`
    """
    for path, value in _durations(doc):
        try:
            delta = parse_duration(value)
        except (ValueError, TypeError):
            yield doc.at(path, "duration", f"{dotted(path)} {value!r} is not {DURATION_HELP}")
            continue
        if path == ("window", "duration") and delta.total_seconds() <= 0:
            yield doc.at(path, "duration", "window.duration must be longer than 0")


@check("window-start")
def window_start_rfc3339(doc: Document, ctx: Context) -> Iterator[Diagnostic]:
    """window.start is an RFC 3339 timestamp with an offset.

    pass: `start: 2026-12-06T02:00:00Z`
    fail: `start: 2026-12-06 02:00`
    """
    start = doc.data.get("window", {}).get("start")
    if start is None:
        return
    try:
        parse_rfc3339(start)
    except ValueError:
        yield doc.at(
            ("window", "start"),
            "window-start",
            f"window.start {start!r} is not an RFC 3339 timestamp with an offset, "
            "e.g. 2026-12-06T02:00:00Z or 2026-12-06T03:00:00+01:00",
        )


_PLANNED_ID = re.compile(r"^MNT-\d{4}-\d{4}$")
_EMERGENCY_ID = re.compile(r"^EMT-\d{12}$")


@check("id-pattern")
def id_matches_type(doc: Document, ctx: Context) -> Iterator[Diagnostic]:
    """The id says planned (MNT-YYYY-NNNN) or emergency (EMT-YYYYMMDDHHMM), as the type does.

    pass: `id: MNT-2026-0042` with `type: planned-outage`
    fail: `id: MNT-2026-0042` with `type: emergency`
    """
    runbook_id, kind = doc.data.get("id"), doc.data.get("type")
    if not isinstance(runbook_id, str):
        return
    if kind == "emergency" and not _EMERGENCY_ID.match(runbook_id):
        yield doc.at(
            ("id",),
            "id-pattern",
            f"id {runbook_id!r} of an emergency must look like EMT-YYYYMMDDHHMM, "
            "e.g. EMT-202612061430",
        )
    elif kind != "emergency" and not _PLANNED_ID.match(runbook_id):
        yield doc.at(
            ("id",),
            "id-pattern",
            f"id {runbook_id!r} of a planned maintenance must look like MNT-YYYY-NNNN, "
            "e.g. MNT-2026-0042",
        )


@check("notify-channel")
def channels_exist(doc: Document, ctx: Context) -> Iterator[Diagnostic]:
    """Every channel in `notify` is defined in maintbook.yml.

    pass: `notify: [outbox]`
    fail: `notify: [pager]` with no channel `pager`
    """
    known = sorted(ctx.config.channels)
    for i, name in enumerate(doc.data.get("notify", [])):
        if name not in ctx.config.channels:
            yield doc.at(
                ("notify", i),
                "notify-channel",
                f"unknown channel {name!r}; channels in the configuration: {', '.join(known)}",
            )


def role_exists(name: str, role_paths: tuple[Path, ...]) -> bool:
    try:
        return any((base / name / "tasks").is_dir() for base in role_paths)
    except (OSError, ValueError):  # a name too long for the file system, or with a NUL
        return False


@check("role")
def roles_exist(doc: Document, ctx: Context) -> Iterator[Diagnostic]:
    """Every role is on the role search path (the project's roles/, then the shipped roles).

    pass: `role: maintenance_mode`
    fail: `role: no_such_role`
    """
    for path, step in walk_steps(doc.data):
        role = step.get("role")
        if isinstance(role, str) and not role_exists(role, ctx.role_paths):
            where = ", ".join(str(p) for p in ctx.role_paths)
            yield doc.at(
                (*path, "role"),
                "role",
                f"unknown role {role!r}; no roles/{role}/tasks on the role path ({where})",
            )


_FQCN = re.compile(r"^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$")


def _builtin_module_exists(name: str) -> bool | None:
    """Whether ansible.builtin.NAME exists, found on disk without importing ansible."""
    spec = importlib.util.find_spec("ansible")
    if spec is None or not spec.submodule_search_locations:
        return None
    base = Path(next(iter(spec.submodule_search_locations)))
    if not (base / "modules").is_dir():
        # Not a full ansible-core install: inside a running module, `ansible` is the
        # trimmed copy AnsiballZ ships, so this place cannot tell.
        return None
    return (base / "modules" / f"{name}.py").exists() or (
        base / "plugins" / "action" / f"{name}.py"
    ).exists()


@check("module")
def module_fqcn(doc: Document, ctx: Context) -> Iterator[Diagnostic]:
    """`module.name` is a fully qualified collection name, and a builtin one exists.

    pass: `module: {name: ansible.builtin.service}`
    fail: `module: {name: service}`
    """
    for path, step in walk_steps(doc.data):
        module = step.get("module")
        if not isinstance(module, dict) or not isinstance(module.get("name"), str):
            continue
        name = module["name"]
        where = (*path, "module", "name")
        if not _FQCN.match(name):
            yield doc.at(
                where,
                "module-name",
                f"module {name!r} is not a fully qualified collection name "
                "(namespace.collection.module, e.g. ansible.builtin.service)",
            )
        elif (
            name.startswith("ansible.builtin.")
            and _builtin_module_exists(name.rsplit(".", 1)[1]) is False
        ):
            yield doc.at(
                where,
                "module-unknown",
                f"unknown module {name!r}: ansible.builtin has no module of that name",
            )


def run_checks(doc: Document, ctx: Context) -> list[Diagnostic]:
    """Every registered check, in registration order."""
    return [problem for fn in REGISTRY.values() for problem in fn(doc, ctx)]
from maintbook import checks_time  # noqa: E402, F401  (registers the time budget check)
