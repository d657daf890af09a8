"""One vocabulary for the compiler and everything that reads a run: step identity as data.

The compiler names every task it makes for a runbook step and writes a manifest beside the
playbook: task name → `StepRef`. The progress view, the records and the interrupt unwind look
names up in that manifest; nothing parses a task name.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass

# Phases of a run, in order. `recheck` is the prechecks again after a rollback (SPEC §12).
PHASES = ("precheck", "steps", "verify", "soak", "rollback", "recheck")
LABEL = {
    "precheck": "Precheck",
    "steps": "Step",
    "verify": "Verify",
    "soak": "Soak",
    "rollback": "Rollback",
    "recheck": "Recheck",
}


@dataclass(frozen=True)
class StepRef:
    """A runbook step as one task: its phase, its position there, its name."""

    phase: str
    index: int  # 1-based position within the phase
    name: str
    undoes: str | None = None  # for a step's own rollback: the step it undoes

    @property
    def task(self) -> str:
        """`Step | Back up the database`: step names are unique within a runbook."""
        return f"{LABEL[self.phase]} | {self.name}"

    @property
    def register(self) -> str:
        """The variable the step's result is registered in, on each host."""
        return f"maintbook_{self.phase}_{self.index}"


def manifest(refs: Iterable[StepRef]) -> dict[str, dict[str, object]]:
    return {ref.task: asdict(ref) for ref in refs}


def dump_manifest(refs: Iterable[StepRef]) -> str:
    return json.dumps(manifest(refs), indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def load_manifest(text: str) -> dict[str, StepRef]:
    return {task: StepRef(**data) for task, data in json.loads(text).items()}
