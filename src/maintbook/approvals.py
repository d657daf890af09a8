"""Approvals bound to content (SPEC §14), and what invalidated one.

`maintbook approve` writes `{role, by, at, digest, sections}`: `digest` is the SHA-256 of the
runbook's executable content (`maintbook.digest`) and alone decides validity — an approval
whose digest no longer matches counts as missing (the policy's `approval` rule, the run
gate); one without a digest stays valid (older runbooks). `sections` records the content
section by section, and each phase step by step, as short fingerprints keyed by step name.
Comparing them with the current content names the change:

    >>> changes({"window.start": "1111aaaa", "steps": {"Backup": "22", "Restart": "33"}},
    ...         {"window.start": "4444bbbb", "steps": {"Backup": "22", "Restart": "55"}})
    ['window moved', "steps[1] 'Restart' changed"]

A step renamed but otherwise the same (same fingerprint under a new name) is no change; a
step whose fingerprint is new is `changed` (same name), `added` or `removed`; the same steps
in another order are `reordered`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from maintbook.digest import PHASES, content_digest, digest_and_fingerprints, fingerprints
from maintbook.loader import Document, Finding
from maintbook.timeparse import format_utc

if TYPE_CHECKING:
    from maintbook.checks import Context

CODE = "approval-stale"
_SECTION_WORDS = {
    "window.start": "window moved",
    "window.duration": "window duration changed",
}
_ORDER = ("type", "window.start", "window.duration", "recurrence", "targets",
          "maintenance_mode", *PHASES, "soak", "rollback_reserve", "on_interrupt")


def is_bound(digest: str | None, current: str) -> bool:
    """Valid for the current content: no digest (an older approval) or the same digest."""
    return digest is None or digest == current


def renames(gone: list[str], came: list[str], old: Mapping[str, Any],
            new: Mapping[str, Any]) -> dict[str, str]:
    """Old name → new name for steps whose content is unchanged under a new name."""
    found: dict[str, str] = {}
    for name in gone:
        match = next((c for c in came if new[c] == old[name] and c not in found.values()), None)
        if match is not None:
            found[name] = match
    return found


def phase_changes(phase: str, old: Any, new: Any) -> list[str]:
    """What changed in one phase, step by step (indexes are the current ones, from 0)."""
    if not isinstance(old, Mapping) or not isinstance(new, Mapping):
        return [] if old == new else [f"{phase} changed"]
    gone = [n for n in old if n not in new]
    came = [n for n in new if n not in old]
    renamed = renames(gone, came, old, new)
    index = {name: i for i, name in enumerate(new)}
    found = [f"{phase}[{index[n]}] {n!r} changed" for n in new if n in old and old[n] != new[n]]
    found += [f"{phase}[{index[n]}] {n!r} added" for n in came if n not in renamed.values()]
    found += [f"{phase} {n!r} removed" for n in gone if n not in renamed]
    before = [renamed.get(n, n) for n in old if n in new or n in renamed]
    after = [n for n in new if n in before]
    if before != after:
        found.append(f"{phase} reordered")
    return found


def _section_change(key: str, old: Any, new: Any) -> list[str]:
    if key in PHASES:
        return phase_changes(key, old, new)
    if old == new:
        return []
    if old is None:
        return [f"{key} added"]
    if new is None:
        return [f"{key} removed"]
    return [_SECTION_WORDS.get(key, f"{key} changed")]


def changes(approved: Mapping[str, Any], current: Mapping[str, Any]) -> list[str]:
    """Every recorded section that differs from the current content, in runbook order."""
    keys = [k for k in _ORDER if k in approved or k in current]
    keys += sorted(k for k in {*approved, *current} if k not in _ORDER)
    return [text for key in keys
            for text in _section_change(key, approved.get(key), current.get(key))]


def why_stale(digest: str, sections: Mapping[str, Any] | None,
              current: Mapping[str, Any]) -> str:
    """What changed since the approval, in words."""
    if not isinstance(sections, Mapping):
        return (f"other content ({digest[:19]}…); it records no sections to say what "
                "changed (maintbook diff against the approved commit shows it)")
    found = changes(sections, current)
    if not found:
        return "other content, though no recorded section differs (edited by hand?)"
    return "other content: " + ", ".join(found)


def stale_message(role: str, by: str, digest: str, sections: Mapping[str, Any] | None,
                  current: Mapping[str, Any]) -> str:
    """`the cto approval by carol was given for other content: steps[2] 'X' changed, …`."""
    return f"the {role} approval by {by} was given for {why_stale(digest, sections, current)}"


def approval_entry(data: Mapping[str, Any], role: str, by: str, at: datetime
                   ) -> dict[str, Any]:
    """What `maintbook approve` records for the runbook data as it is now."""
    return {"role": role, "by": by, "at": format_utc(at), "digest": content_digest(data),
            "sections": fingerprints(data)}


def stale(data: Mapping[str, Any]) -> Iterator[tuple[int, Mapping[str, Any], str]]:
    """(index, approval, message) of every approval given for other content."""
    items = data.get("approvals")
    bound = [(index, item) for index, item in enumerate(items)
             if isinstance(item, Mapping) and isinstance(item.get("digest"), str)
             ] if isinstance(items, list) else []
    if not bound:
        return  # no approval names a digest: nothing to compare (and nothing to hash)
    digest, current = digest_and_fingerprints(data)
    for index, item in bound:
        if not is_bound(item["digest"], digest):
            yield index, item, stale_message(str(item.get("role")), str(item.get("by")),
                                             item["digest"], item.get("sections"), current)


def approval_digest(doc: Document, ctx: Context) -> Iterator[Finding]:
    """An approval given for other content counts as missing; this names the change.

    An approval without a digest (an older one) passes, as does one bound to this content.

    pass: `approvals: [{role: cto, by: carol}]`
    fail: `approvals: [{role: cto, by: carol, digest: "sha256:00"}]`
    """
    if not isinstance(doc.data, Mapping):
        return
    for index, item, message in stale(doc.data):
        yield doc.find(("approvals", index, "digest"), CODE,
                       f"{message}; it no longer counts: approve again with maintbook approve "
                       f"{doc.file} --role {item.get('role')} --by NAME", severity="warning")
