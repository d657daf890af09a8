"""`maintbook diff BASE_REF [HEAD_REF]`: what a change to the runbooks means, for review.

For each runbook file under the project's runbooks/ that changed from BASE_REF to HEAD_REF
(default: the work tree, untracked files included): what changed in meaning
(`maintbook.meaning`), the approvals the change invalidated, and the unified diff of the
compiled playbooks, both sides compiled with `maintbook.build.compile_runbook` into
temporary folders. Both sides are judged with the project's current maintbook.yml.
"""

from __future__ import annotations

import difflib
import json
import os
import tempfile
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

import click

from maintbook.build import compile_runbook, write_atomically
from maintbook.config import Config
from maintbook.gitrefs import Change, changed, commit_of, text_at, toplevel
from maintbook.meaning import Meaning, meaning
from maintbook.model import Runbook
from maintbook.project import Loaded, load_runbook, require_config, select_occurrence
from maintbook.timeparse import utc_now


@dataclass(frozen=True)
class FileDiff:
    path: str
    status: str
    old_path: str | None
    changes: tuple[str, ...]
    approvals: tuple[str, ...]
    notes: tuple[str, ...]
    playbook_diff: str


@dataclass(frozen=True)
class _Side:
    label: str  # the ref as the reader knows it, or "work tree"
    commit: str | None  # None: the work tree
    folder: Path  # where this side's files are written


def _load(config: Config, side: _Side, root: Path, path: str | None) -> Loaded | None:
    if path is None:
        return None
    copy = side.folder / "runbooks" / path
    copy.parent.mkdir(parents=True, exist_ok=True)
    copy.write_text(text_at(root, side.commit, path), encoding="utf-8")
    return load_runbook(copy, config)


def _note(side: _Side, loaded: Loaded | None) -> list[str]:
    if loaded is None or loaded.runbook is not None:
        return []
    errors = [d for d in loaded.diagnostics if d.is_error]
    first = errors[0] if errors else None
    detail = f" (first: line {first.line}: {first.code} {first.message})" if first else ""
    return [f"not valid at {side.label}: {len(errors)} error(s){detail}"]


def _compiled(rb: Runbook | None, config: Config, root: Path, path: str | None,
              side: _Side) -> dict[str, str]:
    if rb is None or path is None:
        return {}
    out = side.folder / "build"
    compiled = compile_runbook(rb, root / path, config, out, Path(path).stem)
    for name, text in compiled.files.items():
        write_atomically(out / name, text)
    return {name: text for name, text in compiled.files.items() if name.endswith(".yml")}


def _unified(old: dict[str, str], new: dict[str, str], base: _Side, head: _Side) -> str:
    out: list[str] = []
    for name in sorted({*old, *new}):
        out += difflib.unified_diff(old.get(name, "").splitlines(keepends=True),
                                    new.get(name, "").splitlines(keepends=True),
                                    f"{base.label}/{name}", f"{head.label}/{name}")
    return "".join(line if line.endswith("\n") else line + "\n" for line in out)


def _concrete(loaded: Loaded | None, config: Config, now: datetime) -> Runbook | None:
    if loaded is None or loaded.runbook is None:
        return None
    return select_occurrence(loaded.runbook, config, now, ahead=True)


def _data(loaded: Loaded | None) -> dict[str, object]:
    return loaded.document.data if loaded and loaded.document else {}


def _file(change: Change, config: Config, root: Path, sides: tuple[_Side, _Side],
          now: datetime) -> FileDiff:
    base, head = sides
    old, new = _load(config, base, root, change.old), _load(config, head, root, change.new)
    old_rb, new_rb = _concrete(old, config, now), _concrete(new, config, now)
    if change.new is None:
        said = Meaning(("runbook removed",), ())
    elif new_rb is None:
        said = Meaning((f"not valid at {head.label}: nothing to compare",), ())
    else:
        said = meaning(old_rb, new_rb, _data(old), _data(new))
    playbooks = _unified(_compiled(old_rb, config, root, change.old, base),
                         _compiled(new_rb, config, root, change.new, head), base, head)
    return FileDiff(change.path, change.status,
                    change.old if change.status == "renamed" else None, said.changes,
                    said.approvals, tuple(_note(base, old) + _note(head, new)), playbooks)


def _text(diffs: list[FileDiff], base: _Side, head: _Side) -> str:
    lines = [f"# maintbook diff {base.label}..{head.label}", ""]
    if not diffs:
        return "\n".join([*lines, "No runbook changed."]) + "\n"
    for item in diffs:
        renamed = f", from {item.old_path}" if item.old_path else ""
        lines += [f"## {item.path} ({item.status}{renamed})", ""]
        lines += [f"- {note}" for note in item.notes] + ([""] if item.notes else [])
        lines += ["What changed:", ""] + ([f"- {c}" for c in item.changes] or [
            "- nothing in meaning (comments or layout only)"]) + [""]
        if item.approvals:
            lines += ["Approvals:", "", *(f"- {a}" for a in item.approvals), ""]
        if item.playbook_diff:
            lines += ["Compiled playbook:", "", "```diff", item.playbook_diff.rstrip("\n"),
                      "```", ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def run_diff(*, base: str, head: str | None, config_path: Path | None, fmt: str,
             now: datetime | None = None) -> int:
    config = require_config(config_path, "text")
    root = toplevel(config.root)
    folder = os.path.relpath(config.root / "runbooks", root).replace(os.sep, "/")
    base_commit = commit_of(root, base)
    head_commit = commit_of(root, head) if head else None
    with tempfile.TemporaryDirectory(prefix="maintbook-diff-") as tmp:
        sides = (_Side(base, base_commit, Path(tmp) / "base"),
                 _Side(head or "work tree", head_commit, Path(tmp) / "head"))
        diffs = [_file(change, config, root, sides, now or utc_now())
                 for change in changed(root, base_commit, head_commit, folder)]
    if fmt == "json":
        click.echo(json.dumps([asdict(d) for d in diffs], indent=2, ensure_ascii=False))
    else:
        click.echo(_text(diffs, *sides), nl=False)
    return 0
