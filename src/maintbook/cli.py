"""The command line: click wiring only; each command calls a typed function returning a code."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import click

from maintbook import __version__
from maintbook.errors import MaintbookError
from maintbook.timeparse import parse_duration, parse_rfc3339


class Timestamp(click.ParamType):  # type: ignore[type-arg]
    """An RFC 3339 timestamp option, e.g. --now 2026-12-06T01:00:00Z."""

    name = "timestamp"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> datetime:
        if isinstance(value, datetime):
            return value
        try:
            return parse_rfc3339(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


TIMESTAMP = Timestamp()


class Duration(click.ParamType):  # type: ignore[type-arg]
    """A duration option, e.g. --horizon 90d."""

    name = "duration"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> timedelta:
        if isinstance(value, timedelta):
            return value
        try:
            return parse_duration(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


DURATION = Duration()
PATHS = click.Path(path_type=Path)

config_option = click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path),
    default=None,
    help="Project configuration (default ./maintbook.yml, built-in defaults where absent).",
)
now_option = click.option(
    "--now", type=TIMESTAMP, default=None, help="Judge as if it were this time (RFC 3339)."
)


def format_option(*choices: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(choices),
        default=choices[0],
        show_default=True,
        help="Output format.",
    )


def finish(code: int) -> None:
    sys.exit(code)


def guarded(fn: Callable[[], int]) -> None:
    """The one error boundary: expected failures become a message and their exit code."""
    try:
        code = fn()
    except MaintbookError as exc:
        click.echo(f"maintbook: {exc}", err=True)
        code = exc.exit_code
    finish(code)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="maintbook")
def main() -> None:
    """Declarative maintenance runbooks: validate, compile to Ansible, run, report."""


inventory_option = click.option(
    "-i",
    "--inventory",
    type=PATHS,
    default=None,
    help="Resolve target patterns to hosts through this inventory for overlap checks.",
)


def checking_command(fn: Callable[..., None]) -> Callable[..., None]:
    """The arguments validate and check share."""
    for option in reversed(
        (
            click.argument("paths", nargs=-1, required=True, type=PATHS),
            config_option,
            now_option,
            inventory_option,
            format_option("text", "json", "github"),
        )
    ):
        fn = option(fn)
    return main.command()(fn)


@checking_command
def validate(
    paths: tuple[Path, ...],
    config_path: Path | None,
    now: datetime | None,
    inventory: Path | None,
    fmt: str,
) -> None:
    """Schema, semantic and policy checks of runbook files or folders."""
    from maintbook.commands.validate import run_validate

    guarded(lambda: run_validate(paths, config_path, now, fmt, inventory))


@checking_command
@click.option(
    "--horizon",
    type=DURATION,
    default="90d",
    show_default=True,
    help="How far ahead the occurrences of recurring runbooks are judged.",
)
def check(
    paths: tuple[Path, ...],
    config_path: Path | None,
    now: datetime | None,
    inventory: Path | None,
    fmt: str,
    horizon: timedelta,
) -> None:
    """Policy and calendar conflicts only."""
    from maintbook.commands.check import run_check

    guarded(lambda: run_check(paths, config_path, now, fmt, inventory, horizon))


@main.command()
@click.argument("runbook", type=PATHS)
@config_option
@click.option("--after", type=TIMESTAMP, default=None, help="Earliest start (default: now).")
@click.option(
    "--count", type=click.IntRange(1, 1000), default=5, show_default=True, help="How many slots."
)
@now_option
@inventory_option
@format_option("text", "json")
def schedule(
    runbook: Path,
    config_path: Path | None,
    after: datetime | None,
    count: int,
    now: datetime | None,
    inventory: Path | None,
    fmt: str,
) -> None:
    """The next slots that satisfy every policy rule."""
    from maintbook.commands.schedule import run_schedule

    guarded(lambda: run_schedule(runbook, config_path, after, count, now, fmt, inventory))


@main.command()
@config_option
@click.option("--from", "start", type=TIMESTAMP, default=None, help="Range start (default today).")
@click.option("--to", "end", type=TIMESTAMP, default=None, help="Range end (default +30 days).")
@click.option("--ics", "ics_path", type=PATHS, default=None, help="Also write an ICS file.")
@now_option
@format_option("text", "json")
def calendar(
    config_path: Path | None,
    start: datetime | None,
    end: datetime | None,
    ics_path: Path | None,
    now: datetime | None,
    fmt: str,
) -> None:
    """Booked windows, blackouts and allowed windows in a range; ICS export."""
    from maintbook.commands.calendar_cmd import run_calendar

    guarded(lambda: run_calendar(config_path, start, end, ics_path, fmt, now))


@main.command(name="compile")
@click.argument("paths", nargs=-1, required=True, type=PATHS)
@config_option
@click.option(
    "-o",
    "--output",
    "out_dir",
    type=PATHS,
    default=None,
    help="Folder for the playbooks (default .maintbook/build/).",
)
@format_option("text", "json", "github")
def compile_command(
    paths: tuple[Path, ...], config_path: Path | None, out_dir: Path | None, fmt: str
) -> None:
    """Compile runbooks into plain Ansible playbooks."""
    from maintbook.commands.compile import run_compile

    guarded(lambda: run_compile(paths=paths, config_path=config_path, out_dir=out_dir, fmt=fmt))


@main.command()
@click.argument("runbook", type=PATHS)
@config_option
@click.option(
    "-i",
    "--inventory",
    type=PATHS,
    default=None,
    help="Ansible inventory (default inventory/local.yml).",
)
@click.option("--check", is_flag=True, help="Run the whole lifecycle in Ansible check mode.")
@click.option("--limit", default=None, help="Limit the targets to this inventory pattern.")
@click.option(
    "-e",
    "--extra-vars",
    "extra",
    multiple=True,
    metavar="K=V",
    help="An extra variable for the steps (repeatable).",
)
@click.option(
    "--force-window",
    is_flag=True,
    help="Run outside the window and blackouts; needs --reason, recorded.",
)
@click.option("--reason", default=None, help="Why the window is forced.")
@click.option(
    "--remote",
    metavar="WORKER",
    default=None,
    help="Run the playbook on this SSH destination through ansible-runner worker "
    "(docs/remote.md).",
)
@click.option(
    "--ssh-config", type=PATHS, default=None, help="The SSH configuration file for --remote."
)
@now_option
@format_option("text", "json")
def run(
    runbook: Path,
    config_path: Path | None,
    inventory: Path | None,
    check: bool,
    limit: str | None,
    extra: tuple[str, ...],
    force_window: bool,
    reason: str | None,
    remote: str | None,
    ssh_config: Path | None,
    now: datetime | None,
    fmt: str,
) -> None:
    """Compile and run a runbook (RUNBOOK or RUNBOOK@OCCURRENCE) through ansible-runner,
    with a record at the end."""
    from maintbook.commands.run import RunOptions, run_runbook

    options = RunOptions(
        runbook, config_path, inventory, check, limit, extra, reason, force_window, fmt, now,
        remote, ssh_config,
    )
    guarded(lambda: run_runbook(options=options))


@main.command()
@click.argument("paths", nargs=-1, required=True, type=PATHS)
@click.option("--to", "to", required=True, type=PATHS, help="A new folder for the project.")
@click.option("-i", "--inventory", type=PATHS, default=None,
              help="The inventory to put beside it (default inventory/local.yml).")
@config_option
@format_option("text", "json", "github")
def export(paths: tuple[Path, ...], to: Path, inventory: Path | None,
           config_path: Path | None, fmt: str) -> None:
    """A self-contained Ansible project of the runbooks, for AWX/AAP or any runner."""
    from maintbook.commands.export import run_export

    guarded(lambda: run_export(paths=paths, to=to, inventory=inventory,
                               config_path=config_path, fmt=fmt))


@main.command()
@click.argument("run")
@config_option
@format_option("markdown", "json")
def report(run: str, config_path: Path | None, fmt: str) -> None:
    """The post-maintenance review of a run (a runbook id means its latest run)."""
    from maintbook.commands.report import run_report

    guarded(lambda: run_report(key=run, config_path=config_path, fmt=fmt))


@main.command()
@click.argument("runbook_id", required=False)
@click.option("--last", type=click.IntRange(1, 10000), default=20, show_default=True,
              help="How many runs, newest first.")
@config_option
@format_option("text", "json")
def runs(runbook_id: str | None, last: int, config_path: Path | None, fmt: str) -> None:
    """The run history: outcome, started, ended; crashed runs named as such."""
    from maintbook.commands.runs import run_runs

    guarded(lambda: run_runs(runbook=runbook_id, last=last, config_path=config_path,
                              fmt=fmt))


@main.command()
@click.argument("run_id", required=False)
@config_option
@format_option("text")
def recover(run_id: str | None, config_path: Path | None, fmt: str) -> None:
    """Close what crashed runs left open: page, silence, window; recorded as interrupted."""
    from maintbook.commands.recover import run_recover

    guarded(lambda: run_recover(run_id=run_id, config_path=config_path, fmt=fmt))


@main.command()
@click.argument("runbook")
@click.option("--reason", required=True, help="Why it will not take place (recorded, told).")
@config_option
@format_option("text")
def cancel(runbook: str, reason: str, config_path: Path | None, fmt: str) -> None:
    """Cancel a maintenance (RUNBOOK or RUNBOOK@OCCURRENCE) that has not run."""
    from maintbook.commands.cancel import run_cancel

    guarded(lambda: run_cancel(target=runbook, reason=reason, config_path=config_path,
                                fmt=fmt))


@main.command()
@click.argument("runbook")
@click.option("--by", "by", required=True, help="How much longer, e.g. 30m.")
@click.option("--reason", required=True, help="Why it takes longer (recorded, told).")
@config_option
@format_option("text")
def extend(runbook: str, by: str, reason: str, config_path: Path | None, fmt: str) -> None:
    """Lengthen the window of a running maintenance within its type's maximum."""
    from maintbook.commands.extend import run_extend

    guarded(lambda: run_extend(target=runbook, by=by, reason=reason,
                                config_path=config_path, fmt=fmt))


@main.command()
@click.argument("runbook", type=PATHS)
@config_option
@now_option
@format_option("markdown", "json")
def render(runbook: Path, config_path: Path | None, now: datetime | None, fmt: str) -> None:
    """The reviewer's page: when, notices, approvals, conflicts, steps, what rolls back."""
    from maintbook.commands.render import run_render

    guarded(lambda: run_render(path=runbook, config_path=config_path, fmt=fmt, now=now))


@main.command()
@click.argument("paths", nargs=-1, type=PATHS)
@config_option
@click.option("-i", "--inventory", type=PATHS, default=None,
              help="Inventory of the `run: auto` occurrences tick starts "
              "(default inventory/local.yml).")
@now_option
@format_option("text")
def tick(paths: tuple[Path, ...], config_path: Path | None, inventory: Path | None,
         now: datetime | None, fmt: str) -> None:
    """Send the calendar's notices once, recover crashed runs, start due `run: auto`
    occurrences (cron / CI schedule)."""
    from maintbook.commands.tick import run_tick

    guarded(lambda: run_tick(paths=paths, config_path=config_path, inventory=inventory,
                             now=now, fmt=fmt))


@main.command()
@click.argument("runbook", type=PATHS)
@click.option("--role", required=True, help="The approving role, e.g. vp-engineering.")
@click.option("--by", "by", required=True, help="Who approves (not the runbook's owner).")
@click.option("--at", "at", type=TIMESTAMP, default=None, help="When (default: now).")
@config_option
def approve(runbook: Path, role: str, by: str, at: datetime | None,
            config_path: Path | None) -> None:
    """Approve a runbook's current content: writes {role, by, at, digest, sections}."""
    from maintbook.commands.approve import run_approve

    guarded(lambda: run_approve(path=runbook, role=role, by=by, at=at, config_path=config_path))


@main.command()
@click.argument("base")
@click.argument("head", required=False)
@config_option
@now_option
@format_option("text", "json")
def diff(base: str, head: str | None, config_path: Path | None, now: datetime | None,
         fmt: str) -> None:
    """What changed in meaning in each runbook from BASE to HEAD (default: the work tree),
    the approvals it invalidated, and the compiled playbook's diff."""
    from maintbook.commands.diff import run_diff

    guarded(lambda: run_diff(base=base, head=head, config_path=config_path, fmt=fmt, now=now))


@main.command()
@click.argument("directory", required=False, default=".", type=PATHS)
@now_option
def init(directory: Path, now: datetime | None) -> None:
    """A new runbook repository: maintbook.yml, runbooks/, inventory/, roles/, CI, pre-commit."""
    from maintbook.commands.init import run_init

    guarded(lambda: run_init(directory=directory, now=now))
