"""Run each role's Molecule ``default`` scenario: create, converge, idempotence, verify, destroy.

Needs root, iproute2, openssh-server (namespace SSH hosts), nginx and postgresql.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ROLES = ROOT / "roles"
SCENARIO_ROLES = sorted(
    p.parent.parent.parent.name for p in ROLES.glob("*/molecule/default/molecule.yml")
)
TAIL_LINES = 120


def _environment() -> dict[str, str]:
    env = dict(os.environ)
    bin_dir = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join([bin_dir, env.get("PATH", "")])
    env["ANSIBLE_ROLES_PATH"] = str(ROLES)
    env["ANSIBLE_FORCE_COLOR"] = "0"
    env["NO_COLOR"] = "1"
    env["PY_COLORS"] = "0"
    return env


def test_every_role_has_a_molecule_scenario() -> None:
    roles = sorted(p.name for p in ROLES.iterdir() if (p / "tasks" / "main.yml").is_file())
    assert roles == SCENARIO_ROLES


@pytest.mark.molecule
@pytest.mark.parametrize("role", SCENARIO_ROLES)
def test_molecule_default_scenario(role: str) -> None:
    molecule = Path(sys.executable).parent / "molecule"
    done = subprocess.run(
        [str(molecule), "test", "--scenario-name", "default"],
        cwd=ROLES / role,
        env=_environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=600,
    )
    tail = "\n".join(done.stdout.splitlines()[-TAIL_LINES:])
    assert done.returncode == 0, f"molecule test of {role} exited {done.returncode}:\n{tail}"
