"""External calendars (SPEC §4 `calendars`): ICS files or URLs and CalDAV collections.

The I/O half of the calendar engine: it reads calendars and hands the pure engine plain
`CalendarEvent`s (UTC). Every failure becomes a `CalendarError` whose message names the
calendar and what went wrong; secrets never appear in it.
"""

from __future__ import annotations

import os
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from maintbook.calendar import CalendarEvent
from maintbook.errors import MaintbookError

FETCH_TIMEOUT = 15.0
MAX_ICS_BYTES = 16 * 1024 * 1024


class CalendarError(MaintbookError):
    """An external calendar could not be read (exit 2)."""

    exit_code = 2


def _utc(value: date | datetime) -> datetime:
    """A DTSTART/DTEND value → aware UTC; all-day dates and floating times are UTC."""
    if not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _event(component: Any, source: str) -> CalendarEvent | None:
    start_prop = component.get("DTSTART")
    if start_prop is None:
        return None
    raw_start = start_prop.dt
    start = _utc(raw_start)
    if component.get("DTEND") is not None:
        end = _utc(component.get("DTEND").dt)
    elif component.get("DURATION") is not None:
        end = start + component.get("DURATION").dt
    else:  # RFC 5545 §3.6.1: a date lasts one day, a date-time no time at all
        end = start + (timedelta(0) if isinstance(raw_start, datetime) else timedelta(days=1))
    summary = str(component.get("SUMMARY", "")) or "(untitled event)"
    return CalendarEvent(summary, start, end, source)


def events_from_ics(
    text: bytes | str, source: str, start: datetime, end: datetime
) -> list[CalendarEvent]:
    """The events of ICS text overlapping [start, end), recurrences expanded (the parsers
    are imported here, where an external calendar is read)."""
    import icalendar
    import recurring_ical_events

    try:
        calendar = icalendar.Calendar.from_ical(text)
        components: Iterable[Any] = recurring_ical_events.of(calendar).between(start, end)
        found = [_event(c, source) for c in components]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise CalendarError(f"calendar {source}: not a valid iCalendar file ({exc})") from exc
    return sorted(
        (e for e in found if e is not None and e.start < end and start < e.end),
        key=lambda e: (e.start, e.end, e.name),
    )


def _read_ics(location: str, root: Path, source: str) -> bytes:
    if location.startswith(("http://", "https://")):
        try:
            with urllib.request.urlopen(location, timeout=FETCH_TIMEOUT) as response:
                data: bytes = response.read(MAX_ICS_BYTES + 1)
        except urllib.error.HTTPError as exc:
            raise CalendarError(
                f"calendar {source}: GET {location} answered HTTP {exc.code}"
            ) from exc
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise CalendarError(f"calendar {source}: cannot fetch {location}: {reason}") from exc
    else:
        path = (root / location).resolve()
        try:
            with path.open("rb") as handle:  # bounded: /dev/zero or a FIFO never ends
                data = handle.read(MAX_ICS_BYTES + 1)
        except OSError as exc:
            raise CalendarError(
                f"calendar {source}: cannot read {path}: {exc.strerror or exc}"
            ) from exc
    if len(data) > MAX_ICS_BYTES:
        raise CalendarError(f"calendar {source}: {location} is larger than 16 MiB")
    return data


def ics_events(
    location: str, source: str, start: datetime, end: datetime, *, root: Path
) -> list[CalendarEvent]:
    """Events of an ICS file (relative to `root`) or http(s) URL overlapping [start, end)."""
    return events_from_ics(_read_ics(location, root, source), source, start, end)


def caldav_events(
    settings: Mapping[str, Any],
    source: str,
    start: datetime,
    end: datetime,
    *,
    environ: Mapping[str, str] | None = None,
) -> list[CalendarEvent]:
    """Events of a CalDAV collection overlapping [start, end) (password from `password_env`)."""
    import caldav  # only the commands that read CalDAV pay for importing it

    env = os.environ if environ is None else environ
    url = str(settings["url"])
    password = None
    if settings.get("password_env"):
        name = str(settings["password_env"])
        if name not in env:
            raise CalendarError(
                f"calendar {source}: the environment variable {name} (password_env) is not set"
            )
        password = env[name]
    try:
        client_class: Any = caldav.DAVClient
        client = client_class(
            url=url,
            username=settings.get("username"),
            password=password,
            timeout=int(FETCH_TIMEOUT),
        )
        collection = client.calendar(url=url)
        results = collection.search(start=start, end=end, event=True)
        texts = [item.data for item in results]
    except Exception as exc:  # DAVError, requests/niquests connection errors, bad XML
        raise CalendarError(
            f"calendar {source}: CalDAV {url}: {type(exc).__name__}: {_first_line(exc)}"
        ) from exc
    found = [e for text in texts for e in events_from_ics(text, source, start, end)]
    return sorted(found, key=lambda e: (e.start, e.end, e.name))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else "no details"


def calendar_events(
    calendars: Iterable[Mapping[str, Any]],
    start: datetime,
    end: datetime,
    *,
    root: Path,
    environ: Mapping[str, str] | None = None,
) -> list[CalendarEvent]:
    """Every event of every configured calendar overlapping [start, end)."""
    found: list[CalendarEvent] = []
    for item in calendars:
        name = str(item.get("name", "calendar"))
        if "ics" in item:
            found += ics_events(str(item["ics"]), name, start, end, root=root)
        elif "caldav" in item:
            found += caldav_events(item["caldav"], name, start, end, environ=environ)
        else:
            raise CalendarError(f"calendar {name}: needs `ics` or `caldav`")
    return sorted(found, key=lambda e: (e.start, e.end, e.name))
