"""The status page of a maintenance: publish, move and close its entry (SPEC §6, §13).

`publish(ctx, status, ...)` is what the `statuspage_maintenance` plugin, `tick`, `cancel`,
`extend` and `recover` all call; it builds one `Change` and hands it to the provider of the
context's page (`file` or `statuspage`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from maintbook.context import Context
from maintbook.http import Transport
from maintbook.lifecycle import PageClose, batch_progress
from maintbook.secrets import lookup
from maintbook.statuspage import atlassian, files
from maintbook.statuspage.model import BODY, Change, PageError, component_status, transition
from maintbook.timeparse import format_utc

__all__ = ["Change", "PageError", "publish", "close_change"]


def _site(ctx: Context) -> files.SiteRenderer:
    from maintbook.site import render_site

    def site(data: dict[str, Any], now: datetime) -> dict[str, str]:
        return render_site(data, title=ctx.page.title, url=ctx.page.url, zones=ctx.page.zones,
                           now=now)

    return site


def batch_body(batch: Mapping[str, int] | None) -> str | None:
    """The public update for a rolling run's batch ("... in progress: batch 2 of 4.")."""
    return BODY["batch"].format(batch=batch_progress(batch)) if batch else None


def change_for(ctx: Context, status: str, *, body: str | None = None,
               closing: PageClose | None = None, window: tuple[str, str] | None = None) -> Change:
    facts = ctx.facts
    start, end = window or (facts.window_start, facts.window_end)
    impact = {"summary": facts.impact_summary, "expect": facts.impact_expect} \
        if facts.impact_summary else None
    return Change(
        status=status,
        body=body or BODY.get(status, BODY["scheduled"]),
        components=facts.components,
        component_status=component_status(status, closing.components if closing else None),
        scheduled_for=start,
        scheduled_until=end,
        name=facts.title,
        impact=impact,
        kind="incident" if facts.emergency and ctx.page.provider == "statuspage"
        else "maintenance",
    )


def close_change(ctx: Context, closing: PageClose, body: str) -> Change:
    return change_for(ctx, closing.status, body=body, closing=closing)


def publish(ctx: Context, change: Change, *, now: datetime, check: bool = False,
            transport: Transport | None = None) -> tuple[bool, dict[str, Any]]:
    """Apply `change` to the maintenance's page entry; (changed, the entry after)."""
    entry_id = ctx.facts.maintenance
    page = ctx.page
    if page.provider == "file":
        folder = Path(page.path or ".maintbook/status")
        stamp = format_utc(now)
        return files.update(folder, entry_id,
                            lambda found: transition(found, entry_id, change, stamp),
                            _site(ctx), now, check)
    key = lookup(page.api_key_env) if page.api_key_env else None
    if not key or not page.page_id:
        raise PageError(f"statuspage: the API key variable {page.api_key_env} is not set "
                        "or page_id is missing")
    api = atlassian.Api(page.base_url or "https://api.statuspage.io/v1", page.page_id, key,
                        transport)
    return atlassian.apply(api, entry_id, change, page.component_ids, check)
