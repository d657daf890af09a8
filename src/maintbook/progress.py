"""Runner events → a live progress view (rich) or one JSON event a line for machines."""

from __future__ import annotations

import json
import sys
from typing import Any, TextIO

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from maintbook.model import Runbook
from maintbook.records import RESULT_EVENTS, result_of, step_of
from maintbook.runner import Event


def planned_steps(runbook: Runbook) -> list[tuple[str, str]]:
    """(phase, name) of every step the run will go through when nothing fails."""
    return [
        (phase, step.name)
        for phase in ("precheck", "steps", "verify")
        for step in runbook.phase(phase)
    ]


class ProgressSink:
    """Follows step tasks: "step k of n" and the percentage done."""

    def __init__(self, runbook: Runbook) -> None:
        self.plan = planned_steps(runbook)
        self.total = max(1, len(self.plan))

    def position(self, phase: str, name: str) -> int:
        try:
            return self.plan.index((phase, name)) + 1
        except ValueError:
            return 0

    def on_event(self, event: Event) -> None:
        """Dispatch a runner event to task_started / task_finished."""
        data = event.get("event_data", {})
        task = str(data.get("task", ""))
        kind = event.get("event")
        if kind == "playbook_on_task_start":
            self.task_started(task, step_of(task))
        elif kind in RESULT_EVENTS:
            self.task_finished(task, step_of(task), str(data.get("host")), result_of(event))

    def task_started(self, task: str, step: tuple[str, str] | None) -> None:
        raise NotImplementedError

    def task_finished(
        self, task: str, step: tuple[str, str] | None, host: str, result: str
    ) -> None:
        raise NotImplementedError

    def close(self, outcome: str) -> None:
        raise NotImplementedError


class JsonLines(ProgressSink):
    """One JSON object a line: task starts, results and the end of the run."""

    def __init__(self, runbook: Runbook, out: TextIO | None = None) -> None:
        super().__init__(runbook)
        self.out = out or sys.stdout  # looked up now: click's runner may have replaced it

    def emit(self, payload: dict[str, Any]) -> None:
        self.out.write(json.dumps(payload) + "\n")
        self.out.flush()

    def task_started(self, task: str, step: tuple[str, str] | None) -> None:
        k = self.position(*step) if step else 0
        self.emit(
            {
                "event": "task_start",
                "task": task,
                "phase": step[0] if step else None,
                "k": k,
                "n": self.total,
                "percent": round(100 * k / self.total, 1),
            }
        )

    def task_finished(
        self, task: str, step: tuple[str, str] | None, host: str, result: str
    ) -> None:
        self.emit(
            {
                "event": "task_result",
                "task": task,
                "host": host,
                "phase": step[0] if step else None,
                "result": result,
            }
        )

    def close(self, outcome: str) -> None:
        self.emit({"event": "run_end", "outcome": outcome})


class LiveView(ProgressSink):
    """A rich progress bar with the current step, and a line per finished step."""

    def __init__(self, runbook: Runbook, console: Console | None = None) -> None:
        super().__init__(runbook)
        self.console = console or Console(stderr=True)
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            TimeElapsedColumn(),
            console=self.console,
            transient=True,
        )
        self.bar = self.progress.add_task(f"{runbook.id}: opening", total=self.total)
        self.progress.start()

    def task_started(self, task: str, step: tuple[str, str] | None) -> None:
        if step is None:
            self.progress.update(self.bar, description=escape(task))
        elif k := self.position(*step):
            label = f"step {k} of {self.total}: {escape(step[1])}"
            self.progress.update(self.bar, completed=k - 1, description=label)

    def task_finished(
        self, task: str, step: tuple[str, str] | None, host: str, result: str
    ) -> None:
        if step is None:
            return
        mark = {"failed": "[red]✗", "skipped": "[dim]-"}.get(result, "[green]✓")
        self.console.print(
            f"{mark}[/] {step[0]:<8} {escape(step[1])} [dim]({escape(host)}: {result})[/]",
            highlight=False,
        )
        if (k := self.position(*step)) and result != "failed":
            self.progress.update(self.bar, completed=k)

    def close(self, outcome: str) -> None:
        self.progress.stop()
