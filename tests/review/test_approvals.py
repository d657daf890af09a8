"""Approvals bound to content: the digest, naming the change, `approve`, validate, the gate."""

from __future__ import annotations

import difflib
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from review_support import NOW, STANDARD, cli, project

from maintbook.approvals import approval_digest, changes, phase_changes, stale_message
from maintbook.checks import Context as CheckContext
from maintbook.config import default_config
from maintbook.context import Context, build_context, gate_runbook
from maintbook.digest import content_digest, fingerprints
from maintbook.loader import Document, load_file, parse_text
from maintbook.model import build_runbook
from maintbook.runtime.gate import approval_rules

DB = "db-maintenance.yml"  # the frozen fixture
BASE = {
    "type": "planned-outage",
    "window": {"start": "2026-12-06T02:00:00Z", "duration": "2h"},
    "targets": {"hosts": "db"},
    "steps": [{"name": "Backup", "command": "pg_dump app"},
              {"name": "Restart PostgreSQL", "module": {
                  "name": "ansible.builtin.service",
                  "args": {"name": "postgresql", "state": "restarted"}}}],
}


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Commands run from the test's own project: no other runbook is booked."""
    monkeypatch.chdir(tmp_path)


def edited(**changes: object) -> dict[str, object]:
    return {**BASE, "title": "anything", **changes}


# ---------------------------------------------------------------- the digest


def test_title_and_step_names_are_not_content() -> None:
    renamed = [{**BASE["steps"][0], "name": "Take a backup"}, BASE["steps"][1]]  # type: ignore[index]
    assert content_digest(edited(title="Other")) == content_digest(BASE)
    assert content_digest(edited(steps=renamed)) == content_digest(BASE)


def test_a_name_inside_the_arguments_is_content() -> None:
    steps = [BASE["steps"][0], {"name": "Restart PostgreSQL", "module": {  # type: ignore[index]
        "name": "ansible.builtin.service", "args": {"name": "nginx", "state": "restarted"}}}]
    assert content_digest(edited(steps=steps)) != content_digest(BASE)
    module = [BASE["steps"][0], {"name": "Restart PostgreSQL", "module": {  # type: ignore[index]
        "name": "ansible.builtin.systemd", "args": {"name": "postgresql"}}}]
    assert content_digest(edited(steps=module)) != content_digest(BASE)


def test_the_same_instant_with_another_offset_is_the_same_window() -> None:
    window = {"start": "2026-12-06T03:00:00+01:00", "duration": "2h"}
    assert content_digest(edited(window=window)) == content_digest(BASE)
    later = {"start": "2026-12-06T03:00:00Z", "duration": "2h"}
    assert content_digest(edited(window=later)) != content_digest(BASE)


def test_a_value_equal_to_its_schema_default_counts_as_left_out() -> None:
    """A loader that fills in defaults and one that does not give the same digest."""
    steps = [{"name": "Check", "http": {"url": "http://x/", "method": "GET", "status": 200}}]
    plain = edited(steps=[{"name": "Check", "http": {"url": "http://x/"}}])
    filled = edited(steps=steps, maintenance_mode=False, on_interrupt="rollback")
    assert content_digest(filled) == content_digest(plain)
    assert fingerprints(filled) == fingerprints(plain)
    assert content_digest(edited(maintenance_mode=True)) != content_digest(BASE)
    assert content_digest(edited(steps=[{"name": "Check", "http": {
        "url": "http://x/", "status": 204}}])) != content_digest(plain)


def test_fingerprints_key_steps_by_name_in_order() -> None:
    found = fingerprints(BASE)
    assert list(found) == ["type", "window.start", "window.duration", "targets", "steps"]
    assert list(found["steps"]) == ["Backup", "Restart PostgreSQL"]
    assert all(len(v) == 8 for v in found["steps"].values())


# ---------------------------------------------------------------- naming the change


def test_changes_name_the_step_and_the_window() -> None:
    steps = [BASE["steps"][0], {"name": "Restart PostgreSQL", "command": "pg_ctl restart"}]  # type: ignore[index]
    later = {"start": "2026-12-13T02:00:00Z", "duration": "2h"}
    assert changes(fingerprints(BASE), fingerprints(edited(steps=steps, window=later))) == [
        "window moved", "steps[1] 'Restart PostgreSQL' changed"]


@pytest.mark.parametrize(("old", "new", "expected"), [
    ({"A": "1", "B": "2"}, {"A": "1", "B": "2"}, []),
    ({"A": "1", "B": "2"}, {"A": "1", "C": "2"}, []),  # renamed only
    ({"A": "1", "B": "2"}, {"A": "1", "B": "2", "C": "3"}, ["steps[2] 'C' added"]),
    ({"A": "1", "B": "2"}, {"B": "2"}, ["steps 'A' removed"]),
    ({"A": "1", "B": "2"}, {"B": "2", "A": "1"}, ["steps reordered"]),
    ({"A": "1", "B": "2"}, {"A": "9", "B": "2"}, ["steps[0] 'A' changed"]),
    ({"A": "1", "B": "2"}, {"C": "3", "A": "1", "B": "2"}, ["steps[0] 'C' added"]),
])
def test_phase_changes(old: dict[str, str], new: dict[str, str], expected: list[str]) -> None:
    assert phase_changes("steps", old, new) == expected


def test_sections_added_removed_and_changed() -> None:
    old = {"type": "1", "soak": "2", "targets": "3"}
    new = {"type": "9", "targets": "3", "rollback_reserve": "4"}
    assert changes(old, new) == ["type changed", "soak removed", "rollback_reserve added"]


def test_an_approval_without_sections_still_says_it_is_stale() -> None:
    message = stale_message("cto", "carol", "sha256:" + "ab" * 32, None, fingerprints(BASE))
    assert message == ("the cto approval by carol was given for other content "
                       "(sha256:abababababab…); it records no sections to say what changed "
                       "(maintbook diff against the approved commit shows it)")


def test_the_checks_docstring_examples() -> None:
    """As the validate tests run every check's examples: each merged into a valid runbook."""
    examples = dict(re.findall(r"^\s*(pass|fail): `(.*)`$", approval_digest.__doc__ or "",
                               re.MULTILINE))
    base, _ = load_file(STANDARD[0])
    assert base is not None and set(examples) == {"pass", "fail"}
    ctx = CheckContext(default_config(), ())
    found = {}
    for verdict, fragment in examples.items():
        patch, _ = parse_text(fragment, "example.yml")
        assert patch is not None
        document = Document(base.file, {**base.data, **patch.data}, base.source)
        found[verdict] = [f.diagnostic.code for f in approval_digest(document, ctx)]
    assert found == {"pass": [], "fail": ["approval-stale"]}


# ---------------------------------------------------------------- maintbook approve


@pytest.mark.parametrize("path", STANDARD, ids=lambda p: p.name)
def test_approve_only_adds_lines_and_the_runbook_stays_valid(path: Path, tmp_path: Path) -> None:
    root = project(tmp_path, path.name)
    target = root / "runbooks" / path.name
    before = target.read_text(encoding="utf-8")
    result = cli("approve", str(target), "--role", "cto", "--by", "quinn",
                 "--at", "2026-11-19T08:00:00Z")
    assert result.exit_code == 0, result.output
    after = target.read_text(encoding="utf-8")
    removed = [line for line in difflib.unified_diff(before.splitlines(), after.splitlines(),
                                                     lineterm="", n=0)
               if line.startswith("-") and not line.startswith("---")]
    assert removed == []
    document, _ = load_file(target)
    assert document is not None
    entry = document.data["approvals"][-1]
    assert entry["digest"] == content_digest(document.data)
    assert entry["sections"] == fingerprints(document.data)
    assert ("  - role: cto\n    by: quinn\n    at: 2026-11-19T08:00:00Z\n    digest: sha256:"
            in after)
    assert cli("validate", str(target), "--now", NOW).exit_code == 0


def _approved(tmp_path: Path) -> Path:
    target = project(tmp_path, DB) / "runbooks" / DB
    result = cli("approve", str(target), "--role", "vp-engineering", "--by", "bob",
                 "--at", "2026-11-19T09:00:00Z")
    assert result.output.startswith("MNT-2027-0300: approved as vp-engineering by bob at "
                                    "2026-11-19T09:00:00Z for sha256:")
    return target


def test_reapproval_replaces_the_earlier_one(tmp_path: Path) -> None:
    target = _approved(tmp_path)
    assert cli("approve", str(target), "--role", "vp-engineering", "--by", "bob").exit_code == 0
    document, _ = load_file(target)
    assert document is not None
    assert [(a["role"], a["by"]) for a in document.data["approvals"]] == [
        ("engineering-manager", "alice"), ("vp-engineering", "bob")]


def test_the_owner_cannot_approve(tmp_path: Path) -> None:
    target = project(tmp_path, DB) / "runbooks" / DB
    before = target.read_text()
    result = cli("approve", str(target), "--role", "vp-engineering", "--by", "sre-team")
    assert (result.exit_code, result.output) == (2, (
        "maintbook: sre-team owns MNT-2027-0300; an approval by the owner does not count "
        "(four eyes)\n"))
    assert target.read_text() == before


def test_an_invalid_runbook_is_not_approved(tmp_path: Path) -> None:
    target = project(tmp_path, DB) / "runbooks" / DB
    target.write_text(target.read_text().replace("type: planned-outage", "type: planned"))
    before = target.read_text()
    result = cli("approve", str(target), "--role", "vp-engineering", "--by", "bob")
    assert result.exit_code == 2
    assert "schema-enum" in result.output
    assert result.output.endswith(f"maintbook: {target} is not valid; fix it before approving "
                                  "it\n")
    assert target.read_text() == before


def test_approvals_key_is_added_after_the_window_when_missing(tmp_path: Path) -> None:
    target = project(tmp_path, DB) / "runbooks" / DB
    text = target.read_text()
    start = text.index("approvals:\n")
    end = text.index("targets:\n")
    target.write_text(text[:start] + text[end:])
    assert cli("approve", str(target), "--role", "vp-engineering", "--by", "bob").exit_code == 0
    after = target.read_text()
    assert after.index("  duration: 2h\napprovals:\n  - role: vp-engineering\n") > 0


# ---------------------------------------------------------------- validate names the change


def test_validate_says_which_change_invalidated_the_approval(tmp_path: Path) -> None:
    target = _approved(tmp_path)
    text = target.read_text()
    text = text.replace("start: 2027-02-07T02:00:00Z", "start: 2027-02-14T02:00:00Z")
    text = text.replace("args: {name: postgresql, state: restarted}",
                        "args: {name: postgresql, state: reloaded}")
    target.write_text(text)
    result = cli("validate", str(target), "--now", NOW)
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.startswith(str(target))]
    assert lines == [
        f"{target}:20:3: error approval-missing type planned-outage needs an approval by role "
        "vp-engineering; none is given for this content (the one by bob was given for other "
        "content) (required: vp-engineering)",
        f"{target}:24:13: warning approval-stale the vp-engineering approval by bob was given "
        "for other content: window moved, steps[2] 'Restart PostgreSQL' changed; "
        f"it no longer counts: approve again with maintbook approve {target} --role "
        "vp-engineering --by NAME",
    ]


def test_editing_only_the_title_and_comments_keeps_the_approval(tmp_path: Path) -> None:
    target = _approved(tmp_path)
    text = target.read_text().replace("title: Reindex the orders database",
                                      "title: Reindex orders # renamed")
    target.write_text(text.replace("- name: Back up the orders database",
                                   "- name: Take a backup of the orders database"))
    result = cli("validate", str(target), "--now", NOW)
    assert (result.exit_code, result.output) == (0, "")


def test_an_approval_without_a_digest_stays_valid() -> None:
    document, _ = load_file(STANDARD[0])
    assert document is not None
    assert all("digest" not in a for a in document.data["approvals"])
    assert cli("validate", str(STANDARD[0]), "--now", NOW).exit_code == 0


# ---------------------------------------------------------------- the run gate


def test_the_gate_names_the_change_also_through_the_plugins_context(tmp_path: Path) -> None:
    target = _approved(tmp_path)
    target.write_text(target.read_text().replace("duration: 2h", "duration: 90m", 1))
    assert "duration: 90m" in target.read_text()
    document, _ = load_file(target)
    assert document is not None
    runbook = build_runbook(document)
    config = default_config(tmp_path)
    rebuilt = gate_runbook(Context.from_dict(build_context(runbook, config).to_dict(tmp_path),
                                             tmp_path))
    now = datetime(2027, 2, 7, 2, 0, tzinfo=UTC)  # the fixture's window
    for rb in (runbook, rebuilt):
        messages = [r.message for r in approval_rules(rb, config.policy, now)]
        assert messages == [
            "type planned-outage needs an approval by role vp-engineering; none is given for "
            "this content (the one by bob was given for other content) (required: "
            "vp-engineering)",
            "the vp-engineering approval by bob was given for other content: window duration "
            "changed; approve it again (maintbook approve)",
        ]
