"""What a change to a runbook means (`maintbook diff`): the window moved from → to, the type,
the targets, steps added, removed, renamed or changed by name, and the approvals the change
invalidated. Pure: the runbook data and models of both sides in, sentences out.

An approval is *invalidated by the change* when its digest matched the base content and no
longer matches the head; one that did not match the base either was already stale. Steps
are matched by name; a step whose content is unchanged under a new name is `renamed`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from maintbook.approvals import renames, why_stale
from maintbook.digest import PHASES, step_content
from maintbook.model import Runbook
from maintbook.timeparse import format_duration, format_utc

TEXT_FIELDS = ("title", "description", "justification", "owner", "impact", "notify",
               "progress_every", "statuspage", "silence")


@dataclass(frozen=True)
class Meaning:
    changes: tuple[str, ...]
    approvals: tuple[str, ...]


def _when(rb: Runbook) -> str:
    if rb.is_series and rb.recurrence is not None:
        r = rb.recurrence
        return f"{r.rrule} at {r.start:%H:%M} {r.tz}"
    return format_utc(rb.start)


def _window(old: Runbook, new: Runbook) -> list[str]:
    found = []
    if _when(old) != _when(new):
        found.append(f"window moved from {_when(old)} to {_when(new)}")
    if old.duration != new.duration:
        found.append(f"window duration from {format_duration(old.duration)} to "
                     f"{format_duration(new.duration)}")
    return found


def _from_to(label: str, old: Any, new: Any) -> list[str]:
    return [] if old == new else [f"{label} from {old} to {new}"]


def _targets(old: Runbook, new: Runbook) -> list[str]:
    a, b = old.targets, new.targets
    return (_from_to("targets.hosts", a.hosts, b.hosts) + _from_to("targets.serial", a.serial,
                                                                   b.serial)
            + _from_to("targets.max_fail_percentage", a.max_fail_percentage,
                       b.max_fail_percentage))


def _systems(old: Runbook, new: Runbook) -> list[str]:
    added = [s for s in new.systems if s not in old.systems]
    removed = [s for s in old.systems if s not in new.systems]
    return ([f"systems added: {', '.join(added)}"] if added else []) + (
        [f"systems removed: {', '.join(removed)}"] if removed else [])


def _named(items: Any) -> dict[str, Any]:
    steps = items if isinstance(items, list) else []
    return {str(s.get("name")): step_content(s) for s in steps if isinstance(s, Mapping)}


def _keys(old: Mapping[str, Any], new: Mapping[str, Any]) -> str:
    return ", ".join(k for k in dict.fromkeys([*old, *new]) if old.get(k) != new.get(k))


def phase(name: str, old_items: Any, new_items: Any) -> list[str]:
    """Steps of one phase added, removed, renamed, changed (with the keys that changed) or
    reordered; indexes are the head's, from 0."""
    old, new = _named(old_items), _named(new_items)
    index = {n: i for i, n in enumerate(new)}
    gone = [n for n in old if n not in new]
    came = [n for n in new if n not in old]
    renamed = renames(gone, came, old, new)
    found = [f"{name}[{index[new_n]}] renamed from {old_n!r} to {new_n!r}"
             for old_n, new_n in renamed.items()]
    found += [f"{name}[{index[n]}] {n!r} changed: {_keys(old[n], new[n])}"
              for n in new if n in old and old[n] != new[n]]
    found += [f"{name}[{index[n]}] {n!r} added" for n in came if n not in renamed.values()]
    found += [f"{name} {n!r} removed" for n in gone if n not in renamed]
    before = [renamed.get(n, n) for n in old if n in new or n in renamed]
    if before != [n for n in new if n in before]:
        found.append(f"{name} reordered")
    return found


def _section(key: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    if old.get(key) == new.get(key):
        return []
    if key not in old:
        return [f"{key} added"]
    if key not in new:
        return [f"{key} removed"]
    return [f"{key} changed"]


def content_changes(old: Runbook, new: Runbook, old_data: Mapping[str, Any],
                    new_data: Mapping[str, Any]) -> list[str]:
    """Everything that changed in what the run does and when."""
    found = _from_to("type", old.type, new.type) + _window(old, new)
    if (old.recurrence is None) != (new.recurrence is None):
        found.append(f"recurrence {'added' if new.recurrence else 'removed'}")
    found += _targets(old, new) + _systems(old, new)
    found += _from_to("risk", old.risk, new.risk)
    found += _from_to("maintenance_mode", old.maintenance_mode, new.maintenance_mode)
    for name in PHASES:
        found += phase(name, old_data.get(name), new_data.get(name))
    for key in ("soak", "rollback_reserve", "on_interrupt"):
        found += _section(key, old_data, new_data)
    return found


def text_changes(old_data: Mapping[str, Any], new_data: Mapping[str, Any]) -> list[str]:
    changed = [k for k in TEXT_FIELDS if old_data.get(k) != new_data.get(k)]
    return [f"{', '.join(changed)} changed (not executable content: approvals stay valid)"] \
        if changed else []


def approvals(old: Runbook | None, new: Runbook) -> list[str]:
    """Each approval of the head, as the change leaves it."""
    found = []
    changed = old is not None and old.digest != new.digest
    for a in new.approvals:
        who = f"the {a.role} approval by {a.by}"
        if a.digest is None:
            if changed:
                found.append(f"{who} has no digest: it still counts for the changed content")
        elif a.digest == new.digest:
            found.append(f"{who} is valid for this content")
        elif old is not None and a.digest == old.digest:
            found.append(f"invalidated by this change: {who} was given for "
                         f"{why_stale(a.digest, a.sections, new.sections)}")
        else:
            found.append(f"{who} was already given for other content before this change")
    return found


def meaning(old: Runbook | None, new: Runbook, old_data: Mapping[str, Any],
            new_data: Mapping[str, Any]) -> Meaning:
    """The change from `old` (None: no valid runbook at the base) to `new`."""
    if old is None:
        head = f"new runbook {new.id}: {new.type}, window {_when(new)} " \
               f"({format_duration(new.duration)}), {len(new.steps)} steps"
        return Meaning((head,), tuple(approvals(None, new)))
    found = content_changes(old, new, old_data, new_data) + text_changes(old_data, new_data)
    return Meaning(tuple(found), tuple(approvals(old, new)))
