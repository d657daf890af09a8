"""A runbook project: its configuration and runbook files, loaded and checked."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from maintbook.checks import Context, run_checks
from maintbook.config import Config, load_config
from maintbook.diagnostics import Diagnostic, has_errors, report, sort_diagnostics
from maintbook.errors import UsageError
from maintbook.loader import Document, load_file
from maintbook.model import Runbook, build_runbook
from maintbook.resources import shipped
from maintbook.schema import validate_schema

RUNBOOK_SUFFIXES = (".yml", ".yaml")


@dataclass(frozen=True)
class Loaded:
    """One runbook file after loading: its document and model when they could be built."""

    path: Path
    document: Document | None
    runbook: Runbook | None
    diagnostics: tuple[Diagnostic, ...]


def collect_files(paths: Sequence[Path]) -> list[Path]:
    """The files named, and every *.yml / *.yaml under the folders named, in order."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files += sorted(
                p for p in path.rglob("*") if p.suffix in RUNBOOK_SUFFIXES and p.is_file()
            )
        elif path.is_file():
            files.append(path)
        else:
            raise UsageError(f"{path}: no such file or folder")
    return files


def role_paths(config: Config) -> tuple[Path, ...]:
    """The project's roles/ first, then the roles shipped with maintbook."""
    paths = [config.root / "roles", shipped("roles")]
    unique: list[Path] = []
    for path in paths:
        if path.resolve() not in [p.resolve() for p in unique]:
            unique.append(path)
    return tuple(unique)


def load_runbook(path: Path, config: Config) -> Loaded:
    """Load, schema-check and semantically check one file; build its model if it is clean."""
    document, problems = load_file(path)
    if document is None:
        return Loaded(path, None, None, tuple(problems))
    problems = validate_schema(document, "runbook.schema.json")
    if not problems:
        problems = run_checks(document, Context(config, role_paths(config)))
    runbook = None if has_errors(problems) else build_runbook(document)
    return Loaded(path, document, runbook, tuple(problems))


def load_runbooks(paths: Sequence[Path], config: Config) -> list[Loaded]:
    return [load_runbook(path, config) for path in collect_files(paths)]


def require_config(config_path: Path | None, fmt: str) -> Config:
    """The configuration, or a UsageError carrying its diagnostics (exit 2)."""
    config, problems = load_config(config_path)
    if config is None:
        raise UsageError(report(sort_diagnostics(problems), fmt).rstrip("\n"))
    return config


def select_occurrence(runbook: Runbook, config: Config, now: datetime) -> Runbook:
    """A one-off runbook as it is; for a recurring one, the occurrence whose run window is
    open now, else the next one (the compiled playbook and `run` need a concrete window)."""
    if not runbook.is_series:
        return runbook
    from maintbook.recurrence_select import pick

    return pick(runbook, config, now)


def load_concrete(target: str, config: Config, now: datetime) -> Runbook:
    """`runbooks/x.yml` or `runbooks/x.yml@20261206T0200Z`: the maintenance it names."""
    path_text, _, occurrence = target.partition("@")
    path = Path(path_text)
    if not path.is_file():
        raise UsageError(f"{path}: no such runbook file")
    loaded = load_runbook(path, config)
    if loaded.runbook is None:
        raise UsageError(f"{path} is not valid; maintbook validate {path} says why")
    runbook = loaded.runbook
    if not occurrence:
        return select_occurrence(runbook, config, now)
    if not runbook.is_series:
        raise UsageError(f"{path} does not recur: it has no occurrence {occurrence!r}")
    try:
        start = datetime.strptime(occurrence, "%Y%m%dT%H%MZ").replace(tzinfo=UTC)
    except ValueError:
        raise UsageError(f"occurrence {occurrence!r}: write it as YYYYMMDDTHHMMZ") from None
    return runbook.at(start)
