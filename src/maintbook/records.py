"""Runner events → the run's record: record.json, report.md and metrics.prom (SPEC §9)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from maintbook.compiler import TARGETS_CHECK, WINDOW_CHECK
from maintbook.model import Runbook
from maintbook.runner import Event
from maintbook.timeparse import format_duration, format_utc, parse_rfc3339

PREFIXES = {
    "Precheck | ": "precheck",
    "Step | ": "steps",
    "Verify | ": "verify",
    "Rollback | ": "rollback",
}
RESULT_EVENTS = {"runner_on_ok", "runner_on_failed", "runner_on_skipped", "runner_on_unreachable"}
GATE_TASKS = (TARGETS_CHECK, WINDOW_CHECK)
EXIT_CODES = {"succeeded": 0, "rolled_back": 1, "refused": 2, "rollback_failed": 3}
OUTCOME_TASK = "Work out the outcome"


def step_of(task_name: str) -> tuple[str, str] | None:
    """('steps', 'Backup') for the task `Step | Backup`; None for lifecycle tasks."""
    for prefix, phase in PREFIXES.items():
        if task_name.startswith(prefix):
            return phase, task_name[len(prefix) :]
    if task_name.startswith("Rollback of ") and " | " in task_name:
        return "rollback", task_name.split(" | ", 1)[1]
    return None


def result_of(event: Event) -> str:
    data = event.get("event_data", {})
    kind = event.get("event")
    if kind == "runner_on_skipped":
        return "skipped"
    if kind in ("runner_on_failed", "runner_on_unreachable") and not data.get("ignore_errors"):
        return "failed"
    return "changed" if data.get("res", {}).get("changed") else "ok"


def _stamp(text: str | None) -> str | None:
    if not text:
        return None
    return format_utc(datetime.fromisoformat(text).astimezone()) if "T" in text else text


def step_entries(events: list[Event]) -> list[dict[str, Any]]:
    """One entry per step task and host, in the order they finished."""
    entries = []
    for event in events:
        if event.get("event") not in RESULT_EVENTS:
            continue
        data = event.get("event_data", {})
        found = step_of(str(data.get("task", "")))
        if found is None:
            continue
        entries.append(
            {
                "phase": found[0],
                "name": found[1],
                "host": data.get("host"),
                "started_at": _stamp(data.get("start")),
                "ended_at": _stamp(data.get("end")),
                "result": result_of(event),
            }
        )
    return entries


def _result_of_task(events: list[Event], task: str) -> dict[str, Any]:
    for event in events:
        data = event.get("event_data", {})
        if event.get("event") == "runner_on_ok" and data.get("task") == task:
            res: dict[str, Any] = data.get("res", {})
            return res
    return {}


def _facts(events: list[Event], task: str) -> dict[str, Any]:
    facts: dict[str, Any] = _result_of_task(events, task).get("ansible_facts", {})
    return facts


def refusal(events: list[Event]) -> list[str] | None:
    """The reasons of a refused gate task, or None when the run was not refused."""
    for event in events:
        data = event.get("event_data", {})
        if event.get("event") == "runner_on_failed" and data.get("task") in GATE_TASKS:
            res = data.get("res", {})
            return list(res.get("reasons") or [str(res.get("msg", "refused"))])
    return None


def overridden_blackouts(events: list[Event]) -> list[str]:
    """Blackouts an emergency ran through, as the window check reported them."""
    facts = _result_of_task(events, WINDOW_CHECK)
    return [str(b) for b in facts.get("overridden_blackouts", [])]


def outcome_of(events: list[Event]) -> str:
    """succeeded | rolled_back | rollback_failed | refused, from what the playbook did."""
    if refusal(events) is not None:
        return "refused"
    final = _facts(events, OUTCOME_TASK).get("maintbook_final")
    # The closing play did not run: the lifecycle itself broke; treat it as the worst case.
    return str(final) if final in EXIT_CODES else "rollback_failed"


def host_outcomes(events: list[Event]) -> dict[str, str]:
    outcomes: dict[str, str] = {}
    for event in events:
        data = event.get("event_data", {})
        if (
            event.get("event") == "runner_on_ok"
            and data.get("task") == "Share this batch's results"
        ):
            outcomes.update(
                data.get("res", {}).get("ansible_facts", {}).get("maintbook_outcomes", {})
            )
    # Hosts outside --limit never took part.
    return {host: outcome for host, outcome in outcomes.items() if outcome != "excluded"}


@dataclass(frozen=True)
class RunInfo:
    run_id: str
    runbook: Runbook
    started_at: datetime
    ended_at: datetime
    operator: str
    forced: dict[str, str] | None
    check: bool


def build_record(
    info: RunInfo, events: list[Event], notices: list[dict[str, Any]]
) -> dict[str, Any]:
    outcome = outcome_of(events)
    steps = step_entries(events)
    hosts = host_outcomes(events)
    for entry in steps:
        if (
            entry["phase"] == "steps"
            and entry["result"] in ("ok", "changed")
            and hosts.get(entry["host"]) == "rolled_back"
        ):
            entry["result"] = "rolled_back"
    record: dict[str, Any] = {
        "run_id": info.run_id,
        "runbook": info.runbook.id,
        "title": info.runbook.title,
        "type": info.runbook.type,
        "started_at": format_utc(info.started_at),
        "ended_at": format_utc(info.ended_at),
        "operator": info.operator,
        "outcome": outcome,
        "forced": info.forced,
        "check_mode": info.check,
        "window": {"start": format_utc(info.runbook.start), "end": format_utc(info.runbook.end)},
        "hosts": hosts,
        "steps": steps,
        "notices": notices,
    }
    record["overridden_blackouts"] = overridden_blackouts(events)
    reasons = refusal(events)
    if reasons is not None:
        record["refused_because"] = reasons
    return record


def _seconds(record: dict[str, Any]) -> float:
    start, end = parse_rfc3339(record["started_at"]), parse_rfc3339(record["ended_at"])
    return (end - start).total_seconds()


def metrics(record: dict[str, Any]) -> str:
    """Prometheus text exposition format."""
    labels = f'runbook="{record["runbook"]}",type="{record["type"]}"'
    ended = parse_rfc3339(record["ended_at"]).timestamp()
    lines = [
        "# HELP maintbook_run_duration_seconds Wall time of the maintenance run.",
        "# TYPE maintbook_run_duration_seconds gauge",
        f"maintbook_run_duration_seconds{{{labels}}} {_seconds(record):.3f}",
        "# HELP maintbook_run_success 1 when the run succeeded, else 0.",
        "# TYPE maintbook_run_success gauge",
        f"maintbook_run_success{{{labels}}} {1 if record['outcome'] == 'succeeded' else 0}",
        "# HELP maintbook_run_last_timestamp_seconds When the run ended (Unix time).",
        "# TYPE maintbook_run_last_timestamp_seconds gauge",
        f"maintbook_run_last_timestamp_seconds{{{labels}}} {ended:.0f}",
    ]
    return "\n".join(lines) + "\n"


def _table(rows: list[list[str]], header: list[str]) -> list[str]:
    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return out


def report(record: dict[str, Any]) -> str:
    """The post-maintenance review (the seeds' template): planned vs actual, per step."""
    planned = parse_rfc3339(record["window"]["end"]) - parse_rfc3339(record["window"]["start"])
    actual = _seconds(record)
    steps = record["steps"]
    failed = [s for s in steps if s["result"] == "failed"]
    done = [s for s in steps if s["phase"] == "steps" and s["result"] in ("ok", "changed")]
    lines = [
        f"# Post-maintenance review: {record['runbook']}",
        "",
        f"**{record['title']}** ({record['type']})",
        "",
        "## Summary",
        "",
        f"- Outcome: **{record['outcome']}**",
        f"- Run: {record['run_id']} by {record['operator']}",
        f"- Planned window: {record['window']['start']} to {record['window']['end']} "
        f"({format_duration(planned)})",
        f"- Actual: {record['started_at']} to {record['ended_at']} ({actual:.0f}s)",
        f"- Tasks completed: {len(done)} step result(s) ok or changed of "
        f"{len([s for s in steps if s['phase'] == 'steps'])}",
    ]
    if record.get("check_mode"):
        lines.append("- Check mode: nothing was changed")
    lines += ["", "## Steps", ""]
    rows = [
        [
            s["phase"],
            s["name"],
            str(s["host"]),
            s["result"],
            s["started_at"] or "",
            s["ended_at"] or "",
        ]
        for s in steps
    ]
    lines += (
        _table(rows, ["phase", "step", "host", "result", "started", "ended"])
        if rows
        else ["No step ran."]
    )
    lines += ["", "## Issues encountered", ""]
    lines += [f"- {s['phase']} `{s['name']}` failed on {s['host']}" for s in failed] or ["None."]
    for reason in record.get("refused_because", []):
        lines.append(f"- Refused: {reason}")
    lines += ["", "## Deviations", ""]
    forced = record.get("forced")
    deviations = []
    if forced:
        deviations.append(f"- Window forced by {forced['by']}: {forced['reason']}")
    deviations += [
        f"- Ran through blackout {b} (emergency)" for b in record.get("overridden_blackouts", [])
    ]
    if actual > planned.total_seconds():
        deviations.append(
            f"- Ran {actual - planned.total_seconds():.0f}s past the planned duration"
        )
    lines += deviations or ["None."]
    lines += ["", "## Rollback", ""]
    rollback = [s for s in steps if s["phase"] == "rollback"]
    lines += [f"- `{s['name']}` on {s['host']}: {s['result']}" for s in rollback] or [
        "No rollback was needed."
    ]
    lines += ["", "## Notices", ""]
    lines += [f"- {n['notice']} via {n['channel']}: {n['status']}" for n in record["notices"]] or [
        "None sent."
    ]
    return "\n".join(lines) + "\n"


def dump_json(record: dict[str, Any]) -> str:
    return json.dumps(record, indent=2, ensure_ascii=False) + "\n"
