"""`maintbook --version` and `maintbook validate` never import ansible or ansible_runner."""

from __future__ import annotations

import subprocess
import sys

from validate_support import CONFIG, INVALID, NOW, VALID

PROBE = """
import sys
from click.testing import CliRunner
from maintbook.cli import main

runner = CliRunner()
args = sys.argv[1:]
result = runner.invoke(main, args, catch_exceptions=False)
print(result.exit_code)
banned = sorted(m for m in sys.modules
                if m.split(".")[0] in ("ansible", "ansible_runner"))
print(",".join(banned))
"""


def _probe(*args: str) -> tuple[int, str]:
    done = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    code, banned = done.stdout.splitlines()[-2:]
    return int(code), banned


def test_version_does_not_import_ansible() -> None:
    assert _probe("--version") == (0, "")


def test_validate_of_valid_runbooks_does_not_import_ansible() -> None:
    assert _probe("validate", str(VALID), "--config", str(CONFIG), "--now", NOW) == (0, "")


def test_validate_looking_up_builtin_modules_does_not_import_ansible() -> None:
    # module-unknown looks for ansible.builtin's modules on disk, without importing ansible
    path = INVALID / "module-unknown-builtin.yml"
    assert _probe("validate", str(path), "--config", str(CONFIG), "--now", NOW) == (1, "")


def test_the_probe_would_see_an_ansible_import() -> None:
    """The check above can fail: importing ansible shows up in sys.modules."""
    done = subprocess.run([sys.executable, "-c", "import sys, ansible.release; print("
                           "sorted(m for m in sys.modules if m.split('.')[0] == 'ansible'))"],
                          capture_output=True, text=True, timeout=120, check=True)
    assert "'ansible'" in done.stdout
