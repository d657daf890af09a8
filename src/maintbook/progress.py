"""Runner events → a live progress view (rich) or one JSON event a line for machines.

Steps are known by the compiler's manifest (task name → step). The percentage counts the
planned precheck, step and verify tasks; it never goes backwards (a rollback does not undo
progress, it is shown as what it is). A failed step shows its error in both sinks.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, TextIO

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from maintbook.records import RESULT_EVENTS, error_of, result_of
from maintbook.runner import Event
from maintbook.vocabulary import StepRef

PLANNED = ("precheck", "steps", "verify")


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class ProgressSink:
    """Follows step tasks: "step k of n" and a percentage that only grows."""

    def __init__(self, title: str, steps: Mapping[str, StepRef],
                 secrets: tuple[str, ...] = ()) -> None:
        self.title = title
        self.steps = steps
        self.plan = [task for task, ref in steps.items() if ref.phase in PLANNED]
        self.plan.sort(key=lambda t: (PLANNED.index(steps[t].phase), steps[t].index))
        self.total = max(1, len(self.plan))
        self.reached = 0
        self.secrets = secrets

    def percent(self, task: str, done: bool) -> float:
        if task in self.plan:
            self.reached = max(self.reached, self.plan.index(task) + (1 if done else 0))
        return round(100 * self.reached / self.total, 1)

    def on_event(self, event: Event) -> None:
        data = event.get("event_data", {})
        task = str(data.get("task", ""))
        kind = event.get("event")
        if kind == "playbook_on_task_start":
            self.task_started(task, self.steps.get(task))
        elif kind in RESULT_EVENTS:
            result = result_of(event)
            error = error_of(data.get("res", {}), self.secrets) \
                if result in ("failed", "unreachable") else None
            self.task_finished(task, self.steps.get(task), str(data.get("host")), result, error)

    def task_started(self, task: str, ref: StepRef | None) -> None:
        raise NotImplementedError

    def task_finished(self, task: str, ref: StepRef | None, host: str, result: str,
                      error: dict[str, Any] | None) -> None:
        raise NotImplementedError

    def note(self, text: str) -> None:
        raise NotImplementedError

    def close(self, outcome: str) -> None:
        raise NotImplementedError


class JsonLines(ProgressSink):
    """One JSON object a line: task starts, results, notes and the end of the run."""

    def __init__(self, title: str, steps: Mapping[str, StepRef], secrets: tuple[str, ...] = (),
                 out: TextIO | None = None) -> None:
        super().__init__(title, steps, secrets)
        self.out = out or sys.stdout  # looked up now: click's runner may have replaced it

    def emit(self, payload: dict[str, Any]) -> None:
        self.out.write(json.dumps({"at": _now(), **payload}) + "\n")
        self.out.flush()

    def task_started(self, task: str, ref: StepRef | None) -> None:
        k = self.plan.index(task) + 1 if task in self.plan else None
        self.emit({"event": "task_start", "task": task, "phase": ref.phase if ref else None,
                   "step": ref.name if ref else None, "k": k, "n": self.total,
                   "percent": self.percent(task, done=False)})

    def task_finished(self, task: str, ref: StepRef | None, host: str, result: str,
                      error: dict[str, Any] | None) -> None:
        payload: dict[str, Any] = {
            "event": "task_result", "task": task, "host": host,
            "phase": ref.phase if ref else None, "step": ref.name if ref else None,
            "result": result, "percent": self.percent(task, done=result != "failed")}
        if error:
            payload["error"] = error
        self.emit(payload)

    def note(self, text: str) -> None:
        self.emit({"event": "note", "text": text, "percent": self.reached * 100 / self.total})

    def close(self, outcome: str) -> None:
        self.emit({"event": "run_end", "outcome": outcome,
                   "percent": round(100 * self.reached / self.total, 1)})


class LiveView(ProgressSink):
    """A rich progress bar with the current step, and a line per finished step."""

    def __init__(self, title: str, steps: Mapping[str, StepRef], secrets: tuple[str, ...] = (),
                 console: Console | None = None) -> None:
        super().__init__(title, steps, secrets)
        self.console = console or Console(stderr=True)
        self.progress = Progress(TextColumn("{task.description}"), BarColumn(),
                                 TaskProgressColumn(), TimeElapsedColumn(),
                                 console=self.console, transient=True)
        self.bar = self.progress.add_task(f"{escape(title)}: opening", total=self.total)
        self.progress.start()

    def task_started(self, task: str, ref: StepRef | None) -> None:
        if ref is None:
            self.progress.update(self.bar, description=escape(task))
            return
        label = f"{ref.phase} {ref.index}: {escape(ref.name)}"
        self.progress.update(self.bar, completed=self.percent(task, False) * self.total / 100,
                             description=label)

    def task_finished(self, task: str, ref: StepRef | None, host: str, result: str,
                      error: dict[str, Any] | None) -> None:
        if ref is None:
            return
        mark = {"failed": "[red]✗", "unreachable": "[red]✗", "skipped": "[dim]-"}.get(
            result, "[green]✓")
        self.console.print(f"{mark}[/] {ref.phase:<8} {escape(ref.name)} "
                           f"[dim]({escape(host)}: {result})[/]", highlight=False)
        if error:
            rc = f" (rc {error['rc']})" if error.get("rc") not in (None, "") else ""
            self.console.print(f"    [red]{escape(str(error['msg']))}{rc}[/]", highlight=False)
            for line in error.get("stderr") or []:
                self.console.print(f"    [dim]{escape(str(line))}[/]", highlight=False)
        self.progress.update(self.bar, completed=self.percent(task, result != "failed")
                             * self.total / 100)

    def note(self, text: str) -> None:
        self.console.print(f"[yellow]![/] {escape(text)}", highlight=False)

    def close(self, outcome: str) -> None:
        self.progress.stop()
