"""`pip install .` into a fresh venv outside the checkout gives a working `maintbook`.

The venv gets maintbook alone (--no-deps); its dependencies come from the test's own
environment through PYTHONPATH (site-packages without its .pth files, so the editable
install of the checkout is not visible). The build backend comes from PyPI.
"""

from __future__ import annotations

import os
import subprocess
import sysconfig
import venv
from pathlib import Path

from validate_support import NOW, REPO, VALID

RUNBOOK = (VALID / "full.yml").read_text(encoding="utf-8")


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300,
                          check=False)


def test_pip_install_outside_the_checkout(tmp_path: Path) -> None:
    target = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(target)
    work = tmp_path / "work"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    installed = _run([str(target / "bin" / "python"), "-m", "pip", "install", "--no-deps",
                      "--quiet", str(REPO)], work, env)
    assert installed.returncode == 0, installed.stderr

    env["PYTHONPATH"] = sysconfig.get_paths()["purelib"]
    (work / "runbook.yml").write_text(RUNBOOK, encoding="utf-8")
    (work / "maintbook.yml").write_text(
        "channels:\n  outbox: {type: outbox, path: .maintbook/outbox}\n"
        "  ops-slack: {type: slack, webhook_env: SLACK_WEBHOOK_URL}\n", encoding="utf-8")
    result = _run([str(target / "bin" / "maintbook"), "validate", "runbook.yml", "--now", NOW],
                  work, env)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")

    (work / "bad.yml").write_text(RUNBOOK.replace("role: log_maintenance", "role: nope", 1),
                                  encoding="utf-8")
    result = _run([str(target / "bin" / "maintbook"), "validate", "bad.yml", "--now", NOW,
                   "--format", "github"], work, env)
    assert result.returncode == 1
    assert result.stdout.startswith("::error file=bad.yml,line=35,col=11,title=role::"
                                    "unknown role 'nope'")

    where = _run([str(target / "bin" / "python"), "-c",
                  "import maintbook, maintbook.resources as r; print(maintbook.__file__); "
                  "print(r.shipped('schemas')); print(r.shipped('roles'))"], work, env)
    assert where.returncode == 0, where.stderr
    package, schemas, roles = (Path(line) for line in where.stdout.splitlines())
    site = target.resolve()
    assert package.resolve().is_relative_to(site)
    assert schemas.resolve() == package.resolve().parent / "data" / "schemas"
    assert (schemas / "runbook.schema.json").is_file()
    assert (roles / "log_maintenance" / "tasks").is_dir()
    assert roles.resolve().is_relative_to(site)
