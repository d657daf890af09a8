"""The digest an approval is bound to (SPEC §14): SHA-256 of a runbook's executable content.

Executable content is what decides what the run does and when: the type, the window or
recurrence, the targets, maintenance mode, every phase's steps (without their names), the
soak, the reserve and `on_interrupt`. Titles, descriptions, owner, notices, impact text,
comments and the approvals themselves are not part of it, so editing them keeps approvals
valid. The content is serialised canonically (sorted keys, no whitespace) before hashing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

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
PREFIX = "sha256:"


def _strip_names(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _strip_names(v) for k, v in value.items() if k != "name"}
    if isinstance(value, list):
        return [_strip_names(v) for v in value]
    if isinstance(value, bytes):
        return value.hex()
    return value


def _canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str).encode()


def section_digests(data: Mapping[str, Any]) -> dict[str, str]:
    """Each executable section's own digest, for saying what changed."""
    return {
        key: hashlib.sha256(_canonical(_strip_names(data[key]))).hexdigest()[:12]
        for key in SECTIONS
        if key in data
    }


def content_digest(data: Mapping[str, Any]) -> str:
    """`sha256:<hex>` of the runbook's executable content."""
    content = {key: _strip_names(data[key]) for key in SECTIONS if key in data}
    return PREFIX + hashlib.sha256(_canonical(content)).hexdigest()
