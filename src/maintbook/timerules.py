"""Load-time judgement of time settings: IANA zones, RRULEs, local clock times, holidays.

Each function returns None for a good value, else a message saying what is wrong and what
is allowed. They exist so that a bad zone or rule in a runbook or in maintbook.yml is a
diagnostic with its line when the file is loaded, never an exception (or a calendar
expansion that never ends) later.
"""

from __future__ import annotations

import functools
import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from maintbook.suggest import did_you_mean

ANCHOR = datetime(2000, 1, 1)  # calendar.py anchors every recurrence here
NEVER_AFTER = datetime(2400, 1, 1)  # the Gregorian calendar repeats every 400 years
_FREQ_NAMES = ("YEARLY", "MONTHLY", "WEEKLY", "DAILY", "HOURLY", "MINUTELY", "SECONDLY")
_CLOCK = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")


def zone_problem(name: Any) -> str | None:
    """`Europe/Berln` → "unknown IANA time zone 'Europe/Berln'; did you mean 'Europe/Berlin'?"."""
    if not isinstance(name, str):
        return None  # the schema says what type it must be
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        hint = did_you_mean(name, _zones()) or " (e.g. UTC, Europe/Berlin, America/New_York)"
        return f"unknown IANA time zone {name!r}{hint}"
    return None


@functools.cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def clock_problem(text: Any) -> str | None:
    """A local start time must be HH:MM on a 24-hour clock."""
    if isinstance(text, str) and _CLOCK.fullmatch(text):
        return None
    return f"{text!r} is not a local time HH:MM (00:00 to 23:59)"


def rrule_problem(text: Any, *, slowest: str = "DAILY") -> str | None:
    """An RFC 5545 RRULE dateutil can expand, no more frequent than `slowest`, that occurs.

    `slowest` is DAILY for allowed windows and blackouts (an HOURLY window is a rule that
    never finishes expanding over a year) and HOURLY for a recurring runbook.
    """
    if not isinstance(text, str):
        return None
    rule = text.strip()
    rule = rule[len("RRULE:") :] if rule.upper().startswith("RRULE:") else rule
    if not rule or "\n" in rule or "\r" in rule or len(rule) > 1000:
        return f"{_short(text)} is not one RRULE line such as FREQ=WEEKLY;BYDAY=SU"
    try:
        parsed = _parse(rule)
    except (ValueError, TypeError, KeyError, OverflowError) as exc:
        return f"{_short(text)} is not an RFC 5545 RRULE ({exc}); e.g. FREQ=WEEKLY;BYDAY=SU"
    freq = _FREQ_NAMES[parsed._freq]
    if _FREQ_NAMES.index(freq) > _FREQ_NAMES.index(slowest):
        allowed = ", ".join(_FREQ_NAMES[: _FREQ_NAMES.index(slowest) + 1])
        return f"RRULE {_short(text)} repeats {freq}; allowed frequencies here: {allowed}"
    if _never(parsed):
        return f"RRULE {_short(text)} never occurs (no date satisfies all its BY parts)"
    return None


def _parse(rule: str) -> Any:
    from dateutil.rrule import rrule, rrulestr

    parsed = rrulestr(rule, dtstart=ANCHOR)
    if not isinstance(parsed, rrule):
        raise ValueError("expected a single RRULE")
    return parsed


def _never(parsed: Any) -> bool:
    """No occurrence in 400 years of the yearly rule with the same BY parts: none ever."""
    from dateutil.rrule import YEARLY

    if parsed._count == 0:
        return True
    probe = parsed.replace(freq=YEARLY, interval=1, count=None, until=None, bysetpos=None)
    first = probe.after(ANCHOR, inc=True)
    return first is None or first >= NEVER_AFTER


def holidays_problem(country: Any, subdivision: Any) -> str | None:
    """A country (and subdivision) the `holidays` library knows."""
    if not isinstance(country, str) or not (subdivision is None or isinstance(subdivision, str)):
        return None
    import holidays

    supported: dict[str, list[str]] = holidays.list_supported_countries()
    if country not in supported:
        return (
            f"the holidays library knows no country {country!r}"
            f"{did_you_mean(country, supported)} (ISO 3166-1 alpha-2 codes such as US, DE, FR)"
        )
    if subdivision is not None and subdivision not in supported[country]:
        known = ", ".join(sorted(supported[country])[:40]) or "none"
        return (
            f"the holidays library knows no subdivision {subdivision!r} of {country}"
            f"{did_you_mean(subdivision, supported[country])} (known: {known})"
        )
    return None


def _short(text: str) -> str:
    return repr(text) if len(text) <= 80 else repr(text[:77] + "...")
