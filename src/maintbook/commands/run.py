"""`maintbook run RUNBOOK[@OCCURRENCE]`: a supervised run (maintbook.runtime.launch)."""

from __future__ import annotations

from maintbook.runtime.launch import RunOptions, run_runbook

__all__ = ["RunOptions", "run_runbook"]
