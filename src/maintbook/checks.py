"""Semantic checks the schema cannot express: a registry of small units with ids.

Each check takes a loaded document and the project context and yields findings whose
code is the check's id. Its docstring shows a passing and a failing example (the tests run
them). Checks run on every document that parsed, valid or not, so each one looks only at
values of the type it expects and skips the rest: the schema reports those.
"""

from __future__ import annotations

import functools
import importlib.util
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from maintbook.approvals import approval_digest
from maintbook.config import Config
from maintbook.loader import Document, Finding, PathKey
from maintbook.model import ACTIONS, PHASES
from maintbook.suggest import did_you_mean


@dataclass(frozen=True)
class Context:
    """What a check may look at besides the runbook itself."""

    config: Config
    role_paths: tuple[Path, ...]


CheckFn = Callable[[Document, Context], Iterator[Finding]]
REGISTRY: dict[str, CheckFn] = {}


def check(check_id: str) -> Callable[[CheckFn], CheckFn]:
    """Register a check under its id, which is also the code of what it finds."""

    def register(fn: CheckFn) -> CheckFn:
        REGISTRY[check_id] = fn
        return fn

    return register


def mapping(value: Any) -> dict[str, Any]:
    """`value` when it is a mapping, else an empty one (the schema reports the type)."""
    return value if isinstance(value, dict) else {}


def walk_steps(data: Any) -> Iterator[tuple[PathKey, dict[str, Any]]]:
    """Every step of every phase, including each step's own rollback, with its path."""

    def nested(path: PathKey, items: Any) -> Iterator[tuple[PathKey, dict[str, Any]]]:
        if not isinstance(items, list):
            return
        for i, step in enumerate(items):
            if isinstance(step, dict):
                yield (*path, i), step
                yield from nested((*path, i, "rollback"), step.get("rollback"))

    data = mapping(data)
    for phase in PHASES:
        yield from nested((phase,), data.get(phase))
    yield from nested(("soak", "checks"), mapping(data.get("soak")).get("checks"))


def _step_name(step: dict[str, Any]) -> str:
    name = step.get("name")
    return repr(name) if isinstance(name, str) else "without a name"


@check("step-action")
def exactly_one_action(doc: Document, ctx: Context) -> Iterator[Finding]:
    """A step has exactly one action.

    pass: `steps: [{name: Backup, command: pg_dump app}]`
    fail: `steps: [{name: Backup, command: pg_dump app, shell: pg_dump app}]`
    """
    allowed = ", ".join(ACTIONS)
    for path, step in walk_steps(doc.data):
        present = [key for key in ACTIONS if key in step]
        if not present:
            yield doc.find(
                path,
                "step-action",
                f"step {_step_name(step)} has no action; give exactly one of {allowed}",
            )
        elif len(present) > 1:
            yield doc.find(
                (*path, present[1]),
                "step-action",
                f"step {_step_name(step)} has {len(present)} actions "
                f"({', '.join(present)}); give exactly one of {allowed}",
                key=True,
            )


@check("step-vars")
def vars_need_a_role(doc: Document, ctx: Context) -> Iterator[Finding]:
    """`vars` only apply to a role step.

    pass: `steps: [{name: Backup, role: postgres_maintenance, vars: {operation: backup}}]`
    fail: `steps: [{name: Backup, command: pg_dump app, vars: {operation: backup}}]`
    """
    for path, step in walk_steps(doc.data):
        if "vars" in step and "role" not in step:
            yield doc.find((*path, "vars"), "step-vars", "vars only apply to a role step", key=True)


@check("step-name-unique")
def unique_step_names(doc: Document, ctx: Context) -> Iterator[Finding]:
    """Step names are unique within a runbook (they name tasks and records).

    pass: `steps: [{name: Backup, wait: 1s}, {name: Vacuum, wait: 1s}]`
    fail: `steps: [{name: Backup, wait: 1s}, {name: Backup, wait: 2s}]`
    """
    seen: dict[str, int] = {}
    for path, step in walk_steps(doc.data):
        name = step.get("name")
        if not isinstance(name, str):
            continue
        if name in seen:
            yield doc.find(
                (*path, "name"),
                "step-name-unique",
                f"step name {name!r} is already used at line {seen[name]}; "
                "step names must be unique within a runbook",
            )
        else:
            seen[name] = doc.source.value((*path, "name"))[0]


_PLANNED_ID = re.compile(r"MNT-[0-9]{4}-[0-9]{4}")  # [0-9] and fullmatch: ASCII digits only,
_EMERGENCY_ID = re.compile(r"EMT-[0-9]{12}")  # and no trailing newline slips through


@check("id-pattern")
def id_matches_type(doc: Document, ctx: Context) -> Iterator[Finding]:
    """The id says planned (MNT-YYYY-NNNN) or emergency (EMT-YYYYMMDDHHMM), as the type does.

    pass: `{id: MNT-2026-0042, type: planned-outage}`
    fail: `{id: MNT-2026-0042, type: emergency}`
    """
    data = mapping(doc.data)
    runbook_id, kind = data.get("id"), data.get("type")
    if not isinstance(runbook_id, str):
        return
    if kind == "emergency" and not _EMERGENCY_ID.fullmatch(runbook_id):
        yield doc.find(
            ("id",),
            "id-pattern",
            f"id {_short(runbook_id)} of an emergency must look like EMT-YYYYMMDDHHMM, "
            "e.g. EMT-202612061430",
        )
    elif kind != "emergency" and not _PLANNED_ID.fullmatch(runbook_id):
        yield doc.find(
            ("id",),
            "id-pattern",
            f"id {_short(runbook_id)} of a planned maintenance must look like MNT-YYYY-NNNN, "
            "e.g. MNT-2026-0042",
        )


@check("notify-channel")
def channels_exist(doc: Document, ctx: Context) -> Iterator[Finding]:
    """Every channel in `notify` is defined in maintbook.yml.

    pass: `notify: [outbox]`
    fail: `notify: [pager]`
    """
    notify = mapping(doc.data).get("notify")
    known = sorted(ctx.config.channels)
    for i, name in enumerate(notify if isinstance(notify, list) else []):
        if isinstance(name, str) and name not in ctx.config.channels:
            yield doc.find(
                ("notify", i),
                "notify-channel",
                f"unknown channel {_short(name)}{did_you_mean(name, known)}; channels in the "
                f"configuration: {', '.join(known)}",
            )


@functools.lru_cache(maxsize=4096)
def role_exists(name: str, role_paths: tuple[Path, ...]) -> bool:
    """Whether roles/NAME/tasks exists on the role path (memoised for one process)."""
    try:
        return any((base / name / "tasks").is_dir() for base in role_paths)
    except (OSError, ValueError):  # a name too long for the file system, or with a NUL
        return False


@check("role")
def roles_exist(doc: Document, ctx: Context) -> Iterator[Finding]:
    """Every role is on the role search path (the project's roles/, then the shipped roles).

    pass: `steps: [{name: Health, role: service_health}]`
    fail: `steps: [{name: Health, role: no_such_role}]`
    """
    for path, step in walk_steps(doc.data):
        role = step.get("role")
        if isinstance(role, str) and role and not role_exists(role, ctx.role_paths):
            where = ", ".join(str(p) for p in ctx.role_paths)
            yield doc.find(
                (*path, "role"),
                "role",
                f"unknown role {_short(role)}; no roles/{role}/tasks on the role path ({where})",
            )


_FQCN = re.compile(r"[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*")


@functools.cache
def _ansible_base() -> Path | None:
    """ansible-core's package folder, found without importing it (None: not a full install)."""
    spec = importlib.util.find_spec("ansible")
    if spec is None or not spec.submodule_search_locations:
        return None
    base = Path(next(iter(spec.submodule_search_locations)))
    # Inside a running module `ansible` is the trimmed copy AnsiballZ ships: it cannot tell.
    return base if (base / "modules").is_dir() else None


@functools.lru_cache(maxsize=1024)
def _builtin_module_exists(name: str) -> bool | None:
    """Whether ansible.builtin.NAME exists, found on disk without importing ansible."""
    base = _ansible_base()
    if base is None:
        return None
    return (base / "modules" / f"{name}.py").exists() or (
        base / "plugins" / "action" / f"{name}.py"
    ).exists()


def _module_names(doc: Document) -> Iterator[tuple[PathKey, str]]:
    for path, step in walk_steps(doc.data):
        name = mapping(step.get("module")).get("name")
        if isinstance(name, str):
            yield (*path, "module", "name"), name


@check("module-name")
def module_fqcn(doc: Document, ctx: Context) -> Iterator[Finding]:
    """`module.name` is a fully qualified collection name.

    pass: `steps: [{name: Restart, module: {name: ansible.builtin.service}}]`
    fail: `steps: [{name: Restart, module: {name: service}}]`
    """
    for where, name in _module_names(doc):
        if not _FQCN.fullmatch(name):
            yield doc.find(
                where,
                "module-name",
                f"module {_short(name)} is not a fully qualified collection name "
                "(namespace.collection.module, e.g. ansible.builtin.service)",
            )


@check("module-unknown")
def builtin_module_exists(doc: Document, ctx: Context) -> Iterator[Finding]:
    """An ansible.builtin module exists in the installed ansible-core.

    pass: `steps: [{name: Restart, module: {name: ansible.builtin.service}}]`
    fail: `steps: [{name: Restart, module: {name: ansible.builtin.no_such_module}}]`
    """
    for where, name in _module_names(doc):
        if (
            _FQCN.fullmatch(name)
            and name.startswith("ansible.builtin.")
            and _builtin_module_exists(name.rsplit(".", 1)[1]) is False
        ):
            yield doc.find(
                where,
                "module-unknown",
                f"unknown module {name!r}: ansible.builtin has no module of that name",
            )


check("approval-stale")(approval_digest)  # maintbook.approvals: names what invalidated one


def _short(value: str) -> str:
    return repr(value) if len(value) <= 60 else repr(value[:57] + "...")


def run_checks(doc: Document, ctx: Context) -> list[Finding]:
    """Every registered check, in registration order."""
    from maintbook import checks_budget, checks_time  # noqa: F401  (registers their checks)

    return [finding for fn in REGISTRY.values() for finding in fn(doc, ctx)]
