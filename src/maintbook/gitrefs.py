"""The project's git repository, read through the `git` command: which runbook files changed
between two refs (or a ref and the work tree) and their text at a ref. Nothing is written."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from maintbook.errors import UsageError

SUFFIXES = (".yml", ".yaml")


@dataclass(frozen=True)
class Change:
    """One changed file: `old` at the base (None: added), `new` at the head (None: deleted)."""

    status: str  # added | modified | deleted | renamed
    old: str | None
    new: str | None

    @property
    def path(self) -> str:
        return self.new or self.old or ""


def git(root: Path, *args: str) -> str:
    """`git ARGS` in `root`; a failure is a UsageError naming the command and git's words."""
    found = shutil.which("git")
    if found is None:
        raise UsageError("maintbook diff needs git on the PATH")
    done = subprocess.run([found, *args], cwd=root, capture_output=True, text=True,
                          check=False)
    if done.returncode != 0:
        words = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise UsageError(f"git {' '.join(args)}: {words}")
    return done.stdout


def toplevel(path: Path) -> Path:
    return Path(git(path, "rev-parse", "--show-toplevel").strip())


def commit_of(root: Path, ref: str) -> str:
    """The commit a ref names; UsageError for a ref that names none."""
    if ref.startswith("-"):
        raise UsageError(f"{ref!r} is not a git ref")
    try:
        return git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").strip()
    except UsageError:
        raise UsageError(f"no commit named {ref!r} in {root}") from None


_STATUS = {"A": "added", "M": "modified", "D": "deleted", "R": "renamed", "T": "modified"}


def _parse(output: str) -> list[Change]:
    parts = output.split("\0")
    found: list[Change] = []
    index = 0
    while index < len(parts) - 1:
        code = parts[index][:1]
        if code in ("R", "C"):
            found.append(Change("renamed", parts[index + 1], parts[index + 2]))
            index += 3
            continue
        path = parts[index + 1]
        status = _STATUS.get(code, "modified")
        old = None if status == "added" else path
        found.append(Change(status, old, None if status == "deleted" else path))
        index += 2
    return found


def changed(root: Path, base: str, head: str | None, folder: str) -> list[Change]:
    """Runbook files under `folder` (relative to `root`) that differ from base to head; with
    no head, to the work tree, untracked files included."""
    refs = [base, head] if head else [base]
    changes = _parse(git(root, "diff", "--name-status", "-M", "-z", *refs, "--", folder))
    if head is None:
        untracked = git(root, "ls-files", "--others", "--exclude-standard", "-z", "--", folder)
        changes += [Change("added", None, path) for path in untracked.split("\0") if path]
    return sorted((c for c in changes if c.path.endswith(SUFFIXES)), key=lambda c: c.path)


def text_at(root: Path, ref: str | None, path: str) -> str:
    """The file's text at `ref`, or in the work tree when `ref` is None."""
    if ref is None:
        return (root / path).read_text(encoding="utf-8")
    return git(root, "show", f"{ref}:{path}")
