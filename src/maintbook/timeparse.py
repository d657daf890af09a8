"""Durations (`90m`, `1h30m`, `1d`, `500ms`) and RFC 3339 timestamps."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

_UNITS = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m(?!s))?(?:(\d+)s)?(?:(\d+)ms)?$")
_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$"
)

DURATION_HELP = "a duration like 90m, 2h, 1h30m, 1d, 45s or 500ms"


def parse_duration(text: str | int) -> timedelta:
    """`1h30m` → 90 minutes. A bare integer or `0` means seconds. Raises ValueError."""
    if isinstance(text, bool):
        raise ValueError(f"{text!r} is not {DURATION_HELP}")
    if isinstance(text, int):
        if text < 0:
            raise ValueError(f"{text!r} is negative")
        return timedelta(seconds=text)
    value = text.strip()
    if value == "0":
        return timedelta(0)
    match = _DURATION.match(value)
    if not value or not match or not any(match.groups()):
        raise ValueError(f"{text!r} is not {DURATION_HELP}")
    days, hours, minutes, seconds, millis = (int(g) if g else 0 for g in match.groups())
    return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds, milliseconds=millis)


def format_duration(delta: timedelta) -> str:
    """90 minutes → `1h30m`; the inverse of parse_duration for whole seconds."""
    total = int(delta.total_seconds())
    if total == 0:
        return "0"
    sign = "-" if total < 0 else ""
    total = abs(total)
    parts = []
    for unit in ("d", "h", "m", "s"):
        size = int(_UNITS[unit])
        amount, total = divmod(total, size)
        if amount:
            parts.append(f"{amount}{unit}")
    return sign + "".join(parts)


def parse_rfc3339(text: str) -> datetime:
    """An RFC 3339 timestamp with an offset → an aware datetime in UTC. Raises ValueError."""
    if not isinstance(text, str) or not _RFC3339.match(text.strip()):
        raise ValueError(f"{text!r} is not an RFC 3339 timestamp like 2026-12-06T02:00:00Z")
    value = text.strip().replace("z", "Z").replace("t", "T").replace(" ", "T")
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def format_utc(moment: datetime) -> str:
    """An aware datetime → `2026-12-06T02:00:00Z`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def utc_now() -> datetime:
    return datetime.now(UTC)
