"""The `maintbook-validate` pre-commit hook, run the way pre-commit runs it: its entry with
the matching staged file names as arguments, from the repository root."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from review_support import REPO, cli

BIN = Path(sys.executable).parent


def _hook() -> dict[str, Any]:
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    assert [h["id"] for h in hooks] == ["maintbook-validate"]
    hook: dict[str, Any] = hooks[0]
    return hook


def _run_hook(root: Path, staged: list[str]) -> subprocess.CompletedProcess[str]:
    hook = _hook()
    names = [n for n in staged if re.search(hook["files"], n)]
    env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}"}
    return subprocess.run([*shlex.split(hook["entry"]), *hook.get("args", []), *names],
                          cwd=root, env=env, capture_output=True, text=True, check=False,
                          timeout=300)


def _repository(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    assert cli("init", str(root)).exit_code == 0
    text = (root / "runbooks" / "example.yml").read_text()
    (root / "runbooks" / "bad.yml").write_text(text.replace("type: zero-downtime",
                                                            "type: no-downtime"))
    return root


def test_the_hook_fails_a_bad_runbook_with_its_diagnostic(tmp_path: Path) -> None:
    root = _repository(tmp_path)
    done = _run_hook(root, ["README.md", "runbooks/bad.yml", "runbooks/example.yml"])
    assert done.returncode == 1
    assert done.stdout.startswith(
        "runbooks/bad.yml:19:7: error schema-enum type is 'no-downtime'; allowed: ")
    assert "example.yml" not in done.stdout


def test_the_hook_passes_good_runbooks_and_ignores_other_files(tmp_path: Path) -> None:
    root = _repository(tmp_path)
    done = _run_hook(root, ["maintbook.yml", "inventory/local.yml", "runbooks/example.yml"])
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


def test_the_hook_installs_as_a_python_package() -> None:
    hook = _hook()
    assert hook["language"] == "python"
    assert hook["entry"].split()[0] == "maintbook"
    assert (REPO / "pyproject.toml").read_text().count('maintbook = "maintbook.cli:main"') == 1


@pytest.mark.integration
def test_pre_commit_itself_runs_the_hook_from_this_repository(tmp_path: Path) -> None:
    """Real pre-commit: it installs maintbook from this checkout into its own environment
    and runs the hook on the named files (slow: about a minute and a half)."""
    root = _repository(tmp_path)
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home")}
    done = subprocess.run([str(BIN / "pre-commit"), "try-repo", str(REPO), "maintbook-validate",
                           "--files", "runbooks/bad.yml", "runbooks/example.yml"],
                          cwd=root, env=env, capture_output=True, text=True, check=False,
                          timeout=900)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "maintbook validate....." in done.stdout
    assert "runbooks/bad.yml:19:7: error schema-enum type is 'no-downtime'; " in done.stdout
    assert "example.yml:" not in done.stdout
