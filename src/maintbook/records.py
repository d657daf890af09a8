"""A run's record (SPEC §9, revision 2): record.json from the state database and the events.

The state database says how the run ended (outcome, host end states, failures, closing
errors, notices); the runner's events add each step's timing and result, looked up in the
compiler's manifest (task name → step), never parsed from task names. maintbook.trace makes
each step's entry (`entry_of`) as the events stream past; no event is kept.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from maintbook.runner import Event
from maintbook.store.ledger import Entry
from maintbook.store.runs import Run
from maintbook.timeparse import format_utc
from maintbook.vocabulary import StepRef

RESULT_EVENTS = {"runner_on_ok", "runner_on_failed", "runner_on_skipped", "runner_on_unreachable"}
STDERR_LINES = 20


def result_of(event: Event) -> str:
    data = event.get("event_data", {})
    kind = event.get("event")
    if kind == "runner_on_skipped":
        return "skipped"
    if kind == "runner_on_unreachable":
        return "unreachable"
    if kind == "runner_on_failed" and not data.get("ignore_errors"):
        return "failed"
    return "changed" if data.get("res", {}).get("changed") else "ok"


def _stamp(text: str | None) -> str | None:
    if not text:
        return None
    return format_utc(datetime.fromisoformat(text).astimezone()) if "T" in text else text


def mask(text: str, secrets: Sequence[str]) -> str:
    for value in secrets:
        if value:
            text = text.replace(value, "********")
    return text


def error_of(res: Mapping[str, Any], secrets: Sequence[str]) -> dict[str, Any]:
    """msg, rc and the last lines of stderr of a failed result, secrets masked."""
    stderr = res.get("stderr_lines") or str(res.get("stderr") or "").splitlines()
    return {
        "msg": mask(str(res.get("msg") or "failed"), secrets)[:2000],
        "rc": res.get("rc"),
        "stderr": [mask(str(line), secrets) for line in stderr[-STDERR_LINES:]],
    }


def entry_of(event: Event, ref: StepRef, secrets: Sequence[str]) -> dict[str, Any] | None:
    """The record entry of one step task's result on one host (None for other events)."""
    if event.get("event") not in RESULT_EVENTS:
        return None
    data = event.get("event_data", {})
    entry: dict[str, Any] = {
        "phase": ref.phase,
        "name": ref.name,
        "host": data.get("host"),
        "started_at": _stamp(data.get("start")),
        "ended_at": _stamp(data.get("end")),
        "result": result_of(event),
    }
    if ref.undoes:
        entry["undoes"] = ref.undoes
    if entry["result"] in ("failed", "unreachable"):
        entry["error"] = error_of(data.get("res", {}), secrets)
    return entry


def _merge_failures(entries: list[dict[str, Any]], failures: Sequence[Mapping[str, Any]],
                    secrets: Sequence[str]) -> None:
    """A role step fails inside the role: its rescue's record names the step and the error,
    which go on the step's last run on that host (a soak check runs once per round)."""
    for failure in failures:
        mine = [e for e in entries if e["name"] == failure.get("step")
                and e["host"] == failure.get("host") and e["phase"] == failure.get("phase")
                and e["result"] != "skipped"]
        if mine and not any(e["result"] == "failed" for e in mine):
            mine[-1]["result"] = "failed"
            mine[-1].setdefault("error", error_of(failure, secrets))


def _rolled_back(entries: list[dict[str, Any]], hosts: Mapping[str, str]) -> None:
    for entry in entries:
        if (entry["phase"] == "steps" and entry["result"] in ("ok", "changed")
                and hosts.get(entry["host"]) in ("rolled_back", "rollback_failed")):
            entry["result"] = "rolled_back"


def build_record(run: Run, notices: Sequence[Entry], steps: Sequence[Mapping[str, Any]],
                 window: tuple[datetime, datetime], title: str,
                 secrets: Sequence[str] = ()) -> dict[str, Any]:
    """`steps`: the entries of the run's step results, in the order they finished."""
    summary = run.summary
    hosts = dict(summary.get("hosts") or {})
    entries = [dict(e) for e in steps]
    _merge_failures(entries, summary.get("failures") or [], secrets)
    _rolled_back(entries, hosts)
    record: dict[str, Any] = {
        "run_id": run.run_id,
        "runbook": run.runbook,
        "maintenance": run.maintenance,
        "occurrence": run.occurrence,
        "title": title,
        "type": run.type,
        "started_at": run.started_at,
        "ended_at": run.ended_at or run.started_at,
        "operator": run.operator,
        "outcome": run.outcome or "failed",
        "check": run.check_run,
        "retry": run.retry,
        "forced": run.forced,
        "window": {"start": format_utc(window[0]), "end": format_utc(window[1])},
        "hosts": hosts,
        "drained": list(summary.get("drained") or []),
        "steps": entries,
        "failures": [{**f, **error_of(f, secrets)} for f in summary.get("failures") or []],
        "closing_errors": [mask(str(e), secrets) for e in summary.get("closing_errors") or []],
        "stop_reason": summary.get("stop_reason"),
        "note": mask(str(summary.get("note") or ""), secrets),
        "notices": [{"notice": n.kind, "channel": n.channel, "status": n.status,
                     "attempts": n.attempts, "error": n.error, "sent_at": n.sent_at,
                     "retry": n.retry} for n in notices],
        "recovered_at": run.recovered_at,
    }
    if summary.get("refused_because"):
        record["refused_because"] = list(summary["refused_because"])
    if summary.get("overridden_blackouts"):
        record["overridden_blackouts"] = list(summary["overridden_blackouts"])
    return record


def exit_code(record: Mapping[str, Any], codes: Mapping[str, int]) -> int:
    """SPEC §9: a succeeded run whose closing failed exits 1."""
    code = codes.get(str(record["outcome"]), 1)
    return 1 if code == 0 and record.get("closing_errors") else code


def dump_json(record: Mapping[str, Any]) -> str:
    return json.dumps(record, indent=2, ensure_ascii=False) + "\n"
