"""`maintbook compile`: write one playbook per runbook."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import click

from maintbook.calls import Target
from maintbook.compiler import compile_runbook, playbook_header
from maintbook.config import Config
from maintbook.diagnostics import has_errors, report, sort_diagnostics
from maintbook.emit import emit
from maintbook.model import Runbook
from maintbook.project import Loaded, load_runbooks, require_config

DEFAULT_BUILD = ".maintbook/build"


def project_relative(path: Path, config: Config) -> str:
    """The runbook's path relative to the project root, with forward slashes."""
    return os.path.relpath(path.resolve(), config.root).replace(os.sep, "/")


def playbook_text(runbook: Runbook, path: Path, config: Config) -> str:
    target = Target(config, project_relative(path, config))
    return emit(compile_runbook(runbook, target), playbook_header(runbook, target))


def write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def output_path(item: Loaded, out_dir: Path) -> Path:
    return out_dir / f"{item.path.stem}.yml"


def run_compile(
    paths: Sequence[Path], config_path: Path | None, out_dir: Path | None, fmt: str
) -> int:
    """Validate every runbook; only when all are clean, write their playbooks."""
    config = require_config(config_path, fmt)
    loaded = load_runbooks(paths, config)
    diagnostics = sort_diagnostics(d for item in loaded for d in item.diagnostics)
    if diagnostics:
        click.echo(report(diagnostics, fmt), nl=False)
    if has_errors(diagnostics):
        return 1
    target_dir = out_dir or config.root / DEFAULT_BUILD
    for item in loaded:
        assert item.runbook is not None
        destination = output_path(item, target_dir)
        write_atomically(destination, playbook_text(item.runbook, item.path, config))
        if fmt == "text":
            click.echo(f"{item.path} -> {destination}")
    return 0
