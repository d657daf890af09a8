"""The progress view and the JSON event stream, fed with runner-shaped events."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

from rich.console import Console

from maintbook.model import Runbook, Step, Targets
from maintbook.progress import JsonLines, LiveView

RUNBOOK = Runbook(
    file="rb.yml",
    id="MNT-2026-0101",
    title="T",
    owner="o",
    type="zero-downtime",
    risk="low",
    systems=("web",),
    start=datetime(2026, 12, 6, 2, tzinfo=UTC),
    duration=timedelta(hours=1),
    targets=Targets("web"),
    precheck=(Step("Disk [bold]room[/bold]", "command", "df", 3),),
    steps=(Step("Backup", "command", "b", 5), Step("Vacuum", "command", "v", 7)),
)


def events(*pairs: tuple[str, str, str]) -> list[dict]:
    out = []
    for kind, task, extra in pairs:
        data = {"task": task, "host": "db1"}
        if extra == "changed":
            data["res"] = {"changed": True}
        out.append({"event": kind, "event_data": data})
    return out


STREAM = events(
    ("playbook_on_task_start", "Check the maintenance window", ""),
    ("playbook_on_task_start", "Precheck | Disk [bold]room[/bold]", ""),
    ("runner_on_ok", "Precheck | Disk [bold]room[/bold]", ""),
    ("playbook_on_task_start", "Step | Backup", ""),
    ("runner_on_ok", "Step | Backup", "changed"),
    ("playbook_on_task_start", "Step | Vacuum", ""),
    ("runner_on_failed", "Step | Vacuum", ""),
)


def test_json_lines_give_step_k_of_n_and_percent():
    out = io.StringIO()
    sink = JsonLines(RUNBOOK, out)
    for event in STREAM:
        sink.on_event(event)
    sink.close("rolled_back")
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    starts = [
        (e["task"], e["k"], e["n"], e["percent"]) for e in lines if e["event"] == "task_start"
    ]
    assert starts == [
        ("Check the maintenance window", 0, 3, 0.0),
        ("Precheck | Disk [bold]room[/bold]", 1, 3, 33.3),
        ("Step | Backup", 2, 3, 66.7),
        ("Step | Vacuum", 3, 3, 100.0),
    ]
    results = [(e["phase"], e["result"]) for e in lines if e["event"] == "task_result"]
    assert results == [("precheck", "ok"), ("steps", "changed"), ("steps", "failed")]
    assert lines[-1] == {"event": "run_end", "outcome": "rolled_back"}


def test_live_view_prints_each_finished_step_with_literal_names():
    buffer = io.StringIO()
    view = LiveView(RUNBOOK, Console(file=buffer, width=120, force_terminal=False))
    for event in STREAM:
        view.on_event(event)
    view.close("rolled_back")
    text = buffer.getvalue()
    assert "✓ precheck Disk [bold]room[/bold] (db1: ok)" in text
    assert "✓ steps    Backup (db1: changed)" in text
    assert "✗ steps    Vacuum (db1: failed)" in text
    assert view.progress.tasks[0].completed == 2
