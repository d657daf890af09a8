"""`maintbook run`: compile, run through ansible-runner, and write the record."""

from __future__ import annotations

import getpass
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from maintbook import records, state
from maintbook.commands.compile import playbook_text, write_atomically
from maintbook.config import Config
from maintbook.diagnostics import report, sort_diagnostics
from maintbook.errors import UsageError
from maintbook.model import Runbook
from maintbook.progress import JsonLines, LiveView, ProgressSink
from maintbook.project import load_runbook, require_config
from maintbook.resources import shipped
from maintbook.runner import RunRequest, library_and_roles, run_playbook
from maintbook.secrets import env_names
from maintbook.timeparse import utc_now

DEFAULT_INVENTORY = Path("inventory/local.yml")


@dataclass(frozen=True)
class RunOptions:
    runbook: Path
    config_path: Path | None
    inventory: Path | None
    check: bool
    limit: str | None
    extra: tuple[str, ...]
    force_reason: str | None
    force_window: bool
    fmt: str


def parse_extra(pairs: Sequence[str]) -> dict[str, str]:
    values = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.isidentifier():
            raise UsageError(f"-e {pair!r}: give extra variables as NAME=VALUE")
        if key.startswith("maintbook_"):
            raise UsageError(f"-e {pair!r}: names starting with maintbook_ are reserved")
        values[key] = value
    return values


def operator() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return os.environ.get("USER", "unknown")


def _load(options: RunOptions) -> tuple[Runbook, Config]:
    config = require_config(options.config_path, "text")
    loaded = load_runbook(options.runbook, config) if options.runbook.is_file() else None
    if loaded is None:
        raise UsageError(f"{options.runbook}: no such runbook file")
    if loaded.runbook is None:
        raise UsageError(
            "the runbook is not valid:\n"
            + report(sort_diagnostics(loaded.diagnostics), "text").rstrip("\n")
        )
    return loaded.runbook, config


def _inventory(options: RunOptions, config: Config) -> Path:
    inventory = options.inventory or config.root / DEFAULT_INVENTORY
    if not inventory.exists():
        raise UsageError(f"{inventory}: no such inventory (give one with -i)")
    return inventory.resolve()


def run_folder(runbook: Runbook, root: Path, started: datetime) -> tuple[str, Path]:
    """The run id and `.maintbook/runs/<runbook-id>/<UTC timestamp>/` of a new run."""
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    folder = root / ".maintbook" / "runs" / runbook.id / stamp
    if folder.exists():  # a second run within the same second
        stamp = started.strftime("%Y%m%dT%H%M%S%fZ")
        folder = folder.with_name(stamp)
    return f"{runbook.id}-{stamp}", folder


def extravars(options: RunOptions, run_id: str, root: Path, who: str) -> dict[str, object]:
    """What the compiled playbook gets on the command line: the run, who, and the overrides."""
    values: dict[str, object] = {
        **parse_extra(options.extra),
        "maintbook_run_id": run_id,
        "maintbook_root": str(root),
        "maintbook_operator": who,
    }
    if options.force_window:
        values["maintbook_force_reason"] = options.force_reason
    if options.limit:
        values["maintbook_limit"] = options.limit
    return values


def run_runbook(options: RunOptions) -> int:
    """Run one runbook end to end; the exit code of SPEC §8."""
    if options.force_window and not options.force_reason:
        raise UsageError(
            "--force-window needs --reason TEXT: the record keeps who forced it and why"
        )
    runbook, config = _load(options)
    inventory = _inventory(options, config)
    started, who = utc_now(), operator()
    run_id, folder = run_folder(runbook, config.root, started)
    playbook = folder / "playbook.yml"
    write_atomically(playbook, playbook_text(runbook, options.runbook, config))
    libraries, roles = library_and_roles(config.root, shipped("library"), shipped("roles"))
    request = RunRequest(
        playbook=playbook,
        inventory=inventory,
        artifact_dir=folder / "artifacts",
        library_paths=libraries,
        role_paths=roles,
        extravars=extravars(options, run_id, config.root, who),
        secret_names=tuple(sorted(set(env_names(config.raw)))),
        check=options.check,
    )
    sink: ProgressSink = JsonLines(runbook) if options.fmt == "json" else LiveView(runbook)
    try:
        result = run_playbook(request, sink.on_event)
    except BaseException:
        sink.close("interrupted")
        raise
    if not result.started:
        sink.close("not started")
        raise UsageError(f"Ansible did not start the playbook {playbook}:\n{result.output_tail}")
    forced = {"by": who, "reason": str(options.force_reason)} if options.force_window else None
    info = records.RunInfo(run_id, runbook, started, utc_now(), who, forced, options.check)
    record = records.build_record(info, result.events, state.sent_notices(config.state, run_id))
    sink.close(record["outcome"])
    write_records(record, folder, config)
    if options.fmt == "text":
        _summary(record, folder, config)
    return records.EXIT_CODES[record["outcome"]]


def write_records(record: dict[str, Any], folder: Path, config: Config) -> None:
    write_atomically(folder / "record.json", records.dump_json(record))
    write_atomically(folder / "report.md", records.report(record))
    write_atomically(folder / "metrics.prom", records.metrics(record))
    state.save_run(config.state, record, str(folder))


def _summary(record: dict[str, Any], folder: Path, config: Config) -> None:
    click.echo(f"{record['runbook']}: {record['outcome']}")
    for reason in record.get("refused_because", []):
        click.echo(f"  refused: {reason}")
    click.echo(f"  record:      {folder / 'record.json'}")
    click.echo(f"  report:      {folder / 'report.md'}")
    if config.statuspage.get("provider", "file") == "file":
        click.echo(f"  status page: {config.status_path() / 'index.html'}")
    for name in config.channels:
        channel = config.channel(name)
        if channel.get("type") == "outbox":
            click.echo(f"  outbox:      {channel['path']} ({name})")
