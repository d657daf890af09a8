"""Secrets named by `*_env` keys: found in the environment, or in the run's private file.

`maintbook run` moves every secret the configuration names out of the Ansible
process environment (ansible-runner writes that environment into its artifacts)
and into a private file outside the project, whose path travels in
MAINTBOOK_SECRETS_FILE. Modules look secrets up here, so no secret is ever a module
argument, a playbook value or an artifact.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

SECRETS_FILE_ENV = "MAINTBOOK_SECRETS_FILE"


def lookup(name: str | None) -> str | None:
    """The secret held by environment variable `name`, wherever the run put it."""
    if not name:
        return None
    value = os.environ.get(name)
    if value:
        return value
    path = os.environ.get(SECRETS_FILE_ENV)
    if not path:
        return None
    try:
        stored = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    found = stored.get(name) if isinstance(stored, dict) else None
    return str(found) if found else None


def env_names(config_data: Any) -> Iterator[str]:
    """Every value of a key ending in `_env`, anywhere in the configuration."""
    if isinstance(config_data, Mapping):
        for key, value in config_data.items():
            if isinstance(key, str) and key.endswith("_env") and isinstance(value, str):
                yield value
            else:
                yield from env_names(value)
    elif isinstance(config_data, list):
        for item in config_data:
            yield from env_names(item)


def write_private(values: Mapping[str, str], path: Path) -> None:
    """Write the secrets file readable by its owner only."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(dict(values), handle)
