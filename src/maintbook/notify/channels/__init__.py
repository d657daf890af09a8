"""The channel kinds: every module here registers its class with `@channel`."""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

from maintbook.http import Transport
from maintbook.notify.base import REGISTRY, Channel, ChannelConfigError

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")


def kind_of(options: dict[str, Any]) -> str:
    """The registered kind of a channel's settings (`slack` with a token is `slack-api`)."""
    kind = str(options.get("type"))
    return "slack-api" if kind == "slack" and options.get("token_env") else kind


def channel_for(name: str, options: dict[str, Any], transport: Transport | None = None) -> Channel:
    kind = kind_of(options)
    cls = REGISTRY.get(kind)
    if cls is None:
        raise ChannelConfigError(
            f"channel {name}: type {options.get('type')!r} is not one of "
            f"{', '.join(sorted({k.split('-')[0] for k in REGISTRY}))}"
        )
    if transport is None:
        return cls(name, dict(options))
    return cls(name, dict(options), transport)
