"""YAML → plain data + the line and column of every key and value.

The loader composes the node graph through libyaml (`yamlcore`, fast) and builds the data
itself so that it can keep positions, report duplicate keys with both places, keep
timestamps as the text the author wrote, and refuse alias expansions that would blow up
(billion laughs) before they do. A file libyaml rejects goes through the pure-Python parser
of ruamel.yaml, whose messages say what is wrong and where.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from yaml import YAMLError as FastYAMLError

from maintbook.diagnostics import Diagnostic
from maintbook.yamlcore import MERGE, ScalarError, compose_fast, construct, fast_available

MAX_BYTES = 1024 * 1024
MAX_NODES = 100_000
MAX_DEPTH = 64

PathKey = tuple[str | int, ...]


@dataclass(frozen=True)
class SourceMap:
    """1-based positions of every value (and of every mapping key) by path."""

    values: dict[PathKey, tuple[int, int]] = field(default_factory=dict)
    keys: dict[PathKey, tuple[int, int]] = field(default_factory=dict)

    def value(self, path: PathKey) -> tuple[int, int]:
        """Where the value at `path` starts, or its nearest located ancestor."""
        return self._nearest(self.values, path)

    def key(self, path: PathKey) -> tuple[int, int]:
        """Where the key of the member at `path` starts (the value's place for list items)."""
        if path in self.keys:
            return self.keys[path]
        return self._nearest(self.values, path)

    @staticmethod
    def _nearest(table: dict[PathKey, tuple[int, int]], path: PathKey) -> tuple[int, int]:
        for end in range(len(path), -1, -1):
            if path[:end] in table:
                return table[path[:end]]
        return (1, 1)


@dataclass(frozen=True)
class Document:
    """A loaded YAML file: the plain data and where each part came from."""

    file: str
    data: Any
    source: SourceMap

    def at(
        self, path: PathKey, code: str, message: str, *, key: bool = False, severity: str = "error"
    ) -> Diagnostic:
        line, column = self.source.key(path) if key else self.source.value(path)
        return Diagnostic(self.file, line, column, severity, code, message)  # type: ignore[arg-type]

    def find(
        self, path: PathKey, code: str, message: str, *, key: bool = False, severity: str = "error"
    ) -> Finding:
        """`at`, keeping the path: a finding later stages can relate to the data."""
        return Finding(path, self.at(path, code, message, key=key, severity=severity))


@dataclass(frozen=True)
class Finding:
    """A diagnostic with the path into the data it concerns (to drop its consequences).

    `shown` is False for a finding another one already reports (the missing twin of a
    misspelt key): it is not printed, but later stages still know the value is absent.
    """

    path: PathKey
    diagnostic: Diagnostic
    shown: bool = True


class _LoadError(Exception):
    def __init__(self, line: int, column: int, code: str, message: str) -> None:
        super().__init__(message)
        self.line, self.column, self.code, self.message = line, column, code, message


def _mark(node: Any) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


_SURROGATE = re.compile("[\ud800-\udfff]")


def _text(node: Any) -> str:
    """A scalar's text; an escaped lone surrogate ("\\ud800") is not a character."""
    text = str(node.value)
    if node.style == '"' and _SURROGATE.search(text):  # only an escape can make one
        raise _LoadError(
            *_mark(node),
            "yaml-encoding",
            "the text contains an escaped UTF-16 surrogate (\\ud800-\\udfff), "
            "which is not a character; write the character itself or "
            "escape it as \\UXXXXXXXX",
        )
    return text


class _Builder:
    """Turns composed nodes (libyaml's or ruamel's) into plain data, recording positions.

    An alias is the same node object met again: its expansion counts against the node
    budget, and a budget overrun is reported where the expanding alias is used.
    """

    def __init__(self) -> None:
        self.source = SourceMap()
        self.nodes = 0
        self.seen: set[int] = set()
        self.active: set[int] = set()

    def build(self, node: Any, path: PathKey, alias_at: PathKey | None = None) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES:  # at the alias expanding, else at the top-level key
            raise self._too_large(node, path[:1] if alias_at is None else alias_at)
        if len(path) > MAX_DEPTH:
            raise _LoadError(
                *_mark(node), "yaml-too-deep", f"nesting deeper than {MAX_DEPTH} levels"
            )
        if path not in self.source.values:
            mark = node.start_mark
            self.source.values[path] = (mark.line + 1, mark.column + 1)
        if node.id == "scalar":
            return _scalar(node)
        key = id(node)
        if key in self.active:
            raise _LoadError(
                *self.source.value(path),
                "yaml-alias",
                "this alias refers to a node that contains it (a recursive alias)",
            )
        if alias_at is None and key in self.seen:
            alias_at = path[:-1]
        self.seen.add(key)
        self.active.add(key)
        try:
            if node.id == "mapping":
                return self._mapping(node, path, alias_at)
            return [self.build(item, (*path, i), alias_at) for i, item in enumerate(node.value)]
        finally:
            self.active.discard(key)

    def _too_large(self, node: Any, where: PathKey) -> _LoadError:
        line, column = self.source.key(where) if where else _mark(node)
        named = f" at {_dotted(where)!r}" if where else ""
        return _LoadError(
            line,
            column,
            "yaml-too-large",
            f"the document expands to more than {MAX_NODES} nodes{named} "
            "(aliases expanding exponentially?)",
        )

    def _mapping(self, node: Any, path: PathKey, alias_at: PathKey | None) -> dict[str, Any]:
        result: dict[str, Any] = {}
        keys = self.source.keys
        for key_node, value_node in _pairs(node):
            if key_node.id != "scalar":
                raise _LoadError(*_mark(key_node), "yaml-key", "mapping keys must be plain scalars")
            key = _text(key_node)
            here = _mark(key_node)
            where = (*path, key)
            if key in result:
                line, column = keys[where]
                raise _LoadError(
                    *here,
                    "yaml-duplicate-key",
                    f"duplicate key {key!r} (first defined at line {line}, column {column})",
                )
            keys[where] = here
            result[key] = self.build(value_node, where, alias_at)
        return result


def _dotted(path: PathKey) -> str:
    """('steps', 0, 'vars') → `steps[0].vars` (schema.dotted, which imports this module)."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _scalar(node: Any) -> Any:
    tag = str(node.tag or "")
    try:
        return construct(tag, _text(node), implicit=not node.style)
    except ScalarError as exc:
        raise _LoadError(*_mark(node), "yaml-value", str(exc)) from exc


def _is_merge(key_node: Any) -> bool:
    return key_node.id == "scalar" and str(key_node.tag) == MERGE


def _pairs(node: Any) -> list[tuple[Any, Any]] | Iterator[tuple[Any, Any]]:
    """Members of a mapping, with `<<` merge keys expanded (explicit keys win)."""
    members: list[tuple[Any, Any]] = node.value
    if not any(_is_merge(key_node) for key_node, _ in members):
        return members
    return _merged(members)


def _merged(members: list[tuple[Any, Any]]) -> Iterator[tuple[Any, Any]]:
    merged: list[tuple[Any, Any]] = []
    own: list[tuple[Any, Any]] = []
    for key_node, value_node in members:
        if _is_merge(key_node):
            sources = value_node.value if value_node.id == "sequence" else [value_node]
            for source in sources:
                if source.id != "mapping":
                    raise _LoadError(
                        *_mark(source),
                        "yaml-merge",
                        "a merge key (<<) needs a mapping or a list of mappings",
                    )
                merged.extend(source.value)
        else:
            own.append((key_node, value_node))
    own_keys = {str(k.value) for k, _ in own if k.id == "scalar"}
    seen: set[str] = set()
    for key_node, value_node in merged:
        name = str(key_node.value)
        if name not in own_keys and name not in seen:
            seen.add(name)
            yield key_node, value_node
    yield from own


def _decode(raw: bytes) -> str:
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise _LoadError(
            line,
            column,
            "yaml-encoding",
            f"the file is not valid UTF-8 (byte 0x{raw[exc.start]:02x})",
        ) from exc


def _compose_pure(text: str) -> Any:
    """The pure-Python parser (ruamel.yaml): slower, and the one whose messages we print."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    try:
        return YAML(typ="safe", pure=True).compose(text)
    except MarkedYAMLError as exc:
        raise _syntax_error(exc) from exc
    except YAMLError as exc:
        raise _LoadError(1, 1, "yaml-syntax", f"YAML syntax error: {exc}") from exc
    except RecursionError as exc:
        raise _LoadError(1, 1, "yaml-too-deep", f"nesting deeper than {MAX_DEPTH} levels") from exc


def _syntax_error(exc: Any) -> _LoadError:
    """Where a syntax error is: where the construct it ends started, when the file ended first."""
    mark = exc.problem_mark or exc.context_mark
    opened = exc.context_mark
    problem = exc.problem or exc.context or "invalid YAML"
    if exc.context and exc.problem:
        where = f" started at line {opened.line + 1}, column {opened.column + 1}" if opened else ""
        if opened and mark and (opened.line, opened.column) == (mark.line, mark.column):
            where = ""
        problem = f"{problem} ({exc.context}{where})"
        if opened and "end of stream" in (exc.problem or ""):
            mark = opened  # the end of the file says nothing; the unclosed start does
            problem = f"the file ends inside this construct ({exc.context}); close it"
    line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    return _LoadError(line, column, "yaml-syntax", f"YAML syntax error: {problem}")


def _compose(text: str) -> Any:
    """libyaml when it parses the text; otherwise the pure parser says what is wrong."""
    if fast_available():
        try:
            return compose_fast(text)
        except FastYAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            if mark is not None and "maximum nesting depth" in str(exc):
                line, column = mark.line + 1, mark.column + 1
                message = f"nesting deeper than {MAX_DEPTH} levels"
                raise _LoadError(line, column, "yaml-too-deep", message) from exc
    return _compose_pure(text)


# What YAML 1.2 allows in a stream (§5.1): tab, line breaks, printable Unicode.
_NOT_PRINTABLE = re.compile(
    "[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)


def _position(text: str, index: int) -> tuple[int, int]:
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def _check_characters(text: str) -> None:
    found = _NOT_PRINTABLE.search(text)
    if found is None:
        return
    char = found.group()
    if char == "\x00":
        message = "the file contains a NUL byte; it is not a text file"
    else:
        message = (
            f"the file contains the control character U+{ord(char):04X}; YAML allows tab, "
            "line breaks and printable characters (write it as an escape in a double-quoted "
            "string)"
        )
    raise _LoadError(*_position(text, found.start()), "yaml-encoding", message)


def _is_empty(node: Any) -> bool:
    """No document, or only `---`: an empty plain scalar."""
    return node is None or (node.id == "scalar" and node.value == "" and not node.style)


def parse_text(text: str, file: str) -> tuple[Document | None, list[Diagnostic]]:
    """Parse YAML text whose top level must be a mapping."""
    try:
        _check_characters(text)
        node = _compose(text)
        if _is_empty(node):
            raise _LoadError(1, 1, "yaml-empty", "the file is empty; a runbook is a YAML mapping")
        if node.id != "mapping":
            raise _LoadError(
                *_mark(node),
                "yaml-not-mapping",
                f"the document is a {_kind(node)}; it must be a mapping of keys",
            )
        builder = _Builder()
        data = builder.build(node, ())
    except _LoadError as err:
        return None, [Diagnostic(file, err.line, err.column, "error", err.code, err.message)]
    except RecursionError:
        return None, [
            Diagnostic(
                file, 1, 1, "error", "yaml-too-deep", f"nesting deeper than {MAX_DEPTH} levels"
            )
        ]
    return Document(file, data, builder.source), []


def _kind(node: Any) -> str:
    return "list" if node.id == "sequence" else "scalar value"


def load_file(path: Path, display: str | None = None) -> tuple[Document | None, list[Diagnostic]]:
    """Read and parse one file; every way it can go wrong becomes a diagnostic."""
    name = display if display is not None else str(path)
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            return None, [
                Diagnostic(
                    name,
                    1,
                    1,
                    "error",
                    "file-too-large",
                    f"the file is {size} bytes; the limit is {MAX_BYTES} (1 MiB)",
                )
            ]
        raw = path.read_bytes()
    except OSError as exc:
        return None, [
            Diagnostic(
                name,
                1,
                1,
                "error",
                "file-unreadable",
                f"cannot read the file: {exc.strerror or exc}",
            )
        ]
    try:
        text = _decode(raw)
    except _LoadError as err:
        return None, [Diagnostic(name, err.line, err.column, "error", err.code, err.message)]
    return parse_text(text, name)
