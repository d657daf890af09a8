"""Durations (`90m`, `1h30m`, `1d`, `500ms`) and RFC 3339 timestamps."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta

_UNITS = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
# [0-9], not \d (which also matches Arabic-Indic and full-width digits); fullmatch, not $
_DURATION = re.compile(
    r"(?:([0-9]+)d)?(?:([0-9]+)h)?(?:([0-9]+)m(?!s))?(?:([0-9]+)s)?(?:([0-9]+)ms)?"
)
_RFC3339 = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt ]([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]{1,9})?"
    r"([Zz]|[+-][0-9]{2}:[0-9]{2})"
)

DURATION_HELP = "a duration like 90m, 2h, 1h30m, 1d, 45s or 500ms"
MAX_DURATION = timedelta(days=366)
FIRST_YEAR, LAST_YEAR = 1970, 2999


def parse_duration(text: str | int) -> timedelta:
    """`1h30m` → 90 minutes. A bare integer or `0` means seconds. At most 366d.

    Raises ValueError with a message that says what is allowed.
    """
    if isinstance(text, bool) or not isinstance(text, str | int):
        raise ValueError(f"{_short(text)} is not {DURATION_HELP}")
    if isinstance(text, int):
        if text < 0:
            raise ValueError(f"{text!r} is negative")
        return _bounded(text, timedelta(seconds=min(text, 10**12)))
    value = text.strip()
    if value == "0":
        return timedelta(0)
    match = _DURATION.fullmatch(value)
    if not value or not match or not any(match.groups()):
        raise ValueError(f"{_short(text)} is not {DURATION_HELP}")
    if any(len(g) > 12 for g in match.groups() if g):
        raise _too_long(text)
    days, hours, minutes, seconds, millis = (int(g) if g else 0 for g in match.groups())
    try:
        delta = timedelta(
            days=days, hours=hours, minutes=minutes, seconds=seconds, milliseconds=millis
        )
    except OverflowError as exc:
        raise _too_long(text) from exc
    return _bounded(text, delta)


def _bounded(text: str | int, delta: timedelta) -> timedelta:
    if delta > MAX_DURATION:
        raise _too_long(text)
    return delta


def _too_long(text: str | int) -> ValueError:
    return ValueError(
        f"{_short(text)} is longer than {format_duration(MAX_DURATION)}, the longest duration "
        "maintbook accepts"
    )


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:37]}..."


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
    """An RFC 3339 timestamp with an offset → an aware datetime in UTC, years 1970 to 2999.

    Raises ValueError for anything else (a bare date, 2026-02-30, 99:99, year 9999).
    """
    if not isinstance(text, str) or not _RFC3339.fullmatch(text.strip()):
        raise ValueError(
            f"{_short(text)} is not an RFC 3339 timestamp with an offset, "
            "e.g. 2026-12-06T02:00:00Z or 2026-12-06T03:00:00+01:00"
        )
    value = text.strip().replace("z", "Z").replace("t", "T").replace(" ", "T")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        raise ValueError(f"{_short(text)} is not a valid date and time ({exc})") from exc
    if not FIRST_YEAR <= moment.year <= LAST_YEAR:
        raise ValueError(
            f"{_short(text)} is out of range: maintbook accepts times from {FIRST_YEAR} "
            f"to {LAST_YEAR}"
        )
    return moment


def format_utc(moment: datetime) -> str:
    """An aware datetime → `2026-12-06T02:00:00Z`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def utc_now() -> datetime:
    return datetime.now(UTC)


def parse_clock(text: str) -> time:
    """`03:00` → a local time of day (the schema has checked the form)."""
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))
