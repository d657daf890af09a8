"""Notice texts (SPEC §13): what a notice of one kind says to one audience.

Each kind has a template per audience (`templates/notices/<audience>/<kind>.j2`) with two
blocks, `subject` and `lead`. The rest of a notice is built here from the facts, so that the
plain text and the HTML say the same thing and the HTML is escaped by construction:

- internal notices carry the detail engineers need: id, type, window in UTC, systems, owner,
  description, and the message (a failing step and its error);
- public notices carry only what a customer needs: the title, `impact.summary` and
  `impact.expect`, the window in `statuspage.zones`, and the status-page link. Never a host,
  step name, command, error, owner or internal id.

Runbook text is data: a `{{ }}` in a title is printed, never evaluated (sandboxed Jinja, and
the facts are passed as values).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from jinja2 import ChoiceLoader, FileSystemLoader, StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

from maintbook.context import Facts
from maintbook.lifecycle import NOTICES
from maintbook.timeparse import parse_rfc3339

TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "notices"
AUDIENCES = ("internal", "public")


class NoticeError(ValueError):
    """An unknown notice kind or audience, or a template that cannot be rendered."""


@dataclass(frozen=True)
class Rendered:
    kind: str
    audience: str
    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class Story:
    """What happened, for the notice: the outcome and an optional message."""

    outcome: str = ""
    message: str = ""  # internal only: the failing step and its error, progress, reason
    until: str = ""  # extended: the new end
    retry: bool = False
    degraded: bool = False  # hosts were left drained: not everything works as before
    now: str = ""


def _environment(override: str | None) -> SandboxedEnvironment:
    loaders = [FileSystemLoader(str(TEMPLATES))]
    if override:
        loaders.insert(0, FileSystemLoader(str(override)))
    return SandboxedEnvironment(
        loader=ChoiceLoader(loaders),
        autoescape=False,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def in_zones(text: str, zones: Sequence[str]) -> str:
    """`2026-12-06T02:00:00Z` → `Sun 6 Dec 2026 02:00 UTC / Sat 5 Dec 2026 21:00 EST`."""
    moment = parse_rfc3339(text)
    parts = []
    for zone in zones or ("UTC",):
        local = moment.astimezone(ZoneInfo(zone))
        parts.append(f"{local:%a} {local.day} {local:%b %Y %H:%M} {local.tzname()}")
    return " / ".join(parts)


def window_text(facts: Facts, zones: Sequence[str], until: str = "") -> str:
    return f"{in_zones(facts.window_start, zones)} to {in_zones(until or facts.window_end, zones)}"


def _fields(facts: Facts, audience: str, zones: Sequence[str], story: Story,
            page_url: str | None) -> list[tuple[str, str]]:
    if audience == "public":
        rows = [("Maintenance", facts.title), ("When", window_text(facts, zones, story.until))]
        if facts.impact_summary:
            rows.append(("Impact", facts.impact_summary))
        if facts.impact_expect:
            rows.append(("What to expect", facts.impact_expect))
        if page_url:
            rows.append(("Status page", page_url))
        return rows
    rows = [
        ("Maintenance", f"{facts.title} ({facts.maintenance})"),
        ("Type", facts.type),
        ("Window", f"{facts.window_start} to {story.until or facts.window_end} (UTC)"),
        ("Systems", ", ".join(facts.systems)),
        ("Owner", facts.owner),
    ]
    if facts.recurrence:
        rows.append(("Schedule", facts.recurrence))
    if story.outcome:
        rows.append(("Outcome", story.outcome.replace("_", " ")))
    if story.retry:
        rows.append(("Run", "a retry of this maintenance"))
    if page_url:
        rows.append(("Status page", page_url))
    return rows


def render(
    kind: str,
    facts: Facts,
    *,
    audience: str = "internal",
    story: Story | None = None,
    zones: Sequence[str] = ("UTC",),
    page_url: str | None = None,
    templates: str | None = None,
) -> Rendered:
    """The subject, text and HTML of one notice; NoticeError for a bad kind or template."""
    if kind not in NOTICES:
        raise NoticeError(f"unknown notice {kind!r}; allowed: {', '.join(NOTICES)}")
    if audience not in AUDIENCES:
        raise NoticeError(f"unknown audience {audience!r}; allowed: {', '.join(AUDIENCES)}")
    story = story or Story()
    context = {
        "kind": kind,
        "title": facts.title,
        "emergency": facts.emergency,
        "window": window_text(facts, zones, story.until)
        if audience == "public"
        else f"{facts.window_start} to {story.until or facts.window_end} (UTC)",
        "outcome": story.outcome,
        "until": in_zones(story.until, zones) if story.until and audience == "public"
        else story.until,
        "retry": story.retry,
        "degraded": story.degraded,
        "now": story.now,
    }
    try:
        template = _environment(templates).get_template(f"{audience}/{kind}.j2")
        blocks = {
            name: "".join(block(template.new_context(context))).strip()
            for name, block in template.blocks.items()
        }
    except Exception as exc:  # noqa: BLE001 - any template problem is one error kind
        raise NoticeError(f"template {audience}/{kind}.j2: {exc}") from exc
    subject = " ".join(blocks.get("subject", "").split())
    lead = blocks.get("lead", "")
    message = story.message if audience == "internal" else ""
    rows = _fields(facts, audience, zones, story, page_url)
    return Rendered(kind, audience, subject, _text(lead, rows, facts, message, audience),
                    _html(subject, lead, rows, facts, message, audience))


def _text(lead: str, rows: list[tuple[str, str]], facts: Facts, message: str,
          audience: str) -> str:
    width = max(len(label) for label, _ in rows)
    lines = [lead, ""] + [f"{label + ':':<{width + 1}} {value}" for label, value in rows]
    if audience == "internal" and facts.description:
        lines += ["", facts.description]
    if message:
        lines += ["", message]
    return "\n".join(lines).strip() + "\n"


def _html(subject: str, lead: str, rows: list[tuple[str, str]], facts: Facts, message: str,
          audience: str) -> str:
    e = html.escape
    table = "\n".join(f'<tr><th scope="row" align="left">{e(k)}</th><td>{e(v)}</td></tr>'
                      for k, v in rows)
    parts = [
        '<!DOCTYPE html>\n<html lang="en">\n<head><meta charset="utf-8">'
        f"<title>{e(subject)}</title></head>\n<body>",
        f"<p>{e(lead)}</p>",
        f"<table>\n{table}\n</table>",
    ]
    if audience == "internal" and facts.description:
        parts.append(f"<p>{e(facts.description)}</p>")
    if message:
        parts.append(f"<pre>{e(message)}</pre>")
    parts.append("</body>\n</html>\n")
    return "\n".join(parts)


def render_at(now: datetime) -> str:
    return now.strftime("%Y-%m-%d %H:%M UTC")
