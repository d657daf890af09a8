"""Benchmark: `maintbook validate` and `check` over 500 runbooks against one `ansible-lint` run.

Writes 500 valid runbooks (distinct systems and hosts, so no overlap conflicts) into a
temporary folder, validates and checks the folder in-process through the CLI (best of
`--repeat` each), then runs the venv's ansible-lint once on a small playbook (the baseline,
measured in the same run), and prints the wall times and the ratios. The target (issue 11):
validate of 500 runbooks within a quarter of one ansible-lint run.

    .venv/bin/python bench/validate.py [--count 500] [--repeat 3]
"""

from __future__ import annotations

import sys
from pathlib import Path

# bench/calendar.py sits beside this file: keep this folder off sys.path so that
# `import calendar` (used by the holidays library) finds the standard library module.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent.resolve()]

import argparse  # noqa: E402
import os  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

from click.testing import CliRunner  # noqa: E402

from maintbook.cli import main  # noqa: E402

NOW = "2026-11-01T00:00:00Z"
TARGET = 0.25  # validate of 500 runbooks within a quarter of one ansible-lint run

RUNBOOK = """\
runbook: 1
id: MNT-2027-{number:04d}
title: Rotate the logs of service {number}
owner: sre-team
type: zero-downtime
risk: low
systems: [service-{number}]
window:
  start: 2027-01-10T02:00:00Z
  duration: 1h
approvals:
  - {{role: team-lead, by: carol, at: 2026-10-20T10:00:00Z}}
targets:
  hosts: host-{number}
  serial: 25%
notify: [outbox]
precheck:
  - name: Service {number} answers
    http: {{url: "http://host-{number}:8080/health", status: 200, max_latency: 500ms}}
steps:
  - name: Rotate the logs
    role: log_maintenance
    vars: {{actions: [rotate, compress]}}
    timeout: 30m
  - name: Record the free space
    command: /usr/bin/df -h /var/log
  - name: Restart the service
    module: {{name: ansible.builtin.service, args: {{name: app, state: restarted}}}}
    rollback:
      - name: Start the service again
        module: {{name: ansible.builtin.service, args: {{name: app, state: started}}}}
  - name: Let it settle
    wait: 10s
verify:
  - name: Service {number} is healthy
    http: {{url: "http://host-{number}:8080/health"}}
"""

PLAYBOOK = """\
---
- name: Rotate the logs
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Record the free space
      ansible.builtin.command: /usr/bin/df -h /var/log
      changed_when: false
    - name: Restart the service
      ansible.builtin.service:
        name: app
        state: restarted
"""


def write_runbooks(folder: Path, count: int) -> None:
    for number in range(1, count + 1):
        (folder / f"runbook-{number:04d}.yml").write_text(
            RUNBOOK.format(number=number), encoding="utf-8"
        )


def time_command(command: str, folder: Path, repeat: int) -> float:
    """Best wall time of `maintbook COMMAND FOLDER` in-process, over `repeat` runs."""
    runner = CliRunner()
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        result = runner.invoke(main, [command, str(folder), "--now", NOW], catch_exceptions=False)
        elapsed = time.perf_counter() - started
        if result.exit_code != 0:
            sys.exit(f"{command} failed (exit {result.exit_code}):\n{result.output[:2000]}")
        best = min(best, elapsed)
    return best


def time_ansible_lint(folder: Path) -> float:
    """Wall time of one `ansible-lint` run (next to this Python) on a small playbook."""
    lint = Path(sys.executable).parent / "ansible-lint"
    if not lint.exists():
        sys.exit(f"ansible-lint not found at {lint}")
    (folder / "playbook.yml").write_text(PLAYBOOK, encoding="utf-8")
    env = {**os.environ, "ANSIBLE_LOCAL_TEMP": str(folder / ".ansible-tmp")}
    started = time.perf_counter()
    done = subprocess.run(
        [str(lint), "--offline", "--nocolor", "playbook.yml"],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 2):
        sys.exit(f"ansible-lint failed (exit {done.returncode}):\n{done.stderr[-2000:]}")
    return elapsed


def main_bench() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="maintbook-bench-") as name:
        base = Path(name)
        runbooks, lint_dir = base / "runbooks", base / "lint"
        runbooks.mkdir()
        lint_dir.mkdir()
        write_runbooks(runbooks, args.count)
        cwd = Path.cwd()
        os.chdir(base)  # no project maintbook.yml here: the built-in defaults
        try:
            validate_s = time_command("validate", runbooks, args.repeat)
            check_s = time_command("check", runbooks, args.repeat)
        finally:
            os.chdir(cwd)
        lint_s = time_ansible_lint(lint_dir)
    count = args.count
    print(
        f"maintbook validate, {count} runbooks (best of {args.repeat}): {validate_s:8.3f} s"
        f"  ({validate_s / count * 1000:.2f} ms per runbook)"
    )
    print(
        f"maintbook check,    {count} runbooks (best of {args.repeat}): {check_s:8.3f} s"
        f"  ({check_s / count * 1000:.2f} ms per runbook)"
    )
    print(f"ansible-lint, 1 small playbook (1 run, baseline):  {lint_s:8.3f} s")
    ratio = validate_s / lint_s
    verdict = "meets" if ratio <= TARGET else "misses"
    print(
        f"ratio validate {count} / ansible-lint 1:            {ratio:8.3f}"
        f"  ({verdict} the target of {TARGET})"
    )
    print(f"ratio check {count} / ansible-lint 1:               {check_s / lint_s:8.3f}")


if __name__ == "__main__":
    main_bench()
