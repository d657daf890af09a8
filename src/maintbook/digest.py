"""The digest an approval is bound to (SPEC §14): SHA-256 of a runbook's executable content.

Executable content is what decides what the run does and when: the type, the window or
recurrence, the targets, maintenance mode, every phase's steps, the soak, the reserve and
`on_interrupt`. Titles, descriptions, owner, notices, impact text, comments, the approvals
themselves and the *names* of steps are not part of it, so editing them keeps approvals
valid. Only a step's own `name` is left out: a `name` inside its arguments (a module's FQCN,
`args.name` of a service) is content. `window.start` counts as the instant it names, so
writing the same instant with another offset changes nothing, and a value equal to its
schema default counts as left out (`maintenance_mode: false`, `method: GET`), so a loader
that fills in defaults and one that does not agree. The content is serialised canonically
(sorted keys, no whitespace, bytes as hex) before hashing.

`fingerprints` gives the same content section by section — and each phase step by step,
keyed by step name — as 8-hex-digit digests: what `maintbook approve` records beside the
digest so that a later change can be named ("steps[2] 'Restart PostgreSQL' changed").
The full digest alone decides whether an approval is valid; fingerprints only explain.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from functools import cache
from typing import Any

from maintbook.resources import schema
from maintbook.timeparse import format_utc, parse_rfc3339

SECTIONS = (
    "type",
    "window",
    "recurrence",
    "targets",
    "maintenance_mode",
    "precheck",
    "steps",
    "verify",
    "rollback",
    "soak",
    "rollback_reserve",
    "on_interrupt",
)
PHASES = ("precheck", "steps", "verify", "rollback")
PREFIX = "sha256:"
SHORT = 8  # hex digits of a fingerprint

Fingerprints = dict[str, Any]  # section → hex, or (for a phase) step name → hex


@cache
def _definition(name: str) -> Mapping[str, Any]:
    """`$defs/<name>` of the runbook schema, its own `$ref` followed (resolved once)."""
    return _resolve(schema("runbook.schema.json")["$defs"][name])


def _resolve(node: Any) -> Mapping[str, Any]:
    """A schema node with its `$ref` (into the runbook schema's `$defs`) followed."""
    if not isinstance(node, Mapping):
        return {}
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        definition = _definition(ref.rsplit("/", 1)[1])
        if len(node) == 1:
            return definition
        return {**definition, **{k: v for k, v in node.items() if k != "$ref"}}
    return node


def _undefaulted(value: Any, node: Any) -> Any:
    """`value` without the members that equal their schema default, at every level."""
    shape = _resolve(node)
    if isinstance(value, Mapping):
        known = shape.get("properties", {})
        found = {}
        for key, member in value.items():
            sub = _resolve(known.get(key))
            if "default" in sub and type(member) is type(sub["default"]) \
                    and member == sub["default"]:
                continue
            found[key] = _undefaulted(member, sub) if sub else member
        return found
    if isinstance(value, list):
        return [_undefaulted(item, shape.get("items")) for item in value]
    return value


def canonical_data(data: Mapping[str, Any]) -> Mapping[str, Any]:
    """The runbook data as the digest sees it: defaults left out."""
    stripped: Mapping[str, Any] = _undefaulted(data, schema("runbook.schema.json"))
    return stripped


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, bytes):
        return value.hex()
    return value


def step_content(step: Any) -> Any:
    """A step without its name; its own rollback steps likewise."""
    if not isinstance(step, Mapping):
        return _plain(step)
    content = {str(k): _plain(v) for k, v in step.items() if k not in ("name", "rollback")}
    if "rollback" in step:
        content["rollback"] = _steps(step["rollback"])
    return content


def _steps(items: Any) -> Any:
    return [step_content(s) for s in items] if isinstance(items, list) else _plain(items)


def _window(window: Any) -> Any:
    if not isinstance(window, Mapping) or "start" not in window:
        return _plain(window)
    try:
        start = format_utc(parse_rfc3339(window["start"]))
    except ValueError:
        start = window["start"]
    return {**_plain(window), "start": start}


def section_content(key: str, data: Mapping[str, Any]) -> Any:
    """The canonical content of one executable section of the runbook data."""
    value = data[key]
    if key in PHASES:
        return _steps(value)
    if key == "window":
        return _window(value)
    if key == "soak" and isinstance(value, Mapping) and "checks" in value:
        return {**_plain(value), "checks": _steps(value["checks"])}
    return _plain(value)


def _canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str).encode()


def _short(value: Any) -> str:
    return hashlib.sha256(_canonical(value)).hexdigest()[:SHORT]


def _phase(items: Any) -> dict[str, str] | str:
    if not isinstance(items, list):
        return _short(_plain(items))
    return {str(s.get("name", i)) if isinstance(s, Mapping) else str(i): _short(step_content(s))
            for i, s in enumerate(items)}


def fingerprints(data: Mapping[str, Any]) -> Fingerprints:
    """Each executable section's fingerprint; a phase's as step name → fingerprint."""
    return _fingerprints(canonical_data(data))


def content_digest(data: Mapping[str, Any]) -> str:
    """`sha256:<hex>` of the runbook's executable content."""
    return _digest(canonical_data(data))


def digest_and_fingerprints(data: Mapping[str, Any]) -> tuple[str, Fingerprints]:
    """`content_digest` and `fingerprints` of the same data, its defaults stripped once."""
    canonical = canonical_data(data)
    return _digest(canonical), _fingerprints(canonical)


def _fingerprints(data: Mapping[str, Any]) -> Fingerprints:
    found: Fingerprints = {}
    for key in SECTIONS:
        if key not in data:
            continue
        if key in PHASES:
            found[key] = _phase(data[key])
        elif key == "window":
            window = section_content(key, data)
            parts = window if isinstance(window, Mapping) else {}
            found["window.start"] = _short(parts.get("start"))
            found["window.duration"] = _short(parts.get("duration"))
        else:
            found[key] = _short(section_content(key, data))
    return found


def _digest(data: Mapping[str, Any]) -> str:
    content = {key: section_content(key, data) for key in SECTIONS if key in data}
    return PREFIX + hashlib.sha256(_canonical(content)).hexdigest()
