"""Run one role of roles/ on one host with ansible-playbook; keep its failure message and facts.

The role runs inside a block whose rescue keeps ``ansible_failed_result.msg``, so a failing
check is an outcome to look at, not an error of the play; a last task prints the message and
the facts asked for as one JSON line, read back from the output. Any other failure (a role
that cannot start, an unreachable host) makes :func:`run_role` raise with the output.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROLES = Path(__file__).resolve().parents[2] / "roles"

PLAYBOOK = """\
- name: Run one role and report its outcome
  hosts: all
  gather_facts: false
  tasks:
    - name: Run the role
      block:
        - name: Include the role under test
          ansible.builtin.include_role:
            name: "{{ role_under_test }}"
      rescue:
        - name: Keep the failure message
          ansible.builtin.set_fact:
            outcome_message: "{{ ansible_failed_result.msg }}"
      always:
        - name: Report the outcome
          ansible.builtin.debug:
            msg: "OUTCOME {{ {'message': message, 'facts': facts} | to_json }}"
          vars:
            message: "{{ outcome_message | default(None) }}"
            facts_kept: "{{ facts_to_keep | select('in', vars) | list }}"
            facts: "{{ dict(facts_kept | zip(facts_kept | map('extract', vars) | list)) }}"
"""


@dataclass(frozen=True)
class Outcome:
    """What one run of a role left: its failure message (None when it passed) and facts."""

    message: str | None
    facts: dict[str, Any]
    output: str


def run_role(
    workdir: Path,
    role: str,
    host_vars: dict[str, Any],
    role_vars: dict[str, Any],
    facts: tuple[str, ...] = (),
) -> Outcome:
    """Run ``role`` with ``role_vars`` on one host reached through ``host_vars``."""
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "playbook.yml").write_text(PLAYBOOK)
    (workdir / "inventory.json").write_text(json.dumps({"all": {"hosts": {"target": host_vars}}}))
    extra = {
        "role_under_test": role,
        "facts_to_keep": list(facts),
        **role_vars,
    }
    (workdir / "extra.json").write_text(json.dumps(extra))
    bin_dir = Path(sys.executable).parent
    env = dict(
        os.environ,
        ANSIBLE_ROLES_PATH=str(ROLES),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_HOST_KEY_CHECKING="0",
        PATH=os.pathsep.join([str(bin_dir), os.environ.get("PATH", "")]),
    )
    done = subprocess.run(
        [
            str(bin_dir / "ansible-playbook"),
            "-i",
            str(workdir / "inventory.json"),
            "-e",
            f"@{workdir / 'extra.json'}",
            str(workdir / "playbook.yml"),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    output = done.stdout + done.stderr
    if done.returncode != 0:
        raise AssertionError(f"ansible-playbook exited {done.returncode}:\n{output}")
    outcome = _reported(done.stdout)
    return Outcome(message=outcome["message"], facts=outcome["facts"], output=output)


def _reported(stdout: str) -> dict[str, Any]:
    """The message and facts the outcome task printed, as ``"msg": "OUTCOME {json}"``."""
    for line in stdout.splitlines():
        key, _, value = line.strip().partition(": ")
        if key == '"msg"' and value.startswith('"OUTCOME '):
            reported: dict[str, Any] = json.loads(json.loads(value).removeprefix("OUTCOME "))
            return reported
    raise AssertionError(f"no outcome in the output:\n{stdout}")
