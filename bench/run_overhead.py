"""What maintbook's lifecycle costs on top of plain Ansible.

The same N `command` steps, run (a) as a runbook through `maintbook run` — gate and lease,
status page, notices, precheck/maintain/close plays, supervision, record — and (b) as a
hand-written playbook through `ansible-playbook` under Ansible's defaults, both against this
machine (connection local). Median of ROUNDS runs each, interleaved so that drift on the
machine hits both alike, for N = 1, 20 and 50, in one process run; and the ratio.

A third column runs the hand-written playbook through ansible-runner alone, the engine
`maintbook run` drives (SPEC §4), with no maintbook code at all: the part of the overhead
that comes with the engine rather than with the lifecycle; the last column is `maintbook
run` against it, the lifecycle's own share.

    python bench/run_overhead.py [--rounds 5] [--steps 1,20,50]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

BIN = Path(sys.executable).parent
CONFIG = "policy:\n  blackouts: []\n  types:\n    zero-downtime: {notice: 0}\n"
INVENTORY = (
    "all:\n  hosts:\n    localhost:\n      ansible_connection: local\n"
    '      ansible_python_interpreter: "{{ ansible_playbook_python }}"\n'
)


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def runbook(root: Path, steps: int, number: int) -> Path:
    """A fresh maintenance each round: a succeeded one does not run twice."""
    start = iso(datetime.now(UTC) - timedelta(minutes=5))
    body = "".join(f"  - name: Command {i}\n    command: /bin/true\n" for i in range(steps))
    path = root / f"bench{steps}-{number}.yml"
    path.write_text(
        f"runbook: 1\nid: MNT-2026-{number:04d}\ntitle: Bench\nowner: sre\n"
        f"type: zero-downtime\nsystems: [bench]\nwindow: {{start: {start}, duration: 4h}}\n"
        "approvals: [{role: team-lead, by: dana}]\ntargets: {hosts: localhost}\n"
        f"notify: [outbox]\nsteps:\n{body}")
    return path


def playbook(root: Path, steps: int) -> Path:
    tasks = "".join(f"    - name: Command {i}\n      ansible.builtin.command: /bin/true\n"
                    "      changed_when: true\n" for i in range(steps))
    path = root / f"plain{steps}.yml"
    path.write_text(f"- name: Plain\n  hosts: localhost\n  gather_facts: false\n  tasks:\n{tasks}")
    return path


def timed(command: list[str], cwd: Path) -> float:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True,
                          check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")
    return elapsed


RUNNER = """
import sys, tempfile
import ansible_runner
with tempfile.TemporaryDirectory() as private:
    done = ansible_runner.run(private_data_dir=private, playbook=sys.argv[1],
                              inventory=sys.argv[2], quiet=True)
sys.exit(done.rc)
"""


def medians(root: Path, steps: int, rounds: int, first: int) -> tuple[float, float, float]:
    inventory = root / "inventory.yml"
    plain = playbook(root, steps)
    by_hand = [str(BIN / "ansible-playbook"), "-i", str(inventory), str(plain)]
    engine = [sys.executable, "-c", RUNNER, str(plain), str(inventory)]
    theirs, runner, ours = [], [], []
    for number in range(rounds):
        theirs.append(timed(by_hand, root))
        runner.append(timed(engine, root))
        maintbook = [str(BIN / "maintbook"), "run", str(runbook(root, steps, first + number)),
                     "-i", str(inventory)]
        ours.append(timed(maintbook, root))
    return statistics.median(theirs), statistics.median(runner), statistics.median(ours)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", default="1,20,50")
    args = parser.parse_args()
    sizes = [int(n) for n in args.steps.split(",")]
    with tempfile.TemporaryDirectory(prefix="maintbook-bench-") as folder:
        root = Path(folder)
        (root / "maintbook.yml").write_text(CONFIG)
        (root / "inventory.yml").write_text(INVENTORY)
        results = {n: medians(root, n, args.rounds, 1 + 100 * i) for i, n in enumerate(sizes)}
    print(f"median of {args.rounds}, interleaved, connection local")
    print(f"{'steps':>5} {'ansible-playbook':>17} {'ansible-runner':>15} {'ratio':>7} "
          f"{'maintbook run':>14} {'ratio':>7} {'to runner':>10}")
    for steps, (base, engine, mine) in results.items():
        print(f"{steps:>5} {base:>15.2f} s {engine:>13.2f} s {engine / base:>6.2f}x "
              f"{mine:>12.2f} s {mine / base:>6.2f}x {mine / engine:>9.2f}x")
    if 20 in results:
        base, engine, mine = results[20]
        print(f"ratio at 20 steps: {mine / base:.2f}x (target <= 1.05x); "
              f"ansible-runner alone {engine / base:.2f}x; maintbook run to ansible-runner "
              f"alone {mine / engine:.2f}x")
    if len(sizes) > 1:
        low, high = min(sizes), max(sizes)
        per_plain, per_engine, per_ours = (
            (results[high][column] - results[low][column]) / (high - low) for column in range(3))
        print(f"per step: ansible-playbook {per_plain:.3f} s, ansible-runner {per_engine:.3f} s, "
              f"maintbook {per_ours:.3f} s")
        print(f"fixed cost at {low} step(s): ansible-playbook {results[low][0]:.2f} s, "
              f"ansible-runner {results[low][1]:.2f} s, maintbook {results[low][2]:.2f} s")


if __name__ == "__main__":
    main()
