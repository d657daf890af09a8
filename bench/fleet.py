"""maintbook on a fleet: rolling batches over real SSH hosts, against hand-written playbooks.

The hosts are network namespaces with sshd and nginx each (tests/support/fleet.py), all on
this machine. The same work runs (a) as a rolling runbook through `maintbook run` — gate and
lease, status page, notices, precheck/maintain/close plays, batch progress, supervision,
record — and (b) as a hand-written playbook through `ansible-playbook`: a health check,
maintenance mode on (the maintenance_mode role), one change, a health check again,
maintenance mode off, in batches of `serial`.

1. Wall ratio at 50 hosts, serial 10: maintbook vs the hand-written playbook with the same
   forks (10) and the same transport (pipelining, ControlPersist, no facts). Target <= 1.15.
2. maintbook's own peak RSS (the `maintbook run` process, not Ansible's) at 10, 20 and 50
   hosts: events are streamed, not kept, so it should grow < 20% from 10 to 50.
3. At 20 hosts: maintbook with its tuned transport vs the hand-written playbook under
   Ansible's defaults (facts gathered, no pipelining, forks 5). Aim <= 0.8.

Rounds are interleaved (ours, theirs, ours, ...) so drift on the machine hits both alike;
medians are printed. Needs root (network namespaces), sshd and nginx.

    python bench/fleet.py [--rounds 1] [--hosts 10,20,50] [--serial 10]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.support import fleet  # noqa: E402

BIN = Path(sys.executable).parent
PREFIX = f"mbb{os.getpid() % 10000}"
CONFIG = "policy:\n  blackouts: []\n  types:\n    zero-downtime: {notice: 0}\n"
HEALTH = "http://{{ ansible_host }}:8080/health"
# `maintbook run` in this interpreter, reporting its own peak RSS (KiB) when it exits.
MEASURED_RUN = (
    "import atexit, os, resource, sys\n"
    "atexit.register(lambda: open(os.environ['BENCH_RSS_FILE'], 'w').write("
    "str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)))\n"
    "from maintbook.cli import main\n"
    "sys.argv = ['maintbook', *sys.argv[1:]]\n"
    "main()\n"
)


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def runbook(path: Path, number: int, serial: int) -> Path:
    """A fresh maintenance each round (a succeeded one does not run twice)."""
    data = {
        "runbook": 1, "id": f"MNT-2026-{number:04d}", "title": "Fleet bench", "owner": "sre",
        "type": "zero-downtime", "systems": ["web"],
        "window": {"start": iso(datetime.now(UTC) - timedelta(minutes=5)), "duration": "4h"},
        "approvals": [{"role": "team-lead", "by": "dana"}],
        "targets": {"hosts": "web", "serial": serial, "max_fail_percentage": 0},
        "notify": ["outbox"], "maintenance_mode": True,
        "precheck": [{"name": "The host is healthy", "http": {"url": HEALTH, "status": 200}}],
        "steps": [{"name": "Install version 2",
                   "shell": "echo v2 > {{ fleet_home }}/version"}],
        "verify": [{"name": "The host answers", "http": {"url": HEALTH, "status": 200}}],
    }
    path.write_text(json.dumps(data, indent=2))
    return path


def playbook(path: Path, serial: int, facts: bool) -> Path:
    """The same work, written by hand."""
    mode = "ansible.builtin.include_role: {name: maintenance_mode}"
    path.write_text(f"""\
- name: Rolling update, written by hand
  hosts: web
  serial: {serial}
  max_fail_percentage: 0
  gather_facts: {str(facts).lower()}
  tasks:
    - name: The host is healthy
      ansible.builtin.uri: {{url: "{HEALTH}", status_code: 200}}
    - name: Turn maintenance mode on
      {mode}
      vars: {{maintenance_mode_enabled: true}}
    - name: Install version 2
      ansible.builtin.shell: echo v2 > {{{{ fleet_home }}}}/version
      changed_when: true
    - name: The host answers
      ansible.builtin.uri: {{url: "{HEALTH}", status_code: 200}}
    - name: Turn maintenance mode off
      {mode}
      vars: {{maintenance_mode_enabled: false}}
""")
    return path


@dataclass(frozen=True)
class Timed:
    seconds: float
    rss_kib: int = 0


def _check(done: subprocess.CompletedProcess[str], what: str) -> None:
    if done.returncode != 0:
        raise SystemExit(f"{what} failed (exit {done.returncode}):\n{done.stdout[-3000:]}\n"
                         f"{done.stderr[-3000:]}")


def run_maintbook(root: Path, inventory: Path, number: int, serial: int) -> Timed:
    path = runbook(root / "runbooks" / f"bench-{number}.yml", number, serial)
    rss = root / "rss"
    command = [sys.executable, "-c", MEASURED_RUN, "run", str(path), "-i", str(inventory),
               "--format", "json"]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=root, capture_output=True, text=True, check=False,
                          env={**os.environ, "BENCH_RSS_FILE": str(rss)})
    elapsed = time.perf_counter() - started
    _check(done, f"maintbook run ({number})")
    return Timed(elapsed, int(rss.read_text()))


def ansible_env(root: Path, tuned: bool, forks: int) -> dict[str, str]:
    """The caller's environment without ANSIBLE_*, an empty ansible.cfg, the role path;
    tuned: maintbook's transport (maintbook.runner.TRANSPORT) and `forks`."""
    from maintbook.runner import TRANSPORT

    empty = root / "empty-ansible.cfg"
    empty.write_text("")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env.update(ANSIBLE_ROLES_PATH=str(REPO / "roles"), ANSIBLE_CONFIG=str(empty),
               ANSIBLE_HOST_KEY_CHECKING="false", ANSIBLE_RETRY_FILES_ENABLED="false")
    if tuned:
        env.update({variable: value for _, _, variable, value in TRANSPORT})
        env["ANSIBLE_FORKS"] = str(forks)
    return env


def run_playbook(root: Path, inventory: Path, book: Path, env: dict[str, str]) -> Timed:
    command = [str(BIN / "ansible-playbook"), "-i", str(inventory), str(book)]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=root, capture_output=True, text=True, check=False,
                          env=env)
    elapsed = time.perf_counter() - started
    _check(done, f"ansible-playbook {book.name}")
    return Timed(elapsed)


def project(root: Path, hosts: fleet.Fleet, count: int) -> Path:
    (root / "runbooks").mkdir(parents=True, exist_ok=True)
    (root / "maintbook.yml").write_text(CONFIG)
    return hosts.write_inventory(root / f"inventory-{count}.yml", "web", count, "flag")


def median(found: list[float]) -> float:
    return statistics.median(found)


@dataclass
class Size:
    """The runs at one fleet size: maintbook's, and the hand-written baseline's if any."""

    hosts: int
    ours: list[Timed]
    baseline: str = ""
    theirs: list[Timed] | None = None

    @property
    def ratio(self) -> float:
        assert self.theirs
        return median([t.seconds for t in self.ours]) / median([t.seconds for t in self.theirs])


def measure(root: Path, hosts: fleet.Fleet, count: int, args: argparse.Namespace,
            baseline: str) -> Size:
    """maintbook at `count` hosts, interleaved with a hand-written baseline: `tuned`
    (maintbook's transport, same forks), `defaults` (Ansible's defaults), or none."""
    inventory = project(root, hosts, count)
    book = playbook(root / f"{baseline or 'none'}.yml", args.serial, facts=baseline != "tuned")
    env = ansible_env(root, baseline == "tuned", args.serial)
    size = Size(count, [], baseline, [] if baseline else None)
    for number in range(args.rounds):
        size.ours.append(run_maintbook(root, inventory, 100 * count + number, args.serial))
        if size.theirs is not None:
            size.theirs.append(run_playbook(root, inventory, book, env))
    return size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--hosts", default="10,20,50",
                        help="fleet sizes: the largest is compared with the tuned hand-written "
                        "playbook, the middle one (or the smallest) with Ansible's defaults")
    parser.add_argument("--serial", type=int, default=10)
    args = parser.parse_args()
    sizes = sorted(int(n) for n in args.hosts.split(","))
    middle = 20 if 20 in sizes[:-1] else sizes[0]
    baselines = {sizes[-1]: "tuned", middle: "defaults"}
    with tempfile.TemporaryDirectory(prefix="mbbench-", dir="/tmp") as folder:
        root = Path(folder)
        started = time.perf_counter()
        with fleet.fleet(sizes[-1], PREFIX, root / "fleet") as hosts:
            up = time.perf_counter() - started
            found = [measure(root, hosts, n, args, baselines.get(n, "")) for n in sizes]
    report(found, args, up)


def report(found: list[Size], args: argparse.Namespace, up: float) -> None:
    print(f"fleet of {found[-1].hosts} namespace SSH hosts up in {up:.1f} s; serial "
          f"{args.serial}; median of {args.rounds}, interleaved")
    print(f"{'hosts':>5} {'maintbook run':>14} {'peak RSS':>10} {'hand-written':>13} "
          f"{'baseline':>30} {'ratio':>6}")
    for size in found:
        ours = median([t.seconds for t in size.ours])
        rss = max(t.rss_kib for t in size.ours) / 1024
        line = f"{size.hosts:>5} {ours:>12.1f} s {rss:>6.1f} MiB"
        if size.theirs:
            label = ("same forks and transport" if size.baseline == "tuned"
                     else "Ansible's defaults")
            theirs = median([t.seconds for t in size.theirs])
            line += f" {theirs:>11.1f} s {label:>30} {size.ratio:>5.2f}x"
        print(line)
    big = found[-1]
    print(f"wall ratio at {big.hosts} hosts vs the hand-written playbook, same forks "
          f"({args.serial}) and transport: {big.ratio:.2f}x (target <= 1.15x)")
    low = max(t.rss_kib for t in found[0].ours)
    high = max(t.rss_kib for t in big.ours)
    print(f"maintbook peak RSS from {found[0].hosts} to {big.hosts} hosts: "
          f"{100 * (high - low) / low:+.1f}% (target < 20%)")
    plain = next(s for s in found if s.baseline == "defaults")
    print(f"at {plain.hosts} hosts, tuned maintbook vs the hand-written playbook under "
          f"Ansible's defaults: {plain.ratio:.2f}x (aim <= 0.8x)")


if __name__ == "__main__":
    main()
