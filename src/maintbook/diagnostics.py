"""Diagnostics: every problem found in a file, and the reporters that print them."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

Severity = Literal["error", "warning", "info"]
# Codes whose source line holds a secret: the text reporter does not echo it.
SECRET_CODES = frozenset({"config-secret"})


@dataclass(frozen=True, order=True)
class Diagnostic:
    """One problem, located at a 1-based line and column of a file."""

    file: str
    line: int
    column: int
    severity: Severity
    code: str
    message: str

    @property
    def is_error(self) -> bool:
        return self.severity == "error"


def has_errors(diagnostics: Iterable[Diagnostic]) -> bool:
    return any(d.is_error for d in diagnostics)


def sort_diagnostics(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """Stable order: by file, then position; same-position diagnostics keep their rank."""
    return sorted(diagnostics, key=lambda d: (d.file, d.line, d.column))


def _source_line(path: str, line: int, cache: dict[str, list[str] | None]) -> str | None:
    if path not in cache:
        try:
            cache[path] = Path(path).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError, ValueError):
            cache[path] = None
    lines = cache[path]
    if lines is None or not 1 <= line <= len(lines):
        return None
    return lines[line - 1]


def format_text(diagnostics: Sequence[Diagnostic]) -> str:
    """`file:line:col: severity code message`, the source line and a caret underneath."""
    cache: dict[str, list[str] | None] = {}
    out: list[str] = []
    for d in diagnostics:
        out.append(f"{d.file}:{d.line}:{d.column}: {d.severity} {d.code} {d.message}")
        source = None if d.code in SECRET_CODES else _source_line(d.file, d.line, cache)
        if source is not None and len(source) <= 500:
            out.append(f"    {source}")
            out.append("    " + " " * (d.column - 1) + "^")
    return "\n".join(out) + ("\n" if out else "")


def format_json(diagnostics: Sequence[Diagnostic]) -> str:
    return json.dumps([asdict(d) for d in diagnostics], indent=2) + "\n"


def _github_escape(text: str, *, prop: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if prop:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text


def format_github(diagnostics: Sequence[Diagnostic]) -> str:
    """GitHub Actions workflow commands, one annotation a line."""
    out = []
    for d in diagnostics:
        level = {"error": "error", "warning": "warning"}.get(d.severity, "notice")
        title = _github_escape(d.code, prop=True)
        out.append(
            f"::{level} file={_github_escape(d.file, prop=True)},line={d.line},"
            f"col={d.column},title={title}::{_github_escape(d.message)}"
        )
    return "\n".join(out) + ("\n" if out else "")


REPORTERS = {"text": format_text, "json": format_json, "github": format_github}


def report(diagnostics: Sequence[Diagnostic], fmt: str) -> str:
    return REPORTERS[fmt](diagnostics)
