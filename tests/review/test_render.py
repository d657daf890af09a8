"""`maintbook render`: the reviewer's page, against golden files for every standard runbook.

Regenerate the goldens after a deliberate change (the standard runbooks will be rewritten):

    MAINTBOOK_UPDATE_GOLDENS=1 .venv/bin/pytest tests/review/test_render.py -q
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from review_support import GOLDEN, NOW, RUNBOOKS, STANDARD, cli

UPDATE = os.environ.get("MAINTBOOK_UPDATE_GOLDENS") == "1"
FORMATS = {"markdown": "md", "json": "json"}


def _render(path: Path, fmt: str) -> str:
    result = cli("render", f"runbooks/{path.name}", "--now", NOW, "--format", fmt)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def standard_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The standard runbooks in a project of their own: on the built-in configuration, with
    no state database (a checkout where `make run` ran has one)."""
    root = tmp_path_factory.mktemp("standard")
    shutil.copytree(RUNBOOKS, root / "runbooks")
    return root


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("path", STANDARD, ids=lambda p: p.stem)
def test_render_matches_its_golden_file(path: Path, fmt: str, standard_project: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(standard_project)
    golden = GOLDEN / f"{path.stem}.{FORMATS[fmt]}"
    output = _render(path, fmt)
    if UPDATE:
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(output, encoding="utf-8")
    assert output == golden.read_text(encoding="utf-8")


def test_every_standard_runbook_has_golden_pages_and_no_golden_is_orphaned() -> None:
    expected = {f"{p.stem}.{ext}" for p in STANDARD for ext in FORMATS.values()}
    assert {p.name for p in GOLDEN.iterdir()} == expected
    assert len(STANDARD) >= 7


@pytest.mark.parametrize("path", STANDARD, ids=lambda p: p.stem)
def test_golden_pages_have_every_section_and_no_python_reprs(path: Path) -> None:
    page = (GOLDEN / f"{path.stem}.md").read_text(encoding="utf-8")
    for title in ("## Impact", "## Notices", "## Approvals", "## Conflicts", "## Targets",
                  "## Steps", "## If something fails", "## Deadline"):
        assert f"\n{title}\n" in page
    for python in ("=True", "=False", "[{'", "{'", "': ", "None"):
        assert python not in page, python
    data = json.loads((GOLDEN / f"{path.stem}.json").read_text(encoding="utf-8"))
    assert data["judged_at"] == NOW
    assert [n["offset"] for n in data["notices"]["items"]]
