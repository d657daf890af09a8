"""Benchmark: `maintbook check` of 2,000 runbooks that share one window and one system.

Issue 11: this folder took 104 s and printed 876 MB (3,998,000 diagnostics) when every
runbook was compared with every other and each pair reported twice per shared resource.
Writes the folder (same window, system and host), runs `maintbook check FOLDER`
in-process through the CLI (best of --repeat) and prints its wall and CPU time, output
size and diagnostic count against the targets (≤ 10 s, < 5 MB, one diagnostic per
runbook), beside two baselines measured in the same run: loading the folder alone (the
floor: YAML, schema, semantic checks), and, on a --pairwise sized slice, the pairwise
comparison check used to make (`check_conflicts` of each runbook against all the others)
against the sweep. On a busy machine the CPU times are the figures to compare.

    .venv/bin/python bench/check_overlap.py [--count 2000] [--repeat 3] [--pairwise 300]
"""

from __future__ import annotations

import sys
from pathlib import Path

# bench/calendar.py sits beside this file: keep this folder off sys.path so that
# `import calendar` (used by the holidays library) finds the standard library module.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent.resolve()]

import argparse  # noqa: E402
import os  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from datetime import UTC, datetime  # noqa: E402

from click.testing import CliRunner  # noqa: E402

from maintbook.cli import main  # noqa: E402
from maintbook.config import default_config  # noqa: E402
from maintbook.model import Runbook  # noqa: E402
from maintbook.overlap import overlap_messages  # noqa: E402
from maintbook.policy import check_conflicts  # noqa: E402
from maintbook.project import load_runbooks  # noqa: E402

NOW = "2026-10-01T00:00:00Z"

RUNBOOK = """\
runbook: 1
id: MNT-2026-{number:04d}
title: Vacuum {number}
owner: sre-team
type: planned-outage
systems: [database]
window:
  start: 2026-11-08T02:00:00Z
  duration: 1h
approvals:
  - {{role: vp-engineering, by: bob}}
targets:
  hosts: db_primary
steps:
  - name: Vacuum
    command: /bin/true
"""


def write_folder(folder: Path, count: int) -> None:
    folder.mkdir()
    for number in range(1, count + 1):
        (folder / f"r{number:04d}.yml").write_text(RUNBOOK.format(number=number))


def seconds(action: Callable[[], object]) -> float:
    began = time.perf_counter()
    action()
    return time.perf_counter() - began


def cpu_seconds(action: Callable[[], object]) -> tuple[float, float]:
    """Wall and CPU time: on a busy machine the CPU time says what the work costs."""
    wall, cpu = time.perf_counter(), time.process_time()
    action()
    return time.perf_counter() - wall, time.process_time() - cpu


def time_check(folder: Path, repeat: int) -> tuple[tuple[float, float], int, int]:
    """Best wall and CPU time of `maintbook check FOLDER`, its output bytes and lines."""
    runner, best, size, diagnostics = CliRunner(), (float("inf"), 0.0), 0, 0
    for _ in range(repeat):
        began, cpu = time.perf_counter(), time.process_time()
        result = runner.invoke(main, ["check", str(folder), "--now", NOW], catch_exceptions=False)
        best = min(best, (time.perf_counter() - began, time.process_time() - cpu))
        if result.exit_code != 1:
            sys.exit(f"check should find the overlaps (exit {result.exit_code})")
        size = len(result.output.encode())
        diagnostics = sum(": error overlap " in line for line in result.output.splitlines())
    return best, size, diagnostics


def pairwise_vs_sweep(runbooks: list[Runbook]) -> tuple[float, float]:
    """The old way (each against all) and the sweep, on the same runbooks."""
    policy, now = default_config().policy, datetime(2026, 10, 1, tzinfo=UTC)
    old = seconds(lambda: [check_conflicts(rb, policy, now, runbooks, []) for rb in runbooks])
    new = seconds(lambda: overlap_messages(runbooks, [True] * len(runbooks)))
    return old, new


def main_bench() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pairwise", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="maintbook-bench-") as name:
        base = Path(name)
        write_folder(base / "runbooks", args.count)
        cwd = Path.cwd()
        os.chdir(base)  # no project maintbook.yml here: the built-in defaults
        try:
            config = default_config()
            load = cpu_seconds(lambda: load_runbooks([Path("runbooks")], config))
            check, size, diagnostics = time_check(Path("runbooks"), args.repeat)
            loaded = load_runbooks([Path("runbooks")], config)
        finally:
            os.chdir(cwd)
    models = [item.runbook for item in loaded[: args.pairwise] if item.runbook is not None]
    old, new = pairwise_vs_sweep(models)
    n = args.count
    print(
        f"check of {n} runbooks in one window, best of {args.repeat}: {check[0]:6.2f} s "
        f"(CPU {check[1]:6.2f} s; target <= 10 s)"
    )
    print(f"  baseline, loading the folder alone:     {load[0]:6.2f} s (CPU {load[1]:6.2f} s)")
    print(
        f"  output: {size / 1e6:.2f} MB (target < 5 MB), {diagnostics} overlap diagnostics "
        f"(target: one per runbook, {n})"
    )
    print(
        f"overlaps of {len(models)} runbooks: pairwise {old:7.3f} s, sweep {new:7.3f} s "
        f"({old / max(new, 1e-9):.0f}x)"
    )


if __name__ == "__main__":
    main_bench()
