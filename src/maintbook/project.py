"""A runbook project: its configuration and runbook files, loaded and checked."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click

from maintbook.checks import Context, run_checks
from maintbook.config import Config, load_config
from maintbook.diagnostics import REPORTERS, Diagnostic, has_errors, report, sort_diagnostics
from maintbook.errors import UsageError
from maintbook.judged import policy_view
from maintbook.loader import Document, Finding, load_file
from maintbook.model import Runbook, build_runbook
from maintbook.resources import shipped
from maintbook.schema import schema_findings

RUNBOOK_SUFFIXES = (".yml", ".yaml")


@dataclass(frozen=True)
class Loaded:
    """One runbook file after loading: its document and model when they could be built.

    `judged` is what the policy can judge: the runbook itself when it is valid, or its
    policy fields when only other parts have errors (`judged.policy_view`).
    """

    path: Path
    document: Document | None
    runbook: Runbook | None
    diagnostics: tuple[Diagnostic, ...]
    judged: Runbook | None = None


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
    return _role_paths(config.root)


@functools.lru_cache(maxsize=64)
def _role_paths(root: Path) -> tuple[Path, ...]:
    paths = [root / "roles", shipped("roles")]
    unique: list[Path] = []
    for path in paths:
        if path.resolve() not in [p.resolve() for p in unique]:
            unique.append(path)
    return tuple(unique)


def _consequences_dropped(schema: list[Finding], semantic: list[Finding]) -> list[Finding]:
    """Semantic findings about a value the schema already rejected are the same mistake."""
    rejected = {finding.path for finding in schema if finding.diagnostic.is_error}
    return [
        finding
        for finding in semantic
        if not any(finding.path[:end] in rejected for end in range(len(finding.path) + 1))
    ]


def load_runbook(path: Path, config: Config) -> Loaded:
    """Load one file and find every schema and semantic problem of it in one pass.

    The model is built only from a file without errors; `judged` also from one whose
    errors lie outside the fields the policy reads.
    """
    document, problems = load_file(path)
    if document is None:
        return Loaded(path, None, None, tuple(problems))
    schema = schema_findings(document, "runbook.schema.json")
    semantic = run_checks(document, Context(config, role_paths(config)))
    findings = schema + _consequences_dropped(schema, semantic)
    diagnostics = tuple(finding.diagnostic for finding in findings if finding.shown)
    if has_errors(diagnostics):
        return Loaded(path, document, None, diagnostics, policy_view(document, findings))
    runbook = build_runbook(document)
    return Loaded(path, document, runbook, diagnostics, runbook)


def load_runbooks(
    paths: Sequence[Path], config: Config, *, skip: frozenset[Path] = frozenset()
) -> list[Loaded]:
    """Every runbook file under `paths`, except those whose resolved path is in `skip`."""
    files = collect_files(paths)
    if skip:
        files = [path for path in files if path.resolve() not in skip]
    return [load_runbook(path, config) for path in files]


def load_clean(paths: Sequence[Path], config: Config, fmt: str) -> list[Loaded] | None:
    """Every runbook under `paths`, their diagnostics printed; None when any has an error
    (what a command that writes something from them needs)."""
    loaded = load_runbooks(paths, config)
    diagnostics = sort_diagnostics(d for item in loaded for d in item.diagnostics)
    if diagnostics:
        click.echo(report(diagnostics, fmt), nl=False)
    return None if has_errors(diagnostics) else loaded


def require_config(
    config_path: Path | None, fmt: str, now: datetime | None = None, *, echo: bool = True
) -> Config:
    """The configuration, or a UsageError carrying its diagnostics (exit 2).

    Its warnings (SPEC §14) go to stderr unless `echo` is False (validate prints them with
    its own diagnostics).
    """
    config, problems = load_config(config_path, now)
    if config is None:
        raise UsageError(report(sort_diagnostics(problems), fmt).rstrip("\n"))
    if echo and config.warnings:
        fmt = fmt if fmt in REPORTERS else "text"
        click.echo(report(sort_diagnostics(config.warnings), fmt), nl=False, err=True)
    return config


def select_occurrence(runbook: Runbook, config: Config, now: datetime, *,
                      first: datetime | None = None, ahead: bool = False) -> Runbook:
    """A one-off runbook as it is; for a recurring one, the occurrence whose run window is
    open now (SPEC §11), or with `ahead` (a forced or check run, a compile) the next one.

    `first`: the planned start of the series' first occurrence as announced (None: the
    notice is not judged here).
    """
    if not runbook.is_series:
        return runbook
    from maintbook.booking import booked_runbooks, events_between
    from maintbook.recurrence import NO_NOTICE, current_occurrence, next_occurrence

    others = booked_runbooks(config, [Path(runbook.file)])
    events = events_between(config, now - timedelta(days=1), now + timedelta(days=32))
    announced = first or NO_NOTICE
    current = current_occurrence(runbook, config.policy, now=now, others=others,
                                 events=events, first=announced)
    if current is not None and current.takes_place:
        return current.runbook
    upcoming = next_occurrence(runbook, config.policy, now=now, others=others, events=events,
                               first=announced)
    if upcoming is None or upcoming.start is None:
        raise UsageError(f"{runbook.id}: no occurrence of its recurrence within a year")
    if ahead:
        return upcoming.runbook
    raise UsageError(
        f"{runbook.id}: no occurrence is open now; the next is {upcoming.maintenance_id} "
        f"from {upcoming.start:%Y-%m-%dT%H:%MZ}. Run it then, or now with --force-window "
        "--reason TEXT")


def load_concrete(target: str, config: Config, now: datetime, *, ahead: bool = True) -> Runbook:
    """`runbooks/x.yml` or `runbooks/x.yml@20261206T0200Z`: the maintenance it names (for a
    series without an occurrence: the open one, or with `ahead` the next)."""
    path_text, _, occurrence = target.partition("@")
    path = Path(path_text)
    if not path.is_file():
        raise UsageError(f"{path}: no such runbook file")
    loaded = load_runbook(path, config)
    if loaded.runbook is None:
        raise UsageError(f"{path} is not valid; maintbook validate {path} says why")
    runbook = loaded.runbook
    if not occurrence:
        return select_occurrence(runbook, config, now, ahead=ahead)
    if not runbook.is_series:
        raise UsageError(f"{path} does not recur: it has no occurrence {occurrence!r}")
    try:
        planned = datetime.strptime(occurrence, "%Y%m%dT%H%MZ").replace(tzinfo=UTC)
    except ValueError:
        raise UsageError(f"occurrence {occurrence!r}: write it as YYYYMMDDTHHMMZ") from None
    return resolve_occurrence(runbook, config, planned, now)


def resolve_occurrence(runbook: Runbook, config: Config, planned: datetime,
                       now: datetime) -> Runbook:
    """The occurrence planned at `planned`, where the policy puts it (moved, SPEC §11)."""
    from maintbook.booking import booked_runbooks, events_between
    from maintbook.recurrence import NO_NOTICE, occurrences

    others = booked_runbooks(config, [Path(runbook.file)])
    events = events_between(config, planned - timedelta(days=1), planned + timedelta(days=32))
    found = occurrences(runbook, config.policy, start=planned,
                        end=planned + timedelta(seconds=1), now=now, others=others,
                        events=events, first=NO_NOTICE)
    if not found:
        raise UsageError(f"{runbook.id} has no occurrence planned at {planned:%Y-%m-%dT%H:%MZ}")
    return found[0].runbook
