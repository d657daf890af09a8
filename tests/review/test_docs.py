"""docs/: the generated reference pages are current, and no page links outside the repository."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from review_support import REPO

from maintbook.docs import main, pages, stale
from maintbook.docs_schema import anchor

DOCS = REPO / "docs"
LINK = re.compile(r"\]\(([^)\s]+)\)")


def test_the_committed_reference_pages_are_current() -> None:
    assert stale(DOCS) == [], "run: .venv/bin/python -m maintbook.docs docs"


def test_check_mode_reports_a_stale_page(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                         ) -> None:
    assert main([str(tmp_path)]) == 0
    assert main([str(tmp_path), "--check"]) == 0
    (tmp_path / "runbook.md").write_text("# old\n")
    assert main([str(tmp_path), "--check"]) == 1
    assert capsys.readouterr().out.endswith(
        f"{tmp_path / 'runbook.md'} is stale: run python -m maintbook.docs {tmp_path}\n")


def test_every_schema_key_and_command_is_documented() -> None:
    generated = pages()
    for key in ("approvals[].sections", "window.start", "soak", "on_interrupt",
                "stepFingerprints", "`on_conflict`", "`max_latency`"):
        assert key in generated["runbook.md"], key
    for key in ("`channels`", "`statuspage`", "`zones`", "`blackouts`", "When `type` is "
                "`slack`: requires `webhook_env`, or `token_env`, `channel_id`."):
        assert key in generated["configuration.md"], key
    for command in ("approve", "diff", "init", "render", "validate", "run", "recover"):
        assert f"## `maintbook {command}`" in generated["commands.md"]


@pytest.mark.parametrize("page", sorted(DOCS.glob("*.md")) + [REPO / "README.md"],
                         ids=lambda p: p.name)
def test_links_stay_inside_the_repository(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    assert "../shared" not in text
    for target in LINK.findall(text):
        assert "://" not in target, target
        path, _, fragment = target.partition("#")
        resolved = (page.parent / path).resolve() if path else page
        assert resolved.is_relative_to(REPO), target
        assert resolved.exists(), target
        if fragment:
            anchors = set(re.findall(r'<a id="([^"]+)"></a>', resolved.read_text()))
            assert fragment in anchors, target


def test_anchors_are_plain() -> None:
    assert anchor("approvals[].sections") == "approvals-sections"
    assert anchor("window.start") == "window-start"


def test_the_readme_runbooks_validate_clean(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """The README's runbook example, and the same runbook made recurring with its second
    block, validate with no diagnostic on the embedded defaults."""
    from click.testing import CliRunner

    from maintbook.cli import main as cli

    one, two = re.findall(r"```yaml\n(.*?)```", (REPO / "README.md").read_text(), re.S)
    (tmp_path / "one.yml").write_text(one)
    recurring = [line for line in one.splitlines() if not line.startswith("window:")]
    (tmp_path / "two.yml").write_text("\n".join(recurring) + "\n" + two)
    monkeypatch.chdir(tmp_path)  # no maintbook.yml here: the embedded defaults
    for name in ("one.yml", "two.yml"):
        result = CliRunner().invoke(cli, ["validate", name, "--now", "2026-11-20T00:00:00Z"])
        assert (result.exit_code, result.output) == (0, ""), name
