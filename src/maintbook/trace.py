"""What a run's events say, folded as they stream past: never the events themselves.

A playbook over fifty hosts sends thousands of events, each with a module's whole result;
keeping them would make `maintbook run` grow with the fleet. `Trace.on_event` takes each
event once and keeps only what the record, the interrupt unwind and the last close read:

- whether a play started, and the facts the open step returned (`maintbook_run`, …);
- one small record entry per step task and host (records.entry_of);
- per host, the steps that started and whether each may have changed something;
- the hosts that were unreachable.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from maintbook.records import entry_of
from maintbook.runner import Event
from maintbook.vocabulary import StepRef

SETTLED = ("runner_on_ok", "runner_on_failed", "runner_on_unreachable")


@dataclass
class Trace:
    steps: Mapping[str, StepRef]
    secrets: Sequence[str] = ()
    started: bool = False
    opened: dict[str, Any] | None = None
    entries: list[dict[str, Any]] = field(default_factory=list)
    unreachable: set[str] = field(default_factory=set)
    _begun: dict[str, set[int]] = field(default_factory=dict)
    _settled: dict[tuple[str, int], str] = field(default_factory=dict)

    def on_event(self, event: Event) -> None:
        kind = event.get("event")
        data = event.get("event_data", {})
        if kind == "playbook_on_play_start":
            self.started = True
        elif kind == "runner_on_unreachable":
            self.unreachable.add(str(data.get("host")))
        if self.opened is None and kind in ("runner_on_ok", "runner_on_failed"):
            facts = (data.get("res") or {}).get("ansible_facts") or {}
            if "maintbook_run" in facts:
                self.opened = dict(facts)
        ref = self.steps.get(str(data.get("task", "")))
        if ref is None:
            return
        entry = entry_of(event, ref, self.secrets)
        if entry is not None:
            self.entries.append(entry)
        if ref.phase == "steps":
            self._follow_step(str(data.get("host")), ref.index, str(kind), data)

    def _follow_step(self, host: str, index: int, kind: str, data: Mapping[str, Any]) -> None:
        if kind == "runner_on_start":
            self._begun.setdefault(host, set()).add(index)
        elif kind == "runner_on_skipped":
            self._begun.get(host, set()).discard(index)
            self._settled[(host, index)] = "skipped"
        elif kind in SETTLED:
            self._begun.setdefault(host, set()).add(index)
            changed = (data.get("res") or {}).get("changed") or kind != "runner_on_ok"
            self._settled[(host, index)] = "changed" if changed else "ok"

    @property
    def opened_run(self) -> dict[str, Any] | None:
        """What the playbook's open step returned (`maintbook_run`), when it ran."""
        return None if self.opened is None else dict(self.opened["maintbook_run"])

    def what_ran(self, roles: Sequence[int]) -> dict[str, dict[str, list[int]]]:
        """Per host, the steps that started (finished or not) and those that may have
        changed something: changed, failed, cut off while running, or a role step."""
        found = {}
        for host, indices in self._begun.items():
            ran = sorted(i for i in indices if self._settled.get((host, i)) != "skipped")
            changed = [i for i in ran if self._settled.get((host, i), "changed") == "changed"
                       or i in roles]
            if ran:
                found[host] = {"ran": ran, "changed": changed}
        return found
