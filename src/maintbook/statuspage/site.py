"""The static site of the `file` page (index.html and what it links)."""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import datetime
from typing import Any


def render(data: dict[str, Any], *, title: str, url: str | None, zones: Sequence[str],
           now: datetime) -> dict[str, str]:
    e = html.escape
    rows = []
    for m in data["maintenances"]:
        ups = "".join(f"<li><time>{e(u['at'])}</time> {e(u['body'])}</li>"
                      for u in reversed(m["updates"]))
        rows.append(f"<section><h2>{e(m['name'])}</h2><p>{e(str(m['status']))} "
                    f"{e(m['scheduled_for'] or '')} – {e(m['scheduled_until'] or '')}</p>"
                    f"<ol>{ups}</ol></section>")
    body = "\n".join(rows) or "<p>No maintenance scheduled.</p>"
    page = (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{e(title)}'
            f"</title></head><body><h1>{e(title)}</h1>\n{body}\n</body></html>\n")
    return {"index.html": page}
