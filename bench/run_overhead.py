"""What maintbook's lifecycle costs on top of plain Ansible.

The same 20 `command` steps, run (a) as a runbook through `maintbook run` — window check
and booking, status page, start and completion notices, precheck/maintain/close plays,
record — and (b) as a hand-written playbook through `ansible-playbook`, both against
this machine (connection local). Median of 5 runs each, in one process run, and the ratio.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

STEPS = 20
ROUNDS = 5
BIN = Path(sys.executable).parent
REPO = Path(__file__).resolve().parents[1]


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def write_project(root: Path, steps_count: int = STEPS) -> tuple[Path, Path]:
    (root / "maintbook.yml").write_text("policy: {blackouts: []}\n")
    inventory = root / "inventory.yml"
    inventory.write_text(
        "all:\n  hosts:\n    localhost:\n      ansible_connection: local\n"
        '      ansible_python_interpreter: "{{ ansible_playbook_python }}"\n'
    )
    start = iso(datetime.now(UTC) - timedelta(minutes=5))
    steps = "".join(f"  - name: Command {i}\n    command: /bin/true\n" for i in range(steps_count))
    runbook = root / f"bench{steps_count}.yml"
    runbook.write_text(
        "runbook: 1\nid: MNT-2026-0900\ntitle: Bench\nowner: sre\ntype: zero-downtime\n"
        f"systems: [bench]\nwindow: {{start: {start}, duration: 4h}}\n"
        "approvals: [{role: team-lead, by: dana}]\ntargets: {hosts: localhost}\n"
        f"notify: [outbox]\nsteps:\n{steps}"
    )
    tasks = "".join(
        f"    - name: Command {i}\n      ansible.builtin.command: /bin/true\n"
        "      changed_when: true\n"
        for i in range(steps_count)
    )
    playbook = root / f"plain{steps_count}.yml"
    header = "- name: Plain\n  hosts: localhost\n  gather_facts: false\n  tasks:\n"
    playbook.write_text(header + tasks)
    return runbook, playbook


def timed(command: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")
    return elapsed


def medians(root: Path, steps_count: int) -> tuple[float, float]:
    runbook, playbook = write_project(root, steps_count)
    inventory = str(root / "inventory.yml")
    maintbook = [str(BIN / "maintbook"), "run", str(runbook), "-i", inventory]
    plain = [str(BIN / "ansible-playbook"), "-i", inventory, str(playbook)]
    ours, theirs = [], []
    for _ in range(ROUNDS):  # interleaved, so drift on the machine hits both alike
        theirs.append(timed(plain, root))
        ours.append(timed(maintbook, root))
    return statistics.median(theirs), statistics.median(ours)


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="maintbook-bench-") as folder:
        base, mine = medians(Path(folder), STEPS)
        base1, mine1 = medians(Path(folder), 1)
    print(f"{STEPS} command steps, median of {ROUNDS} (connection local)")
    print(f"ansible-playbook, hand-written playbook: {base:7.2f} s")
    print(f"maintbook run, runbook + lifecycle:      {mine:7.2f} s")
    print(f"ratio maintbook / ansible-playbook:      {mine / base:7.2f}x  (target <= 1.05x)")
    per_plain, per_ours = (base - base1) / (STEPS - 1), (mine - mine1) / (STEPS - 1)
    print(f"per step: ansible-playbook {per_plain:.3f} s, maintbook {per_ours:.3f} s")
    print(
        f"fixed cost with 1 step: ansible-playbook {base1:.2f} s, maintbook {mine1:.2f} s "
        f"(lifecycle and maintbook itself: {mine1 - base1:.2f} s)"
    )


if __name__ == "__main__":
    main()
