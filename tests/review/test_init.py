"""`maintbook init`: a new runbook repository that validates and runs, and its CI files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from review_support import REPO, cli

from maintbook.config import load_config
from maintbook.loader import load_file

BIN = Path(sys.executable).parent
NOW = "2026-11-26T09:30:00Z"


def _init(target: Path, now: str = NOW) -> None:
    result = cli("init", str(target), "--now", now)
    assert result.exit_code == 0, result.output


def _run(root: Path, *args: str, env: dict[str, str] | None = None
         ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "maintbook"), *args], cwd=root, capture_output=True,
                          text=True, check=False, env=env, timeout=600)


def test_init_writes_the_repository(tmp_path: Path) -> None:
    result = cli("init", str(tmp_path / "x"), "--now", NOW)
    assert result.exit_code == 0
    created = [line.removeprefix(f"created {tmp_path / 'x'}/")
               for line in result.output.splitlines() if line.startswith("created ")]
    assert created == ["maintbook.yml", "runbooks/example.yml", "inventory/local.yml",
                       "roles/README.md", ".github/workflows/maintbook.yml",
                       ".pre-commit-config.yaml", ".gitignore", "schemas/runbook.schema.json",
                       "schemas/config.schema.json"]
    config, problems = load_config(tmp_path / "x" / "maintbook.yml")
    assert config is not None and problems == []
    assert list(config.channels) == ["outbox"]
    document, _ = load_file(tmp_path / "x" / "runbooks" / "example.yml")
    assert document is not None
    assert document.data["window"]["start"] == "2026-12-03T10:00:00Z"
    assert document.data["approvals"][0]["by"] == "example-approver"


def test_init_overwrites_nothing(tmp_path: Path) -> None:
    (tmp_path / "runbooks").mkdir()
    (tmp_path / "runbooks" / "example.yml").write_text("mine\n")
    result = cli("init", str(tmp_path))
    assert (result.exit_code, result.output) == (2, (
        f"maintbook: {tmp_path}: runbooks/example.yml already exist(s); maintbook init "
        "overwrites nothing, so nothing was written\n"))
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["example.yml", "runbooks"]
    assert (tmp_path / "runbooks" / "example.yml").read_text() == "mine\n"


def test_an_example_written_in_the_year_end_freeze_lands_after_it(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch
                                                                  ) -> None:
    _init(tmp_path, "2026-12-10T09:30:00Z")
    document, _ = load_file(tmp_path / "runbooks" / "example.yml")
    assert document is not None
    assert document.data["window"]["start"] >= "2027-01-02"
    monkeypatch.chdir(tmp_path)
    result = cli("validate", "runbooks/", "--now", "2026-12-10T09:30:00Z")
    assert (result.exit_code, result.output) == (0, "")


def test_the_pre_commit_config_uses_the_shipped_hook(tmp_path: Path) -> None:
    _init(tmp_path)
    shipped = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())[0]
    local = yaml.safe_load((tmp_path / ".pre-commit-config.yaml").read_text())
    hook = local["repos"][0]["hooks"][0]
    assert {k: hook[k] for k in ("id", "name", "entry", "files")} == {
        k: shipped[k] for k in ("id", "name", "entry", "files")}


@pytest.mark.integration
def test_init_then_validate_then_run_check_pass(tmp_path: Path) -> None:
    """Real: validate with the real clock, then the whole lifecycle in Ansible check mode
    against inventory/local.yml."""
    root = tmp_path / "x"
    assert cli("init", str(root)).exit_code == 0
    validated = _run(root, "validate", "runbooks/")
    assert (validated.returncode, validated.stdout, validated.stderr) == (0, "", "")
    ran = _run(root, "run", "runbooks/example.yml", "--check")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "succeeded (check)" in ran.stdout
    assert not (root / ".maintbook" / "outbox" / f"{_id(root)}.jsonl").exists()


def _id(root: Path) -> str:
    document, _ = load_file(root / "runbooks" / "example.yml")
    assert document is not None
    return str(document.data["id"])


def _steps(root: Path) -> dict[str, dict[str, str]]:
    workflow = yaml.safe_load((root / ".github" / "workflows" / "maintbook.yml").read_text())
    return {step["name"]: step for step in workflow["jobs"]["review"]["steps"] if "name" in step}


def _git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True,
                          check=True).stdout


def test_the_workflow_validates_and_posts_render_and_diff(tmp_path: Path) -> None:
    """The workflow's own scripts, run as Actions would (bash -e), `gh` recorded."""
    root = tmp_path / "x"
    _init(root)
    _git(root, "init", "-q", "-b", "main")
    _git(root, "-c", "user.email=a@b", "-c", "user.name=A", "add", "-A")
    _git(root, "-c", "user.email=a@b", "-c", "user.name=A", "commit", "-q", "-m", "init")
    base = _git(root, "rev-parse", "HEAD").strip()
    example = root / "runbooks" / "example.yml"
    example.write_text(example.read_text().replace("wait: 1s", "wait: 2s"))
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "gh").write_text('#!/bin/sh\necho "$@" > "$GH_LOG"\n')
    (fake / "gh").chmod(0o755)
    env = {**os.environ, "PATH": f"{fake}:{BIN}:{os.environ['PATH']}", "BASE": base,
           "PR": "7", "GH_LOG": str(tmp_path / "gh.log")}
    steps = _steps(root)
    assert steps["Validate the runbooks"]["run"] == "maintbook validate runbooks/ --format github"
    for name in ("Write the review", "Post the review on the pull request"):
        done = subprocess.run(["bash", "-e", "-c", steps[name]["run"]], cwd=root, env=env,
                              capture_output=True, text=True, check=False, timeout=300)
        assert done.returncode == 0, done.stderr
    review = (root / "comment.md").read_text()
    assert review.startswith(f"# maintbook diff {base}..work tree\n\n## runbooks/example.yml "
                             "(modified)\n\nWhat changed:\n\n- steps[1] 'Wait a moment' changed:"
                             " wait\n")
    assert "invalidated by this change: the team-lead approval by example-approver" in review
    assert "\n# MNT-2026-0001: Example maintenance on this machine\n" in review
    assert (tmp_path / "gh.log").read_text() == "pr comment 7 --edit-last --body-file comment.md\n"
