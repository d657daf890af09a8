"""Runbook data written back for people (YAML) and for programs (JSON).

`yaml_text` writes a fragment the way a runbook author would: keys in their order, block
style, multi-line text as a literal block, `null` spelled out, bytes as `!!binary`.
`json_safe` makes any loaded value JSON-serialisable: bytes become `{"!!binary": base64}`,
a non-finite float its YAML spelling (`.inf`, `.nan`).
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Mapping
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.representer import RoundTripRepresenter
from ruamel.yaml.scalarstring import LiteralScalarString

BINARY = "!!binary"


def _null(representer: RoundTripRepresenter, _: None) -> Any:
    return representer.represent_scalar("tag:yaml.org,2002:null", "null")


def _prepared(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _prepared(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_prepared(v) for v in value]
    if isinstance(value, str) and "\n" in value.rstrip("\n"):
        return LiteralScalarString(value)
    return value


def yaml_text(value: Any) -> str:
    """A mapping or list as block YAML, ending with a newline."""
    yaml = YAML()
    yaml.default_flow_style = False
    yaml.width = 100
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.representer.add_representer(type(None), _null)
    out = io.StringIO()
    yaml.dump(_prepared(value), out)
    return out.getvalue()


def json_safe(value: Any) -> Any:
    """`value` with only JSON types in it."""
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, bytes):
        return {BINARY: base64.b64encode(value).decode("ascii")}
    if isinstance(value, float) and not math.isfinite(value):
        return ".nan" if math.isnan(value) else (".inf" if value > 0 else "-.inf")
    return value
