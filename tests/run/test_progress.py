"""The progress view and the JSON event stream, fed with runner-shaped events and a manifest."""

from __future__ import annotations

import io
import json

from rich.console import Console

from maintbook.progress import JsonLines, LiveView
from maintbook.vocabulary import StepRef

REFS = [StepRef("precheck", 1, "Disk [bold]room[/bold]"), StepRef("steps", 1, "Backup"),
        StepRef("steps", 2, "Vacuum"), StepRef("rollback", 1, "Restore")]
STEPS = {ref.task: ref for ref in REFS}


def event(kind: str, task: str, **res: object) -> dict[str, object]:
    return {"event": kind, "event_data": {"task": task, "host": "db1", "res": res}}


STREAM = [
    event("playbook_on_task_start", "Open the maintenance: check the gate, take the lease"),
    event("playbook_on_task_start", "Precheck | Disk [bold]room[/bold]"),
    event("runner_on_ok", "Precheck | Disk [bold]room[/bold]"),
    event("playbook_on_task_start", "Step | Backup"),
    event("runner_on_ok", "Step | Backup", changed=True),
    event("playbook_on_task_start", "Step | Vacuum"),
    event("runner_on_failed", "Step | Vacuum", msg="non-zero return code", rc=3,
          stderr_lines=["token=s3cr3t-value", "boom-123"]),
    event("playbook_on_task_start", "Rollback | Restore"),
    event("runner_on_ok", "Rollback | Restore", changed=True),
]


def test_json_lines_give_step_k_of_n_a_time_and_a_percent_that_never_goes_back():
    out = io.StringIO()
    sink = JsonLines("MNT-2026-0101", STEPS, ("s3cr3t-value",), out)
    for item in STREAM:
        sink.on_event(item)
    sink.close("rolled_back")
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert all(line["at"].endswith("Z") for line in lines)
    starts = [(e["step"], e["k"], e["n"]) for e in lines if e["event"] == "task_start"]
    assert starts == [(None, None, 3), ("Disk [bold]room[/bold]", 1, 3), ("Backup", 2, 3),
                      ("Vacuum", 3, 3), ("Restore", None, 3)]
    percents = [e["percent"] for e in lines]
    assert percents == sorted(percents)
    (failed,) = [e for e in lines if e.get("result") == "failed"]
    assert failed["error"] == {"msg": "non-zero return code", "rc": 3,
                               "stderr": ["token=********", "boom-123"]}
    assert lines[-1]["event"] == "run_end" and lines[-1]["outcome"] == "rolled_back"


def test_live_view_prints_each_step_with_literal_names_and_the_error():
    buffer = io.StringIO()
    view = LiveView("MNT-2026-0101", STEPS, ("s3cr3t-value",),
                    Console(file=buffer, width=120, force_terminal=False))
    for item in STREAM:
        view.on_event(item)
    view.close("rolled_back")
    text = buffer.getvalue()
    assert "✓ precheck Disk [bold]room[/bold] (db1: ok)" in text
    assert "✓ steps    Backup (db1: changed)" in text
    assert "✗ steps    Vacuum (db1: failed)" in text
    assert "non-zero return code (rc 3)" in text and "boom-123" in text
    assert "s3cr3t-value" not in text
    assert "✓ rollback Restore (db1: changed)" in text
