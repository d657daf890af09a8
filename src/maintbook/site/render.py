"""Render the ``file`` status page: status.json data in, the site's files as text out.

Pure: nothing is read from the clock or written anywhere; the provider writes the files
(beside status.json and maintenance.ics). The same inputs give byte-identical output.
Templates live in ``templates/`` with autoescape on: names and bodies are data, so a
``<script>`` in them is printed as text and a ``{{ }}`` is never evaluated.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from maintbook.site import feed, view

HERE = Path(__file__).resolve().parent
FILES = ("index.html", "style.css", "feed.atom")
TEMPLATES = ("index.html.j2", "feed.atom.j2")


@cache
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(str(HERE / "templates")),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def compile_templates() -> None:
    """Compile the site's templates now. ansible-playbook calls this once, before it forks a
    worker for each task, so no page update compiles them again (about 50 ms each)."""
    for name in TEMPLATES:
        _environment().get_template(name)


def _render(name: str, **context: Any) -> str:
    return _environment().get_template(name).render(**context)


def render_site(
    data: dict[str, Any],
    *,
    title: str,
    url: str | None,
    zones: Sequence[str],
    now: datetime,
    past_limit: int = 20,
    feed_limit: int = 50,
    calendar: str | None = "maintenance.ics",
) -> dict[str, str]:
    """File name -> text: index.html, style.css, feed.atom (and nothing that needs JavaScript).

    `data` is the status.json document; `title` heads the page; `url` is the public address
    the site is published at (links in the feed are absolute when given); `zones` are IANA
    names every time is shown in (UTC when empty); `now` decides what is upcoming and past.
    `calendar` is the ICS file linked from the page (None: no link). Raises ValueError for
    an unknown zone.
    """
    every = view.items(data)
    page = view.page(every, title=title, url=url, zones=zones, now=now, past_limit=past_limit)
    news = feed.feed(every, title=page.title, url=url, now=now, limit=feed_limit)
    return {
        "index.html": _render("index.html.j2", page=page, calendar=calendar),
        "style.css": (HERE / "style.css").read_text(encoding="utf-8"),
        "feed.atom": _render("feed.atom.j2", feed=news),
    }
