"""Fast YAML composition through libyaml, and the YAML 1.2 core schema for plain scalars.

`compose_fast` turns text into PyYAML's node graph with libyaml (PyYAML's C parser), which
keeps every node's line and column. Plain scalars are resolved by the YAML 1.2 core schema
as ruamel.yaml's safe loader resolves them (so `yes`, `on` and `12:30` stay text), and
`construct` turns a resolved scalar into a Python value. Nothing here reads files or
reports problems: the loader does that.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

_CParser: Any
try:
    from yaml.cyaml import CParser as _CParser  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - PyYAML built without libyaml: the pure parser only
    _CParser = None

YAML_ORG = "tag:yaml.org,2002:"
STR = YAML_ORG + "str"
TIMESTAMP = YAML_ORG + "timestamp"
NULL = YAML_ORG + "null"
BOOL = YAML_ORG + "bool"
INT = YAML_ORG + "int"
FLOAT = YAML_ORG + "float"
MERGE = YAML_ORG + "merge"

# The YAML 1.2 resolvers of ruamel.yaml's safe loader (ruamel/yaml/resolver.py), by tag.
_CORE: tuple[tuple[str, str, str], ...] = (
    (BOOL, r"(?:true|True|TRUE|false|False|FALSE)", "tTfF"),
    (
        FLOAT,
        r"""(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
        |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
        |[-+]?\.[0-9_]+(?:[eE][-+][0-9]+)?
        |[-+]?\.(?:inf|Inf|INF)
        |\.(?:nan|NaN|NAN))""",
        "-+0123456789.",
    ),
    (
        INT,
        r"""(?:[-+]?0b[0-1_]+
        |[-+]?0o?[0-7_]+
        |[-+]?[0-9_]+
        |[-+]?0x[0-9a-fA-F_]+)""",
        "-+0123456789",
    ),
    (MERGE, r"(?:<<)", "<"),
    (NULL, r"(?:~|null|Null|NULL|)", "~nN"),
    (
        TIMESTAMP,
        r"""(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]
        |[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?
        (?:[Tt]|[ \t]+)[0-9][0-9]?
        :[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?
        (?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)""",
        "0123456789",
    ),
)


class _CoreResolver(yaml.resolver.BaseResolver):
    """PyYAML's resolver with the YAML 1.2 core table instead of its YAML 1.1 one."""

    yaml_implicit_resolvers: dict[Any, list[tuple[str, re.Pattern[str]]]] = {}


for _tag, _pattern, _first in _CORE:
    _CoreResolver.add_implicit_resolver(
        _tag, re.compile(rf"\A{_pattern}\Z", re.X | re.ASCII), list(_first)
    )
_CoreResolver.add_implicit_resolver(NULL, re.compile(r"\A\Z"), [""])


if _CParser is not None:

    class _FastLoader(_CParser, _CoreResolver):  # type: ignore[misc]
        """libyaml's parser and composer, with the core schema's resolver."""


def fast_available() -> bool:
    return _CParser is not None


def compose_fast(text: str) -> Any:
    """The node graph of one YAML document (None when it is empty). Raises yaml.YAMLError."""
    make: Any = _FastLoader
    loader = make(text)
    try:
        return loader.get_single_node()
    finally:
        loader.dispose()


class ScalarError(ValueError):
    """A scalar that cannot become a value; the message says why."""


class OutOfRange(ScalarError):
    """A number too large to keep."""


INT_LIMIT = 2**63 - 1  # larger integers are refused, never truncated


def _integer(text: str) -> int:
    value = text.replace("_", "")
    sign = -1 if value.startswith("-") else 1
    value = value.lstrip("+-")
    base, digits = 10, value
    if value[:2] in ("0b", "0x", "0o"):
        base, digits = {"0b": 2, "0x": 16, "0o": 8}[value[:2]], value[2:]
    if len(digits.lstrip("0")) > 64:  # 2**63 in any base fits in 64 digits
        raise OutOfRange(_out_of_range(text))
    try:
        number = sign * int(digits, base)
    except ValueError as exc:
        raise ScalarError(f"{_short(text)} is not an integer") from exc
    if abs(number) > INT_LIMIT:
        raise OutOfRange(_out_of_range(text))
    return number


def _out_of_range(text: str) -> str:
    return f"the integer {_short(text)} is out of range: integers must lie within ±{INT_LIMIT}"


def _float(text: str) -> float:
    value = text.replace("_", "").lower()
    sign = -1.0 if value.startswith("-") else 1.0
    value = value.lstrip("+-")
    if value == ".inf":
        return sign * float("inf")
    if value == ".nan":
        return float("nan")
    try:
        return sign * float(value)
    except ValueError as exc:
        raise ScalarError(f"{_short(text)} is not a number") from exc


def _bool(text: str) -> bool:
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    raise ScalarError(f"{_short(text)} is not a boolean (true or false)")


def _null(text: str) -> None:
    if text in ("", "~", "null", "Null", "NULL"):
        return None
    raise ScalarError(f"{_short(text)} is not null")


_CONSTRUCT = {INT: _integer, FLOAT: _float, BOOL: _bool, NULL: _null}
TEXT_TAGS = frozenset({STR, TIMESTAMP, MERGE, YAML_ORG + "value"})


def construct(tag: str, text: str, *, implicit: bool = False) -> Any:
    """A resolved scalar as a Python value; timestamps stay the text the author wrote.

    Raises ScalarError for a value its tag cannot hold (`!!int abc`, a 5,000-digit
    integer) and for tags a runbook has no use for (`!!binary`, `!!set`, `!!python/...`).
    A plain scalar the core table took for a number it is not (`_`) stays text.
    """
    if tag in TEXT_TAGS or not tag.startswith(YAML_ORG):
        return text
    make = _CONSTRUCT.get(tag)
    if make is None:
        name = "!!" + tag[len(YAML_ORG) :]
        raise ScalarError(
            f"the tag {name} is not supported: a runbook holds text, numbers, booleans, "
            "null, lists and mappings"
        )
    try:
        return make(text)
    except OutOfRange:
        raise
    except ScalarError:
        if implicit:
            return text
        raise


def _short(text: str) -> str:
    return repr(text) if len(text) <= 40 else f"{text[:20]!r}... ({len(text)} characters)"
