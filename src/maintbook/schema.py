"""JSON Schema validation whose errors point at the offending key or value.

Each shipped schema is prepared once per process: its patterns get the meaning JSON Schema
gives them (ECMA-262: `$` ends the text, `\\d` is 0-9, where Python's `re` would accept a
trailing newline or Arabic-Indic digits), and it is compiled twice: by fastjsonschema, a
quick yes/no that almost every valid file stops at, and by jsonschema, which explains
what is wrong in a file that is not valid.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import importlib.util
import json
import marshal
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from types import CodeType
from typing import TYPE_CHECKING, Any

from maintbook.diagnostics import Diagnostic
from maintbook.loader import Document, Finding, PathKey
from maintbook.resources import schema
from maintbook.suggest import closest

if TYPE_CHECKING:  # jsonschema is imported only to explain a file that is not valid
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError


def dotted(path: PathKey) -> str:
    """('steps', 2, 'http') → `steps[2].http`."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "the document"


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    return {
        bool: "boolean",
        int: "integer",
        float: "number",
        str: "string",
        list: "array",
        dict: "object",
    }.get(type(value), type(value).__name__)


_TYPE_WORDS = {
    "array": "a list",
    "object": "a mapping",
    "integer": "an integer",
    "string": "a string",
    "boolean": "a boolean",
    "number": "a number",
    "null": "null",
}


def _a(type_name: str) -> str:
    """A JSON Schema type in the author's words: `array` → `a list`."""
    return _TYPE_WORDS.get(type_name, f"a {type_name}")


def _form(sub: Any) -> str:
    """One allowed form of a oneOf/anyOf, e.g. `an integer of at least 1`."""
    if not isinstance(sub, dict):
        return "a value"
    kind = sub.get("type")
    if kind == "array" and isinstance(sub.get("items"), dict):
        return f"a list whose items are each {_form(sub['items'])}"
    text = _a(kind) if isinstance(kind, str) else "a value"
    low, high = sub.get("minimum"), sub.get("maximum")
    if low is not None and high is not None:
        text += f" from {low} to {high}"
    elif low is not None:
        text += f" of at least {low}"
    elif high is not None:
        text += f" of at most {high}"
    if "pattern" in sub:
        text += f" matching {_AUTHORED.get(sub['pattern'], sub['pattern'])}"
    return text


def _allowed(values: list[Any]) -> str:
    return ", ".join(str(v) for v in values)


def _leaf(error: ValidationError) -> ValidationError:
    """Descend oneOf/anyOf to the error that says most about the author's mistake."""
    if not error.context:
        return error
    from jsonschema.exceptions import best_match

    best: ValidationError = best_match(error.context)
    if error.validator in ("oneOf", "anyOf") and best.validator in ("type", "const", "required"):
        return error
    return best


def _message(error: ValidationError) -> tuple[str, PathKey, bool]:
    """The message, the path it points at, and whether it points at the key."""
    path: PathKey = tuple(error.absolute_path)
    where = dotted(path)
    kind = error.validator
    value = error.instance
    if kind == "additionalProperties":
        extra = _extra_keys(error)
        name = extra[0] if extra else "?"
        return _unknown_key(error, name, where), (*path, name), True
    if kind == "required":
        missing = str(error.message).split("'")[1] if "'" in error.message else "?"
        return f"{where} is missing the required key {missing!r}", path, len(path) > 0
    if kind == "enum":
        choices: list[Any] = (
            list(error.schema.get("enum", [])) if isinstance(error.schema, dict) else []
        )
        hint = closest(value, [str(c) for c in choices]) if isinstance(value, str) else None
        mean = f"; did you mean {hint!r}?" if hint else ""
        return f"{where} is {_short(value)}; allowed: {_allowed(choices)}{mean}", path, False
    if kind == "const":
        return f"{where} is {value!r}; it must be {error.validator_value!r}", path, False
    if kind == "type":
        wanted: Any = error.validator_value
        words = " or ".join(_a(w) for w in wanted) if isinstance(wanted, list) else _a(wanted)
        return f"{where} must be {words}, not {_a(_type_name(value))}", path, False
    if kind in ("oneOf", "anyOf"):
        subs: Any = error.validator_value
        forms = " or ".join(_form(sub) for sub in subs)
        return f"{where} is {_short(value)}; it must be {forms}", path, False
    if kind == "minItems":
        return f"{where} needs at least {error.validator_value} item(s)", path, False
    if kind == "uniqueItems":
        twice = (
            [item for i, item in enumerate(value) if item in value[:i]]
            if isinstance(value, list)
            else []
        )
        which = f" ({_short(twice[0])} appears more than once)" if twice else ""
        return f"{where} has duplicate items{which}; each item must be unique", path, False
    if kind == "minLength":
        return f"{where} must not be empty", path, False
    if kind == "maxLength":
        return f"{where} is longer than {error.validator_value} characters", path, False
    if kind == "pattern":
        shown = _AUTHORED.get(str(error.validator_value), error.validator_value)
        return f"{where} is {_short(value)}; it must match the pattern {shown}", path, False
    if kind in ("minimum", "maximum"):
        word = "at least" if kind == "minimum" else "at most"
        return f"{where} is {value!r}; it must be {word} {error.validator_value}", path, False
    return f"{where}: {error.message}", path, False


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _extra_keys(error: ValidationError) -> list[str]:
    schema_part = error.schema if isinstance(error.schema, dict) else {}
    allowed = set(schema_part.get("properties", {}))
    value = error.instance
    return sorted(str(k) for k in value if k not in allowed) if isinstance(value, dict) else []


def _unknown_key(error: ValidationError, name: str, where: str) -> str:
    """`unknown key 'durration' in window; did you mean 'duration'?` (else the allowed keys)."""
    schema_part = error.schema if isinstance(error.schema, dict) else {}
    allowed = sorted(schema_part.get("properties", {}))
    hint = closest(name, allowed)
    if hint:
        return f"unknown key {name!r} in {where}; did you mean {hint!r}?"
    listed = f"; allowed: {_allowed(allowed)}" if allowed else ""
    return f"unknown key {name!r} in {where}{listed}"


# --------------------------------------------------------------------------- preparation

_AUTHORED: dict[str, str] = {}  # prepared pattern -> the pattern as the schema spells it


def ecma_pattern(pattern: str) -> str:
    """An ECMA-262 pattern rewritten for Python's `re` with the same meaning.

    `$` outside a character class becomes `\\Z`, so "MNT-2026-0042\\n" does not match
    `^MNT-[0-9]{4}-[0-9]{4}$`; `(?a)` makes `\\d`, `\\w` and `\\s` ASCII-only, as in ECMA-262.
    """
    out: list[str] = []
    in_class = escaped = False
    for char in pattern:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char in "[]":
            in_class = char == "["
        elif char == "$" and not in_class:
            char = "\\Z"
        out.append(char)
    prepared = "(?a)" + "".join(out)
    _AUTHORED[prepared] = pattern
    return prepared


def _prepare(node: Any, *, wrap_refs: bool) -> Any:
    """A copy of a schema with prepared patterns; `wrap_refs` moves `$ref` under `allOf`
    when it has sibling keywords (2020-12 applies them, draft-7 validators ignore them)."""
    if isinstance(node, list):
        return [_prepare(item, wrap_refs=wrap_refs) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _prepare(value, wrap_refs=wrap_refs) for key, value in node.items()}
    if isinstance(out.get("pattern"), str):
        out["pattern"] = ecma_pattern(out["pattern"])
    if wrap_refs and "$ref" in out and len(out.keys() - {"$ref", "title", "description"}) > 0:
        out["allOf"] = [*out.get("allOf", []), {"$ref": out.pop("$ref")}]
    return out


@functools.cache
def _validator(name: str) -> Draft202012Validator:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(_prepare(schema(name), wrap_refs=False))


# Changes whenever what the cache holds changes (2: the entry point bound to `validate`).
CACHE_FORMAT = 2


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "maintbook" / "validators"


def _cached_validator(key: str, generate: Callable[[], str]) -> Callable[[Any], Any] | None:
    """The generated validator for `key`, its compiled code kept in the user's cache: written
    once (atomically) by the first process, loaded by the others without generating or
    compiling it again. None when the cache can be neither read nor written."""
    try:
        folder = _cache_dir()
        digest = hashlib.sha256(key.encode() + importlib.util.MAGIC_NUMBER).hexdigest()[:32]
        path = folder / f"v{digest}.code"
        try:
            code = marshal.loads(path.read_bytes())
            if not isinstance(code, CodeType):
                raise ValueError(f"{path} holds no code")
        except (OSError, EOFError, ValueError, TypeError):
            code = compile(generate(), f"<validator {digest}>", "exec")
            folder.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile("wb", dir=folder, suffix=".tmp",
                                             delete=False) as out:
                out.write(marshal.dumps(code))
            os.replace(out.name, path)
        namespace: dict[str, Any] = {}
        exec(code, namespace)  # noqa: S102 - fastjsonschema's own generated validator
    except (OSError, RuntimeError, SyntaxError, ImportError):
        return None
    found: Callable[[Any], Any] | None = namespace.get("validate")
    return found


def _entry_named(code: str) -> str:
    """fastjsonschema's generated code with its entry point also bound to `validate`: the
    code names each function after its schema's `$id` and writes the root's first."""
    root = re.search(r"^def (\w+)\(", code, re.M)
    if root is None:
        raise RuntimeError("fastjsonschema generated no function")
    return f"{code}\nvalidate = {root.group(1)}\n"


@functools.cache
def _quick(name: str) -> Callable[[Any], Any] | None:
    """fastjsonschema's compiled check of a shipped schema (None: not installed).

    Generating and compiling it takes about a tenth of a second per schema, so its code is
    cached on disk by the prepared schema's content and fastjsonschema's version.
    """
    try:
        import fastjsonschema
    except ImportError:  # pragma: no cover - a dependency; jsonschema alone is only slower
        return None
    prepared = _prepare(copy.deepcopy(schema(name)), wrap_refs=True)
    key = json.dumps([prepared, fastjsonschema.VERSION, CACHE_FORMAT], sort_keys=True)
    cached = _cached_validator(key, lambda: _entry_named(fastjsonschema.compile_to_code(prepared)))
    if cached is not None:
        return cached
    check: Callable[[Any], Any] = fastjsonschema.compile(prepared)
    return check


def is_valid(data: Any, name: str) -> bool:
    """Whether `data` satisfies the shipped schema `name` (the quick check when it can)."""
    quick = _quick(name)
    if quick is None:
        return bool(_validator(name).is_valid(data))
    try:
        quick(data)
    except Exception:  # JsonSchemaException, or a value the generated code cannot compare
        return bool(_validator(name).is_valid(data))
    return True


def _findings(document: Document, error: ValidationError) -> Iterator[Finding]:
    leaf = _leaf(error)
    code = f"schema-{leaf.validator}"
    if leaf.validator == "additionalProperties":
        where = dotted(tuple(leaf.absolute_path))
        for name in _extra_keys(leaf):
            path = (*leaf.absolute_path, name)
            yield document.find(path, code, _unknown_key(leaf, name, where), key=True)
        return
    message, path, at_key = _message(leaf)
    if leaf.validator == "required":  # the finding concerns the missing member
        missing = str(leaf.message).split("'")[1] if "'" in leaf.message else "?"
        yield Finding((*path, missing), document.at(path, code, message, key=at_key))
        return
    yield document.find(path, code, message, key=at_key)


def _misspelt(findings: list[Finding]) -> set[PathKey]:
    """Paths of required keys an unknown key's did-you-mean already names (one mistake)."""
    found: set[PathKey] = set()
    for finding in findings:
        message = finding.diagnostic.message
        if finding.diagnostic.code == "schema-additionalProperties" and "did you mean '" in message:
            found.add((*finding.path[:-1], message.rsplit("did you mean '", 1)[1][:-2]))
    return found


def schema_findings(document: Document, schema_name: str) -> list[Finding]:
    """Every schema error with the path it concerns, one per mistake."""
    if is_valid(document.data, schema_name):
        return []
    found: list[Finding] = []
    seen: set[tuple[PathKey, str]] = set()
    for error in _validator(schema_name).iter_errors(document.data):
        for finding in _findings(document, error):
            if (finding.path, finding.diagnostic.message) not in seen:
                seen.add((finding.path, finding.diagnostic.message))
                found.append(finding)
    misspelt = _misspelt(found)
    return [
        replace(f, shown=False)
        if f.diagnostic.code == "schema-required" and f.path in misspelt
        else f
        for f in found
    ]


def validate_schema(document: Document, schema_name: str) -> list[Diagnostic]:
    """Every schema error as a diagnostic, the most relevant first for each place."""
    return [f.diagnostic for f in schema_findings(document, schema_name) if f.shown]
