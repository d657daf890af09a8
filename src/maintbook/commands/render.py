"""`maintbook render`: the runbook as a human document, the review summary of a pull request."""

from __future__ import annotations

import json
from pathlib import Path

import click

from maintbook.diagnostics import report, sort_diagnostics
from maintbook.errors import UsageError
from maintbook.model import Runbook, Step
from maintbook.project import load_runbook, require_config
from maintbook.timeparse import format_duration, format_utc


def _text(value: str) -> str:
    """Markdown table-cell safe text."""
    return value.replace("|", "\\|").replace("\n", " ")


def _action(step: Step) -> str:
    if step.kind == "role":
        args = ", ".join(f"{k}={v}" for k, v in step.vars.items())
        return f"role `{step.action}`" + (f" ({_text(args)})" if args else "")
    if step.kind in ("command", "shell"):
        return f"{step.kind} `{_text(step.action)}`"
    if step.kind == "http":
        http = step.action
        expect = f" → {http.get('status', 200)}"
        return f"{http.get('method', 'GET')} `{_text(http['url'])}`{expect}"
    if step.kind == "wait":
        return f"wait {step.action}"
    return f"module `{step.action['name']}`"


def _options(step: Step) -> str:
    parts = []
    if step.when is not None:
        parts.append(f"when `{_text(str(step.when))}`")
    if step.timeout is not None:
        parts.append(f"timeout {format_duration(step.timeout)}")
    if step.retries:
        parts.append(f"retries {step.retries}")
    if step.run_once:
        parts.append("run once")
    if step.delegate_to:
        parts.append(f"on {step.delegate_to}")
    if step.rollback:
        parts.append("own rollback: " + "; ".join(_text(s.name) for s in step.rollback))
    return ", ".join(parts)


def _steps(title: str, steps: tuple[Step, ...]) -> list[str]:
    if not steps:
        return []
    lines = ["", f"## {title}", "", "| # | step | action | options |", "|---|---|---|---|"]
    for index, step in enumerate(steps, start=1):
        lines.append(f"| {index} | {_text(step.name)} | {_action(step)} | {_options(step)} |")
    return lines


def render_markdown(rb: Runbook) -> str:
    approvals = ", ".join(f"{a.role} ({a.by})" for a in rb.approvals) or "none"
    lines = [
        f"# {rb.id}: {_text(rb.title)}",
        "",
        "| | |",
        "|---|---|",
        f"| Type | {rb.type} (risk {rb.risk}) |",
        f"| Window | {format_utc(rb.start)} to {format_utc(rb.end)} "
        f"({format_duration(rb.duration)}) |",
        f"| Owner | {_text(rb.owner)} |",
        f"| Systems | {', '.join(rb.systems)} |",
        f"| Targets | `{_text(rb.targets.hosts)}`"
        + (f", serial {rb.targets.serial}" if rb.targets.serial is not None else "")
        + " |",
        f"| Approvals | {_text(approvals)} |",
        f"| Notices | {', '.join(rb.notify) or 'none'} |",
        f"| Status page | {', '.join(rb.components)} |",
        f"| Alert silence | {_text(', '.join(rb.silence)) or 'none'} |",
        f"| Maintenance mode | {'yes' if rb.maintenance_mode else 'no'} |",
    ]
    if rb.description:
        lines += ["", rb.description.strip()]
    if rb.justification:
        lines += ["", f"**Why:** {rb.justification.strip()}"]
    lines += _steps("Precheck", rb.precheck) + _steps("Steps", rb.steps)
    lines += _steps("Verify", rb.verify) + _steps("Rollback", rb.rollback)
    return "\n".join(lines) + "\n"


def run_render(path: Path, config_path: Path | None, fmt: str) -> int:
    config = require_config(config_path, "text")
    if not path.is_file():
        raise UsageError(f"{path}: no such runbook file")
    loaded = load_runbook(path, config)
    if loaded.runbook is None:
        click.echo(report(sort_diagnostics(loaded.diagnostics), "text"), nl=False, err=True)
        return 1
    if fmt == "json":
        click.echo(json.dumps(loaded.document.data if loaded.document else {}, indent=2))
    else:
        click.echo(render_markdown(loaded.runbook), nl=False)
    return 0
