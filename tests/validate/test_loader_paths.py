"""libyaml and the pure-Python parser give the same data, positions and diagnostics."""

from __future__ import annotations

import pytest
from hostile_corpus import RUNBOOK_CASES
from validate_support import GOLDEN

from maintbook import loader
from maintbook.loader import parse_text

FILES = sorted(GOLDEN.rglob("*.yml"))
TEXTS = [pytest.param(p.read_text(encoding="utf-8"), id=p.name) for p in FILES] + [
    pytest.param(c.content.decode("utf-8"), id=c.name)
    for c in RUNBOOK_CASES if len(c.content) < 100_000 and c.name != "latin-1"
]


@pytest.mark.parametrize("text", TEXTS)
def test_same_result_on_both_paths(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    fast_doc, fast_problems = parse_text(text, "f.yml")
    monkeypatch.setattr(loader, "fast_available", lambda: False)
    pure_doc, pure_problems = parse_text(text, "f.yml")
    assert fast_problems == pure_problems
    if fast_doc is not None and pure_doc is not None:
        assert fast_doc.data == pure_doc.data
        assert fast_doc.source == pure_doc.source


def test_the_fast_path_is_taken() -> None:
    assert loader.fast_available()


def test_yaml_1_2_scalars() -> None:
    document, _ = parse_text("a: yes\nb: on\nc: 12:30\nd: 0o17\ne: 017\nf: 1_000\ng: ~\n", "x")
    assert document is not None
    assert document.data == {"a": "yes", "b": "on", "c": "12:30", "d": 15, "e": 17, "f": 1000,
                             "g": None}
