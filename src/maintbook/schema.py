"""JSON Schema validation whose errors point at the offending key or value."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

from maintbook.diagnostics import Diagnostic
from maintbook.loader import Document, PathKey
from maintbook.resources import schema


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
        text += f" matching {sub['pattern']}"
    return text


def _allowed(values: list[Any]) -> str:
    return ", ".join(str(v) for v in values)


def _leaf(error: ValidationError) -> ValidationError:
    """Descend oneOf/anyOf to the error that says most about the author's mistake."""
    if not error.context:
        return error
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
        schema = error.schema if isinstance(error.schema, dict) else {}
        allowed = sorted(schema.get("properties", {}))
        extra = sorted(set(value) - set(allowed)) if isinstance(value, dict) else []
        name = extra[0] if extra else "?"
        hint = f"; allowed: {_allowed(allowed)}" if allowed else ""
        return f"unknown key {name!r} in {where}{hint}", (*path, name), True
    if kind == "required":
        missing = str(error.message).split("'")[1] if "'" in error.message else "?"
        return f"{where} is missing the required key {missing!r}", path, len(path) > 0
    if kind == "enum":
        choices: list[Any] = (
            list(error.schema.get("enum", [])) if isinstance(error.schema, dict) else []
        )
        return f"{where} is {value!r}; allowed: {_allowed(choices)}", path, False
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
        return (
            (f"{where} is {_short(value)}; it must match the pattern {error.validator_value}"),
            path,
            False,
        )
    if kind in ("minimum", "maximum"):
        word = "at least" if kind == "minimum" else "at most"
        return f"{where} is {value!r}; it must be {word} {error.validator_value}", path, False
    return f"{where}: {error.message}", path, False


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _errors(document: Document, schema_name: str) -> Iterator[ValidationError]:
    validator = Draft202012Validator(schema(schema_name))
    yield from validator.iter_errors(document.data)


def validate_schema(document: Document, schema_name: str) -> list[Diagnostic]:
    """Every schema error as a diagnostic, the most relevant first for each place."""
    diagnostics: list[Diagnostic] = []
    seen: set[tuple[PathKey, str]] = set()
    for error in _errors(document, schema_name):
        leaf = _leaf(error)
        message, path, at_key = _message(leaf)
        if (path, message) in seen:
            continue
        seen.add((path, message))
        code = f"schema-{leaf.validator}"
        diagnostics.append(document.at(path, code, message, key=at_key))
    return diagnostics
