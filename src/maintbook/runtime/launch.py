"""A supervised run (what `maintbook run` and `tick`'s auto runs do): compile, run through
ansible-runner under supervision, write the record.

The playbook opens, runs and closes the maintenance itself; this module supervises it (see
maintbook.runtime.supervisor) and then writes record.json, report.md and metrics from the
state database and the events.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import click

from maintbook import records, review, shared
from maintbook.build import compile_runbook, unwind_playbook, write_atomically
from maintbook.config import Config
from maintbook.diagnostics import report, sort_diagnostics
from maintbook.errors import UsageError
from maintbook.lifecycle import EXIT_CODES
from maintbook.metrics import metrics
from maintbook.model import Runbook
from maintbook.progress import JsonLines, LiveView, ProgressSink
from maintbook.project import load_concrete, load_runbook, require_config, select_occurrence
from maintbook.remote import Expected, Worker, check_worker
from maintbook.resources import shipped
from maintbook.runner import (
    Event,
    RunRequest,
    RunResult,
    batch_forks,
    plugin_paths,
    run_playbook,
)
from maintbook.runtime import supervisor as sv
from maintbook.secrets import SecretServer, env_names
from maintbook.store import Store, leases, ledger, runs
from maintbook.timeparse import format_utc, utc_now
from maintbook.trace import Trace
from maintbook.vocabulary import StepRef, load_manifest

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
    now: datetime | None = None  # judge the gate as if it were then (tests, what-if; recorded)
    remote: str | None = None  # an SSH destination that runs the playbook (docs/remote.md)
    ssh_config: Path | None = None


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


def _load(options: RunOptions, config: Config) -> Runbook:
    path_text, _, occurrence = str(options.runbook).partition("@")
    if not Path(path_text).is_file():
        raise UsageError(f"{path_text}: no such runbook file")
    loaded = load_runbook(Path(path_text), config)
    if loaded.runbook is None:
        raise UsageError("the runbook is not valid:\n"
                         + report(sort_diagnostics(loaded.diagnostics), "text").rstrip("\n"))
    if occurrence:
        return load_concrete(str(options.runbook), config, utc_now())
    ahead = options.force_window or options.check
    return select_occurrence(loaded.runbook, config, options.now or utc_now(), ahead=ahead)


def _inventory(options: RunOptions, config: Config) -> Path:
    inventory = options.inventory or config.root / DEFAULT_INVENTORY
    if not inventory.exists():
        raise UsageError(f"{inventory}: no such inventory (give one with -i)")
    return inventory.resolve()


def run_folder(runbook: Runbook, root: Path, started: datetime) -> tuple[str, Path]:
    """The run id and `.maintbook/runs/<maintenance>/<UTC timestamp>/` of a new run, the
    folder made here and only here: two runs started within one tick of the clock (which
    may tick in milliseconds) take the next free microsecond, never one folder and one id."""
    parent = root / ".maintbook" / "runs" / runbook.maintenance_id.replace("@", "_")
    parent.mkdir(parents=True, exist_ok=True)
    while True:
        stamp = started.strftime("%Y%m%dT%H%M%S%fZ")
        try:
            (parent / stamp).mkdir()
        except FileExistsError:
            started += timedelta(microseconds=1)
            continue
        return f"{runbook.maintenance_id}-{stamp}", parent / stamp


def _report_crashed(store: Store, note: Any) -> None:
    now = utc_now()
    with store.read() as tx:
        held = leases.live(tx)
    for lease in held:
        if leases.holder_state(lease, now) == "crashed":
            note(f"run {lease.run_id} of {lease.maintenance} crashed and still holds "
                 f"{', '.join(lease.systems)}; maintbook recover {lease.run_id} closes it")


@dataclass
class Launch:
    """One supervised run: what it needs, and what happened."""

    options: RunOptions
    runbook: Runbook
    config: Config
    run_id: str
    folder: Path
    steps: dict[str, StepRef]
    request: RunRequest
    sink: ProgressSink
    watch: sv.Supervisor


def _request(launch_folder: Path, playbook: Path, inventory: Path, config: Config,
             options: RunOptions, run_id: str, who: str, socket: str | None,
             extra: dict[str, Any] | None = None) -> RunRequest:
    extravars: dict[str, Any] = {"maintbook_run_id": run_id, "maintbook_operator": who,
                                 **(extra or {})}
    if options.force_window:
        extravars["maintbook_force_reason"] = options.force_reason
    if options.limit:
        extravars["maintbook_limit"] = options.limit
    if options.now is not None:
        extravars["maintbook_now"] = format_utc(options.now)

    return RunRequest(
        playbook=playbook, inventory=inventory, artifact_dir=launch_folder,
        paths=plugin_paths(config.root, shipped), extravars=extravars,
        user_vars=parse_extra(options.extra),
        secret_names=tuple(sorted(set(env_names(config.raw)))), secrets_socket=socket,
        check=options.check, worker=_worker(options))


def _worker(options: RunOptions) -> Worker | None:
    if options.remote is None:
        if options.ssh_config is not None:
            raise UsageError("--ssh-config goes with --remote WORKER")
        return None
    return Worker(options.remote, options.ssh_config)


def _check_worker(request: RunRequest, config: Config) -> None:
    """Before anything opens: can the worker run this playbook (maintbook.remote)?"""
    if request.worker is not None:
        check_worker(request.worker, Expected(request.playbook, shipped("action_plugins"),
                                              config.state.path))


def _unwind(launch: Launch, store: Store, result: RunResult) -> None:
    """After the first interrupt: roll back what ran (or not, `on_interrupt: stop`), close."""
    rb, watch = launch.runbook, launch.watch
    facts = watch.trace.opened
    if facts is None or sv.still_held(store, launch.run_id) is None:
        return
    opened = facts["maintbook_run"]
    roles = [r.index for r in launch.steps.values() if r.phase == "steps"
             and rb.steps[r.index - 1].kind == "role"]
    ran = watch.trace.what_ran(roles)
    sv.request_stop(launch.config.state, launch.run_id, "interrupt")
    if rb.on_interrupt == "rollback" and ran and not watch.hard_stop():
        path = launch.folder / "unwind.yml"
        write_atomically(path, unwind_playbook(rb, Path(rb.file), launch.config,
                                               launch.folder))
        request = _request(launch.folder / "unwind", path, launch.request.inventory,
                           launch.config, launch.options, launch.run_id,
                           str(opened.get("operator", "")), launch.request.secrets_socket,
                           {**facts, "maintbook_unwind": ran, "maintbook_interrupted": True})
        run_playbook(request, launch.sink.on_event, cancel=watch.hard_stop)
    note = sv.HARD_STOP if watch.hard_stop() else sv.NOT_UNDONE
    sv.close_here(store, launch.run_id, sv.interrupted_ending(
        opened.get("hosts") or [], ran, note, rb.maintenance_mode))


def _supervise(launch: Launch, store: Store) -> RunResult:
    watch = launch.watch

    def on_event(event: Event) -> None:
        watch.on_event(event)
        launch.sink.on_event(event)

    with watch.handling_signals(), watch.heartbeat():
        result = run_playbook(launch.request, on_event, cancel=watch.interrupted)
        if watch.interrupted():
            _unwind(launch, store, result)
        elif watch.trace.started and (opened := watch.trace.opened_run):
            sv.close_here(store, launch.run_id, sv.stopped_early_ending(
                opened.get("hosts") or [], watch.trace.unreachable, watch.trace.what_ran(()),
                launch.runbook.maintenance_mode, result.problem))
    return result


def _prepare(options: RunOptions, config: Config) -> Launch:
    runbook = _load(options, config)
    inventory = _inventory(options, config)
    started, who = utc_now(), operator()
    run_id, folder = run_folder(runbook, config.root, started)
    compiled = compile_runbook(runbook, Path(runbook.file), config, folder, "playbook")
    for name, text in compiled.files.items():
        write_atomically(folder / name, text)
    steps = load_manifest(compiled.files["playbook.steps.json"])
    secrets = tuple(os.environ[n] for n in set(env_names(config.raw)) if os.environ.get(n))
    sink: ProgressSink = (JsonLines if options.fmt == "json" else LiveView)(
        runbook.maintenance_id, steps, secrets)
    occurrence = {"maintbook_occurrence": runbook.occurrence} if runbook.occurrence else {}
    request = replace(_request(folder / "artifacts", folder / compiled.playbook, inventory,
                               config, options, run_id, who, None, occurrence),
                      forks=batch_forks(runbook.targets.serial))
    watch = sv.Supervisor(run_id, config.state, sink.note, Trace(steps, secrets))
    return Launch(options, runbook, config, run_id, folder, steps, request, sink, watch)


def run_runbook(*, options: RunOptions) -> int:
    """Run one runbook end to end; the exit code of SPEC §9."""
    if options.force_window and not options.force_reason:
        raise UsageError("--force-window needs --reason TEXT: the record keeps who forced it "
                         "and why")
    config = require_config(options.config_path, "text")
    store = Store.open(config.state, verify=True)  # a damaged database stops everything here
    try:
        _report_crashed(store, lambda text: click.echo(f"maintbook: {text}", err=True))
        launch = _prepare(options, config)
        _check_worker(launch.request, config)
        if not options.check:  # a run books its window for the other checkouts
            shared.book(store, config, [launch.runbook], options.now or utc_now())
        values = {n: os.environ[n] for n in set(env_names(config.raw)) if os.environ.get(n)}
        with SecretServer(values) as server:
            launch.request = replace(launch.request, secrets_socket=server.path)
            result = _supervise(launch, store)
        return _finish(launch, store, result)
    finally:
        store.close()


def _finish(launch: Launch, store: Store, result: RunResult) -> int:
    with store.read() as tx:
        run = runs.get(tx, launch.run_id)
        notices = ledger.of_run(tx, launch.run_id)
    if run is None and launch.watch.interrupted():
        launch.sink.close("interrupted")
        click.echo("maintbook: interrupted before the maintenance opened; nothing changed",
                   err=True)
        return EXIT_CODES["interrupted"]
    if run is None:
        launch.sink.close("not started")
        raise UsageError(f"Ansible did not open the run ({launch.request.playbook}):\n"
                         f"{result.output_tail}")
    record = records.build_record(run, notices, launch.watch.trace.entries,
                                  (launch.runbook.start, launch.runbook.end),
                                  launch.runbook.title, launch.sink.secrets)
    launch.sink.close(record["outcome"])
    write_records(record, launch.folder, launch.config, store)
    if result.problem and not launch.watch.interrupted():
        click.echo(f"maintbook: {result.problem}", err=True)
    if launch.options.fmt == "text":
        _summary(record, launch.folder, launch.config)
    return records.exit_code(record, EXIT_CODES)


def write_records(record: dict[str, Any], folder: Path, config: Config, store: Store) -> None:
    write_atomically(folder / "record.json", records.dump_json(record))
    write_atomically(folder / "report.md", review.report(record))
    write_atomically(folder / "metrics.prom", metrics([record]))
    with store.write() as tx:
        runs.set_folder(tx, record["run_id"], str(folder))
        history = [r for r in runs.history(tx, last=10000) if not r.check_run and r.outcome]
    latest = [{"runbook": r.runbook, "type": r.type, "outcome": r.outcome,
               "started_at": r.started_at, "ended_at": r.ended_at or r.started_at}
              for r in history]
    write_atomically(config.root / ".maintbook" / "metrics.prom", metrics(latest))


def _summary(record: dict[str, Any], folder: Path, config: Config) -> None:
    click.echo(f"{record['maintenance']}: {record['outcome']}"
               + (" (check)" if record.get("check") else ""))
    click.echo(f"  run:         {record['run_id']}")
    for reason in record.get("refused_because", []):
        click.echo(f"  refused: {reason}")
    for failure in record.get("failures", []):
        click.echo(f"  failed: {failure.get('phase')} {failure.get('step')!r} on "
                   f"{failure.get('host')}: {failure.get('msg')}")
    if record.get("drained"):
        click.echo(f"  drained:     {', '.join(record['drained'])} (left in maintenance mode)")
    for error in record.get("closing_errors", []):
        click.echo(f"  still open:  {error}")
    click.echo(f"  record:      {folder / 'record.json'}")
    click.echo(f"  report:      {folder / 'report.md'}")
    if config.statuspage.get("provider", "file") == "file":
        click.echo(f"  status page: {config.status_path() / 'index.html'}")
    for name in config.channels:
        channel = config.channel(name)
        if channel.get("type") == "outbox":
            click.echo(f"  outbox:      {channel['path']} ({name})")
    click.echo(f"  ended:       {format_utc(utc_now())}")
