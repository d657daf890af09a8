"""metrics.prom (Prometheus text format): per run, and the project's fixed file for
node_exporter's textfile collector with the latest value per runbook and totals by outcome.
Check runs are left out of the fixed file."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from maintbook.lifecycle import OUTCOMES
from maintbook.timeparse import parse_rfc3339

GAUGES = (
    ("maintbook_run_duration_seconds", "Wall time of the latest maintenance run."),
    ("maintbook_run_success", "1 when the latest run succeeded, else 0."),
    ("maintbook_run_last_timestamp_seconds", "When the latest run ended (Unix time)."),
)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _samples(record: Mapping[str, Any]) -> dict[str, str]:
    labels = f'runbook="{_escape(record["runbook"])}",type="{_escape(record["type"])}"'
    start, end = parse_rfc3339(record["started_at"]), parse_rfc3339(record["ended_at"])
    values = {
        "maintbook_run_duration_seconds": f"{(end - start).total_seconds():.3f}",
        "maintbook_run_success": "1" if record["outcome"] == "succeeded" else "0",
        "maintbook_run_last_timestamp_seconds": f"{end.timestamp():.0f}",
    }
    return {name: f"{name}{{{labels}}} {value}" for name, value in values.items()}


def metrics(records: Iterable[Mapping[str, Any]]) -> str:
    """The gauges for each record (the latest per runbook wins), and the totals by outcome."""
    latest: dict[str, Mapping[str, Any]] = {}
    totals = dict.fromkeys(OUTCOMES, 0)
    for record in sorted(records, key=lambda r: r["ended_at"]):
        latest[record["runbook"]] = record
        totals[record["outcome"]] = totals.get(record["outcome"], 0) + 1
    lines: list[str] = []
    samples = [_samples(r) for _, r in sorted(latest.items())]
    for name, help_text in GAUGES:
        lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge"]
        lines += [s[name] for s in samples]
    lines += ["# HELP maintbook_runs_total Runs by outcome.", "# TYPE maintbook_runs_total counter"]
    lines += [f'maintbook_runs_total{{outcome="{o}"}} {n}' for o, n in sorted(totals.items())]
    return "\n".join(lines) + "\n"
