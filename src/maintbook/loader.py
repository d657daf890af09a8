"""YAML → plain data + the line and column of every key and value (ruamel.yaml).

The loader composes the node graph itself so that it can keep positions, report
duplicate keys with both places, keep timestamps as the text the author wrote, and
refuse alias expansions that would blow up (billion laughs) before they do.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from maintbook.diagnostics import Diagnostic

MAX_BYTES = 1024 * 1024
MAX_NODES = 100_000
MAX_DEPTH = 64

PathKey = tuple[str | int, ...]

_KEEP_AS_TEXT = {"tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:str"}


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


class _LoadError(Exception):
    def __init__(self, line: int, column: int, code: str, message: str) -> None:
        super().__init__(message)
        self.line, self.column, self.code, self.message = line, column, code, message


def _mark(node: Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


_SURROGATE = re.compile("[\ud800-\udfff]")


def _text(node: Node) -> str:
    """A scalar's text; an escaped lone surrogate ("\\ud800") is not a character."""
    text = str(node.value)
    if _SURROGATE.search(text):
        raise _LoadError(
            *_mark(node),
            "yaml-encoding",
            "the text contains an escaped UTF-16 surrogate (\\ud800-\\udfff), "
            "which is not a character; write the character itself or "
            "escape it as \\UXXXXXXXX",
        )
    return text


class _Builder:
    """Turns composed nodes into plain data, recording positions on the way."""

    def __init__(self, yaml: YAML) -> None:
        self.constructor = yaml.constructor
        self.source = SourceMap()
        self.nodes = 0

    def build(self, node: Node, path: PathKey) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            # an aliased node's own mark is its anchor; point at the top-level key expanding it
            line, column = self.source.key(path[:1]) if path else _mark(node)
            where = f" at {path[0]!r}" if path else ""
            raise _LoadError(
                line,
                column,
                "yaml-too-large",
                f"the document expands to more than {MAX_NODES} nodes{where} "
                "(aliases expanding exponentially?)",
            )
        if len(path) > MAX_DEPTH:
            line, column = _mark(node)
            raise _LoadError(
                line, column, "yaml-too-deep", f"nesting deeper than {MAX_DEPTH} levels"
            )
        self.source.values.setdefault(path, _mark(node))
        if isinstance(node, MappingNode):
            return self._mapping(node, path)
        if isinstance(node, SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        return self._scalar(node)

    def _scalar(self, node: Node) -> Any:
        assert isinstance(node, ScalarNode)
        tag = str(node.tag or "")
        if tag in _KEEP_AS_TEXT or not tag.startswith("tag:yaml.org,2002:"):
            return _text(node)
        try:
            return self.constructor.construct_object(node, deep=True)
        except YAMLError as exc:
            line, column = _mark(node)
            raise _LoadError(line, column, "yaml-syntax", str(exc).splitlines()[0]) from exc

    def _mapping(self, node: MappingNode, path: PathKey) -> dict[str, Any]:
        result: dict[str, Any] = {}
        first_seen: dict[str, tuple[int, int]] = {}
        for key_node, value_node in self._pairs(node):
            if not isinstance(key_node, ScalarNode):
                line, column = _mark(key_node)
                raise _LoadError(line, column, "yaml-key", "mapping keys must be plain scalars")
            key = _text(key_node)
            here = _mark(key_node)
            if key in first_seen:
                line, column = first_seen[key]
                raise _LoadError(
                    *here,
                    "yaml-duplicate-key",
                    f"duplicate key {key!r} (first defined at line {line}, column {column})",
                )
            first_seen[key] = here
            self.source.keys[(*path, key)] = here
            result[key] = self.build(value_node, (*path, key))
        return result

    def _pairs(self, node: MappingNode) -> Iterator[tuple[Node, Node]]:
        """Members of a mapping, with `<<` merge keys expanded (explicit keys win)."""
        merged: list[tuple[Node, Node]] = []
        own: list[tuple[Node, Node]] = []
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                sources = value_node.value if isinstance(value_node, SequenceNode) else [value_node]
                for source in sources:
                    if not isinstance(source, MappingNode):
                        raise _LoadError(
                            *_mark(source),
                            "yaml-merge",
                            "a merge key (<<) needs a mapping or a list of mappings",
                        )
                    merged.extend(source.value)
            else:
                own.append((key_node, value_node))
        own_keys = {str(k.value) for k, _ in own if isinstance(k, ScalarNode)}
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


def _compose(text: str) -> tuple[YAML, Node | None]:
    yaml = YAML(typ="safe", pure=True)
    try:
        return yaml, yaml.compose(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = exc.problem or exc.context or "invalid YAML"
        if exc.context and exc.problem:
            opened = exc.context_mark
            started = (
                f" started at line {opened.line + 1}, column {opened.column + 1}"
                if opened and mark and (opened.line, opened.column) != (mark.line, mark.column)
                else ""
            )
            problem = f"{problem} ({exc.context}{started})"
        raise _LoadError(line, column, "yaml-syntax", f"YAML syntax error: {problem}") from exc
    except YAMLError as exc:
        raise _LoadError(1, 1, "yaml-syntax", f"YAML syntax error: {exc}") from exc
    except RecursionError as exc:
        raise _LoadError(1, 1, "yaml-too-deep", f"nesting deeper than {MAX_DEPTH} levels") from exc


def parse_text(text: str, file: str) -> tuple[Document | None, list[Diagnostic]]:
    """Parse YAML text whose top level must be a mapping."""
    try:
        yaml, node = _compose(text)
        if node is None:
            raise _LoadError(1, 1, "yaml-empty", "the file is empty; a runbook is a YAML mapping")
        if not isinstance(node, MappingNode):
            raise _LoadError(
                *_mark(node),
                "yaml-not-mapping",
                f"the document is a {_kind(node)}; it must be a mapping of keys",
            )
        builder = _Builder(yaml)
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


def _kind(node: Node) -> str:
    if isinstance(node, SequenceNode):
        return "list"
    return "scalar value"


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
    if "\x00" in text:
        index = text.index("\x00")
        line = text[:index].count("\n") + 1
        column = index - (text.rfind("\n", 0, index) + 1) + 1
        return None, [
            Diagnostic(
                name,
                line,
                column,
                "error",
                "yaml-encoding",
                "the file contains a NUL byte; it is not a text file",
            )
        ]
    return parse_text(text, name)
