"""Playbook data → YAML text: block style, deterministic, with comments and `!unsafe`.

A tiny emitter instead of a general dumper, because the output is read in pull
requests: keys keep their order, strings are quoted only when YAML needs it, and a
task can carry a comment line (where it came from in the runbook).
"""

from __future__ import annotations

import json
import re
from typing import Any


class Unsafe(str):
    """Literal text that Ansible must never template.

    Emitted as `!unsafe "..."` when it holds template syntax, plainly otherwise.
    """

    __slots__ = ()


class Commented(dict[str, Any]):
    """A mapping emitted with a comment line above it (and an optional end-of-line note)."""

    def __init__(self, comment: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.comment = comment
        self.trailing = ""


WRAP_AT = 100


_PLAIN = re.compile(r"^[A-Za-z_/.][A-Za-z0-9_ ./,()'-]*$")
_RESERVED = {"true", "false", "yes", "no", "on", "off", "null", "y", "n", "~"}


def _templated(text: str) -> bool:
    """Whether Ansible would see template syntax in the text."""
    return any(marker in text for marker in ("{{", "{%", "{#"))


def _scalar(value: Any) -> str:
    if isinstance(value, Unsafe) and _templated(value):
        return "!unsafe " + json.dumps(str(value), ensure_ascii=False)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return json.dumps(value)
    text = str(value)
    if (
        _PLAIN.match(text)
        and text.lower() not in _RESERVED
        and not text.endswith(" ")
        and ": " not in text
        and " #" not in text
    ):
        return text
    return json.dumps(text, ensure_ascii=False)


def _folded(value: Any, indent: int) -> list[str] | None:
    """A long one-line string as a folded block scalar (`>-`), wrapped at single spaces."""
    if not isinstance(value, str) or len(value) <= WRAP_AT or "\n" in value:
        return None
    words = value.split(" ")
    if any(not word for word in words) or any(ord(c) < 32 for c in value):
        return None
    lines, current = [], words[0]
    for word in words[1:]:
        if len(current) + 1 + len(word) > WRAP_AT - indent:
            lines.append(current)
            current = word
        else:
            current += " " + word
    lines.append(current)
    pad = " " * (indent + 2)
    head = "!unsafe >-" if isinstance(value, Unsafe) and _templated(value) else ">-"
    return [head] + [pad + line for line in lines]


def _inline(value: Any) -> str:
    """A value on the same line as its key or dash: a scalar, `{}` or `[]`."""
    if isinstance(value, dict) and not value:
        return "{}"
    if isinstance(value, list) and not value:
        return "[]"
    return _scalar(value)


def _lines(value: Any, indent: int) -> list[str]:
    pad = " " * indent
    if isinstance(value, dict):
        out: list[str] = []
        for key, item in value.items():
            folded = _folded(item, indent)
            if isinstance(item, dict | list) and item:
                out.append(f"{pad}{_scalar(key)}:")
                out += _lines(item, indent + 2)
            elif folded is not None:
                out.append(f"{pad}{_scalar(key)}: {folded[0]}")
                out += folded[1:]
            else:
                out.append(f"{pad}{_scalar(key)}: {_inline(item)}")
        return out
    if isinstance(value, list):
        out = []
        for item in value:
            if isinstance(item, Commented):
                out.append(f"{pad}# {item.comment}")
            if isinstance(item, dict | list) and item:
                inner = _lines(item, indent + 2)
                trailing = getattr(item, "trailing", "")
                out.append(f"{pad}- {inner[0].lstrip()}" + (f"  # {trailing}" if trailing else ""))
                out += inner[1:]
            elif (folded := _folded(item, indent)) is not None:
                out.append(f"{pad}- {folded[0]}")
                out += folded[1:]
            else:
                out.append(f"{pad}- {_inline(item)}")
        return out
    return [pad + _scalar(value)]


def emit(document: list[Any], header: str) -> str:
    """A YAML document (a playbook: a list of plays) with a header comment."""
    lines = [f"# {line}" if line else "#" for line in header.splitlines()]
    lines.append("---")
    for play in document:
        lines.append("")
        if isinstance(play, Commented):
            lines.append(f"# {play.comment}")
        inner = _lines(play, 2)
        lines.append(f"- {inner[0].lstrip()}")
        lines += inner[1:]
    return "\n".join(lines) + "\n"


def emit_data(value: dict[str, Any], header: str = "") -> str:
    """A YAML document holding one mapping (variables files)."""
    lines = [f"# {line}" if line else "#" for line in header.splitlines()]
    lines.append("---")
    lines += _lines(value, 0) if value else ["{}"]
    return "\n".join(lines) + "\n"
