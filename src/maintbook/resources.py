"""Where the shipped schemas, modules, roles and templates are, in a wheel or a checkout."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

_PACKAGE = Path(__file__).resolve().parent


def shipped(name: str) -> Path:
    """`schemas`, `library` or `roles`: inside the installed wheel, else the source checkout."""
    packaged = _PACKAGE / "data" / name
    if packaged.is_dir():
        return packaged
    return _PACKAGE.parents[1] / name


@cache
def schema(name: str) -> dict[str, Any]:
    """A shipped JSON Schema by file name, e.g. `runbook.schema.json`."""
    loaded: dict[str, Any] = json.loads((shipped("schemas") / name).read_text(encoding="utf-8"))
    return loaded
