"""`maintbook diff` between commits of a real, temporary git repository."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from review_support import cli, project

DB = "runbooks/db-maintenance.yml"  # the frozen fixture


def git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True)
    return done.stdout


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A runbook repository whose first commit holds the fixture runbook, approved."""
    root = project(tmp_path / "repo", "db-maintenance.yml")
    monkeypatch.chdir(root)
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.email", "reviewer@example.com")
    git(root, "config", "user.name", "Reviewer")
    result = cli("approve", DB, "--role", "vp-engineering", "--by", "bob",
                 "--at", "2026-11-19T09:00:00Z")
    assert result.exit_code == 0, result.output
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    return root


def edit(root: Path, old: str, new: str, path: str = DB) -> None:
    text = (root / path).read_text()
    assert text.count(old) == 1, old
    (root / path).write_text(text.replace(old, new))


ADDED_STEP = ("\n  - name: Log the table sizes\n    command: /usr/local/bin/table-sizes app\n"
              "verify:\n")


def test_diff_names_the_moved_window_the_added_step_and_the_invalidated_approval(
        repo: Path) -> None:
    edit(repo, "start: 2027-02-07T02:00:00Z", "start: 2027-02-14T02:00:00Z")
    edit(repo, "\nverify:\n", ADDED_STEP)
    git(repo, "commit", "-q", "-am", "move and add")
    result = cli("diff", "HEAD~1", "HEAD")
    assert result.exit_code == 0, result.output
    text = result.output
    assert text.startswith(
        "# maintbook diff HEAD~1..HEAD\n\n"
        f"## {DB} (modified)\n\n"
        "What changed:\n\n"
        "- window moved from 2027-02-07T02:00:00Z to 2027-02-14T02:00:00Z\n"
        "- steps[3] 'Log the table sizes' added\n\n"
        "Approvals:\n\n"
        "- the engineering-manager approval by alice has no digest: it still counts for the "
        "changed content\n"
        "- invalidated by this change: the vp-engineering approval by bob was given for other "
        "content: window moved, steps[3] 'Log the table sizes' added\n\n"
        "Compiled playbook:\n\n```diff\n"
        "--- HEAD~1/db-maintenance.yml\n+++ HEAD/db-maintenance.yml\n")
    assert '-        window_start: "2027-02-07T02:00:00Z"\n' in text
    assert '+        window_start: "2027-02-14T02:00:00Z"\n' in text
    assert '+        - name: "Step | Log the table sizes"' in text
    assert text.endswith("```\n")


def test_diff_against_the_work_tree_includes_untracked_runbooks(repo: Path) -> None:
    edit(repo, "timeout: 5m", "timeout: 10m")
    new = (repo / DB).read_text().replace("MNT-2027-0300", "MNT-2027-0309")
    (repo / "runbooks" / "another.yml").write_text(new)
    result = cli("diff", "main", "--format", "json")
    assert result.exit_code == 0, result.output
    found = {item["path"]: item for item in json.loads(result.output)}
    assert list(found) == ["runbooks/another.yml", DB]
    assert found["runbooks/another.yml"]["status"] == "added"
    assert found["runbooks/another.yml"]["changes"] == [
        "new runbook MNT-2027-0309: planned-outage, window 2027-02-07T02:00:00Z (2h), 3 steps"]
    assert found["runbooks/another.yml"]["playbook_diff"].startswith(
        "--- main/another.yml\n+++ work tree/another.yml\n@@ -0,0 +1,")
    assert found[DB]["changes"] == [
        "steps[2] 'Restart PostgreSQL' changed: timeout"]
    assert found[DB]["approvals"][1] == (
        "invalidated by this change: the vp-engineering approval by bob was given for other "
        "content: steps[2] 'Restart PostgreSQL' changed")


def test_text_only_changes_keep_the_approval(repo: Path) -> None:
    edit(repo, "title: Reindex the orders database", "title: Orders maintenance")
    edit(repo, "- name: Reindex the orders table", "- name: Rebuild the orders indexes")
    result = cli("diff", "HEAD", "--format", "json")
    item = json.loads(result.output)[0]
    assert item["changes"] == [
        "steps[1] renamed from 'Reindex the orders table' to 'Rebuild the orders indexes'",
        "title changed (not executable content: approvals stay valid)"]
    assert item["approvals"] == ["the vp-engineering approval by bob is valid for this content"]


def test_a_removed_and_a_broken_runbook(repo: Path) -> None:
    (repo / "runbooks" / "broken.yml").write_text("runbook: 1\nid: [\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "broken")
    git(repo, "rm", "-q", DB)
    git(repo, "commit", "-q", "-m", "removed")
    result = cli("diff", "HEAD~2", "HEAD", "--format", "json")
    found = {item["path"]: item for item in json.loads(result.output)}
    assert found[DB]["status"] == "deleted"
    assert found[DB]["changes"] == ["runbook removed"]
    assert found[DB]["playbook_diff"].startswith("--- HEAD~2/db-maintenance.yml\n"
                                                 "+++ HEAD/db-maintenance.yml\n")
    assert found["runbooks/broken.yml"]["changes"] == ["not valid at HEAD: nothing to compare"]
    assert found["runbooks/broken.yml"]["notes"][0].startswith(
        "not valid at HEAD: 1 error(s) (first: line 3: yaml-syntax")


def test_nothing_changed_and_a_bad_ref(repo: Path) -> None:
    assert cli("diff", "HEAD").output == "# maintbook diff HEAD..work tree\n\nNo runbook changed.\n"
    result = cli("diff", "no-such-ref")
    assert (result.exit_code, result.output) == (
        2, f"maintbook: no commit named 'no-such-ref' in {repo}\n")
