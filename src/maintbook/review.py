"""report.md: the post-maintenance review of a run (the seeds' template): planned vs actual,
tasks completed, issues encountered with their errors, deviations, rollback, what is still
open."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from maintbook.timeparse import format_duration, parse_rfc3339

OPEN_AFTER = {
    "page": "the status page entry may still show the maintenance as in progress",
    "silence": "the alert silence may still be active until it expires",
    "notice": "a notice did not reach every channel",
    "release": "the window may still be booked: run maintbook recover",
}


def _seconds(record: Mapping[str, Any]) -> float:
    start, end = parse_rfc3339(record["started_at"]), parse_rfc3339(record["ended_at"])
    return (end - start).total_seconds()


def _table(rows: Sequence[Sequence[str]], header: Sequence[str]) -> list[str]:
    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return out + ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]


def _error_lines(error: Mapping[str, Any] | None) -> list[str]:
    if not error:
        return []
    lines = [f"  - {error.get('msg')}" + (f" (rc {error['rc']})" if error.get("rc") not in
                                          (None, "") else "")]
    stderr = [line for line in error.get("stderr") or [] if str(line).strip()]
    if stderr:
        lines += ["", "    ```", *[f"    {line}" for line in stderr], "    ```"]
    return lines


def summary(record: Mapping[str, Any]) -> list[str]:
    planned = parse_rfc3339(record["window"]["end"]) - parse_rfc3339(record["window"]["start"])
    steps = record["steps"]
    done = [s for s in steps if s["phase"] == "steps" and s["result"] in ("ok", "changed")]
    lines = [
        f"- Outcome: **{record['outcome']}**" + (" (a check: nothing was changed)"
                                                 if record.get("check") else ""),
        f"- Run: {record['run_id']} by {record['operator']}" + (" (a retry)"
                                                               if record.get("retry") else ""),
        f"- Planned window: {record['window']['start']} to {record['window']['end']} "
        f"({format_duration(planned)})",
        f"- Actual: {record['started_at']} to {record['ended_at']} ({_seconds(record):.0f}s)",
        f"- Tasks completed: {len(done)} of "
        f"{len([s for s in steps if s['phase'] == 'steps'])} step results ok or changed",
    ]
    if record.get("stop_reason"):
        lines.append(f"- Stopped by: {record['stop_reason']}")
    if record.get("recovered_at"):
        lines.append(f"- Recovered after a crash at {record['recovered_at']}")
    return lines


def issues(record: Mapping[str, Any]) -> list[str]:
    lines: list[str] = []
    for step in record["steps"]:
        if step["result"] in ("failed", "unreachable"):
            lines.append(f"- {step['phase']} `{step['name']}` {step['result']} on {step['host']}")
            lines += _error_lines(step.get("error"))
    for reason in record.get("refused_because", []):
        lines.append(f"- Refused: {reason}")
    if record.get("note"):
        lines.append(f"- {record['note']}")
    return lines or ["None."]


def deviations(record: Mapping[str, Any]) -> list[str]:
    lines = []
    forced = record.get("forced")
    if forced:
        lines.append(f"- Window forced by {forced['by']}: {forced['reason']}")
    lines += [f"- Ran through blackout {b} (emergency)"
              for b in record.get("overridden_blackouts", [])]
    planned = parse_rfc3339(record["window"]["end"]) - parse_rfc3339(record["window"]["start"])
    over = _seconds(record) - planned.total_seconds()
    if over > 0:
        lines.append(f"- Ran {over:.0f}s past the planned duration")
    return lines or ["None."]


def rollback(record: Mapping[str, Any]) -> list[str]:
    undo = [s for s in record["steps"] if s["phase"] in ("rollback", "recheck")]
    lines = [f"- {s['phase']} `{s['name']}` on {s['host']}: {s['result']}" for s in undo]
    return lines or ["No rollback ran."]


def hosts(record: Mapping[str, Any]) -> list[str]:
    rows = [[host, state] for host, state in sorted(record["hosts"].items())]
    lines = _table(rows, ["host", "end state"]) if rows else ["No host took part."]
    if record.get("drained"):
        lines += ["", "Left in maintenance mode (drained): " + ", ".join(record["drained"])]
    return lines


def still_open(record: Mapping[str, Any]) -> list[str]:
    lines = []
    for error in record.get("closing_errors", []):
        action = str(error).split(":", 1)[0].split()[0]
        lines.append(f"- {error} — {OPEN_AFTER.get(action, 'check it by hand')}")
    return lines or ["Nothing: every closing action succeeded."]


def report(record: Mapping[str, Any]) -> str:
    """The review as Markdown."""
    sections = [
        (f"# Post-maintenance review: {record['maintenance']}", [
            "", f"**{record['title']}** ({record['type']})"]),
        ("## Summary", summary(record)),
        ("## Hosts", hosts(record)),
        ("## Steps", _table([[s["phase"], s["name"], str(s["host"]), s["result"],
                              s["started_at"] or "", s["ended_at"] or ""]
                             for s in record["steps"]],
                            ["phase", "step", "host", "result", "started", "ended"])
         if record["steps"] else ["No step ran."]),
        ("## Issues encountered", issues(record)),
        ("## Deviations", deviations(record)),
        ("## Rollback", rollback(record)),
        ("## Still open", still_open(record)),
        ("## Notices", [f"- {n['notice']} via {n['channel']}: {n['status']}"
                        + (" (retry)" if n.get("retry") else "")
                        for n in record["notices"]] or ["None sent."]),
    ]
    lines: list[str] = []
    for title, body in sections:
        lines += [title, *([""] if not title.startswith("# ") else []), *body, ""]
    return "\n".join(lines).rstrip("\n") + "\n"
