"""A JSON Schema as a Markdown reference: every key with its title, description, type,
default and examples, nested mappings as sections of their own, `$defs` once each.

Deterministic: the same schema gives the same bytes. Links point only at anchors of the
same page (`<a id="…">`), never outside it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

Schema = Mapping[str, Any]


def anchor(path: str) -> str:
    """`approvals[].sections` → `approvals-sections`."""
    text = "".join(c if c.isalnum() else "-" for c in path.lower())
    return "-".join(part for part in text.split("-") if part)


def _def_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def _code(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return f"`{text}`"


def kind(schema: Schema) -> str:
    """The type of a value in words: `string matching ^x$`, `list of [step](#def-step)`."""
    if "$ref" in schema:
        name = _def_name(schema["$ref"])
        return f"[{name}](#def-{anchor(name)})"
    if "const" in schema:
        return _code(schema["const"])
    if "enum" in schema:
        return "one of " + ", ".join(_code(v) for v in schema["enum"])
    for key in ("oneOf", "anyOf"):
        if key in schema:
            return " or ".join(kind(s) for s in schema[key])
    return _typed(schema)


def _typed(schema: Schema) -> str:
    types = schema.get("type", "any value")
    names = [str(t) for t in (types if isinstance(types, list) else [types])]
    words = {"object": "mapping", "array": "list", "null": "null"}
    text = " or ".join(words.get(t, t) for t in names)
    if "array" in names and isinstance(schema.get("items"), Mapping):
        text = f"list of {kind(schema['items'])}"
    extra = schema.get("additionalProperties")
    if "object" in names and isinstance(extra, Mapping) and "properties" not in schema:
        text = f"mapping of name to {kind(extra)}"
    return text + _limits(schema)


def _limits(schema: Schema) -> str:
    parts = []
    if "pattern" in schema:
        parts.append(f"matching `{schema['pattern']}`")
    low, high = schema.get("minimum"), schema.get("maximum")
    if low is not None:
        parts.append(f"≥ {low}")
    if high is not None:
        parts.append(f"≤ {high}")
    for key, word in (("minItems", "at least {} item(s)"), ("minLength", "at least {} "
                                                                          "character(s)"),
                      ("maxLength", "at most {} characters")):
        if key in schema:
            parts.append(word.format(schema[key]))
    if schema.get("uniqueItems"):
        parts.append("no duplicates")
    if isinstance(schema.get("propertyNames"), Mapping) and "enum" in schema["propertyNames"]:
        parts.append("names: " + ", ".join(_code(v) for v in schema["propertyNames"]["enum"]))
    return (" (" + "; ".join(parts) + ")") if parts else ""


def _condition(schema: Schema) -> str:
    found = [f"`{key}` is {_code(sub['const'])}" for key, sub in
             schema.get("properties", {}).items() if isinstance(sub, Mapping) and "const" in sub]
    found += [f"`{key}` is given" for key in schema.get("required", ())
              if key not in schema.get("properties", {})]
    return " and ".join(found) or json.dumps(schema)


def _demand(schema: Schema) -> str:
    parts = []
    if "required" in schema:
        parts.append("requires " + ", ".join(f"`{k}`" for k in schema["required"]))
    if "anyOf" in schema:
        parts.append("requires " + ", or ".join(_demand(s).removeprefix("requires ")
                                                for s in schema["anyOf"]))
    for key, sub in schema.get("properties", {}).items():
        if "not" in sub and "required" in sub["not"]:
            parts.append(f"`{key}` must not have " + ", ".join(f"`{k}`"
                                                              for k in sub["not"]["required"]))
        elif "required" in sub:
            parts.append(f"`{key}` requires " + ", ".join(f"`{k}`" for k in sub["required"]))
    return "; ".join(parts) or json.dumps(schema)


def rules(schema: Schema) -> list[str]:
    """The schema's conditional rules (`allOf` of if/then/else) as sentences."""
    found = []
    for rule in schema.get("allOf", ()):
        if "if" not in rule:
            continue
        when = _condition(rule["if"])
        found.append(f"When {when}: {_demand(rule.get('then', {}))}.")
        if "else" in rule:
            found.append(f"Otherwise: {_demand(rule['else'])}.")
    return found


def _examples(schema: Schema) -> str:
    values = schema.get("examples", ())
    return ", ".join(_code(v) for v in values)


def _row(name: str, sub: Schema, required: bool, here: str) -> str:
    title = sub.get("title", "")
    text = sub.get("description", "")
    described = f"**{title}.** {text}" if title else text
    if _nested(sub):
        described += f" See [{here}](#{anchor(here)})."
    if "examples" in sub:
        described += f" Examples: {_examples(sub)}."
    default = _code(sub["default"]) if "default" in sub else ""
    cells = [f"`{name}`", kind(sub), "yes" if required else "", default, described]
    return "| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |"


def _nested(schema: Schema) -> bool:
    return isinstance(schema.get("properties"), Mapping) or (
        schema.get("type") == "array" and isinstance(schema.get("items"), Mapping)
        and "properties" in schema["items"])


def _object(schema: Schema) -> Schema:
    """The mapping schema a key describes: itself, or its list's items."""
    if "properties" in schema:
        return schema
    items = schema.get("items")
    return items if isinstance(items, Mapping) else {}


def section(path: str, schema: Schema, level: int) -> Iterator[str]:
    """One mapping's table, then each nested mapping's section."""
    target = _object(schema)
    properties: Mapping[str, Schema] = target.get("properties", {})
    required = set(target.get("required", ()))
    yield f'<a id="{anchor(path)}"></a>'
    yield f"{'#' * level} `{path}`"
    yield ""
    heading = target.get("description") or schema.get("description")
    if heading:
        yield heading
        yield ""
    if target.get("additionalProperties") is False:
        yield "No other keys are allowed."
        yield ""
    yield from (f"{rule}\n" for rule in rules(target))
    yield "| key | type | required | default | description |"
    yield "|---|---|---|---|---|"
    for name, sub in properties.items():
        yield _row(name, sub, name in required, _path(path, name, sub))
    yield ""
    for name, sub in properties.items():
        if _nested(sub):
            yield from section(_path(path, name, sub), sub, level)


def _is_list(schema: Schema) -> bool:
    items = schema.get("items")
    return schema.get("type") == "array" and isinstance(items, Mapping) and "properties" in items


def _path(parent: str, name: str, schema: Schema) -> str:
    """`approvals` + `sections` → `approvals[].sections`."""
    return (f"{parent}." if parent else "") + name + ("[]" if _is_list(schema) else "")


def reference(schema: Schema, title: str, source: str) -> str:
    """The whole page."""
    lines = [f"# {title}", "",
             f"Generated from `{source}` by `python -m maintbook.docs`: edit the schema, "
             "not this page.", "", schema.get("description", ""), ""]
    required = set(schema.get("required", ()))
    lines += [*(f"{rule}\n" for rule in rules(schema)),
              "| key | type | required | default | description |", "|---|---|---|---|---|"]
    lines += [_row(name, sub, name in required, _path("", name, sub))
              for name, sub in schema.get("properties", {}).items()]
    lines.append("")
    for name, sub in schema.get("properties", {}).items():
        if _nested(sub):
            lines += section(_path("", name, sub), sub, 2)
    defs: Mapping[str, Schema] = schema.get("$defs", {})
    if defs:
        lines += ["## Definitions", ""]
    for name, sub in defs.items():
        lines.append(f'<a id="def-{anchor(name)}"></a>')
        if _nested(sub):
            lines += section(name, sub, 3)
        else:
            lines += [f"### `{name}`", "", sub.get("description", ""), "",
                      f"Type: {_typed(sub)}.", ""]
    return "\n".join(lines).rstrip("\n") + "\n"
