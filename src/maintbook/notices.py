"""Notice texts: render a maintenance notice (subject, plain text, HTML) from templates.

Pure code shared by the ``maintenance_notify`` module and ``maintbook tick``. Runbook fields
(title, description, ...) are passed to the templates as *data*: a ``{{ }}`` inside them is
printed literally and never evaluated. Templates ship in ``templates/notices/``; a project may
override any of them with a file of the same name in its own templates folder.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, FileSystemLoader, StrictUndefined, select_autoescape
from jinja2.sandbox import SandboxedEnvironment

NOTICES: tuple[str, ...] = (
    "announce",
    "reminder",
    "start",
    "progress",
    "complete",
    "rollback",
    "emergency",
)
PARTS: tuple[str, ...] = ("subject", "txt", "html")
TEMPLATES_DIR = Path(__file__).resolve().parent / "templates" / "notices"
RUNBOOK_FIELDS: tuple[str, ...] = (
    "id",
    "title",
    "type",
    "owner",
    "description",
    "systems",
    "window_start",
    "window_end",
    "statuspage_url",
)


@dataclass(frozen=True)
class RenderedNotice:
    """One notice ready to send."""

    notice: str
    subject: str
    text: str
    html: str


class NoticeError(ValueError):
    """An unknown notice name or a template that cannot be rendered."""


def _environment(templates_dir: str | Path | None) -> SandboxedEnvironment:
    loaders = [FileSystemLoader(str(TEMPLATES_DIR))]
    if templates_dir:
        loaders.insert(0, FileSystemLoader(str(templates_dir)))
    return SandboxedEnvironment(
        loader=ChoiceLoader(loaders),
        autoescape=select_autoescape(enabled_extensions=("html", "html.j2"), default=False),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def runbook_context(runbook: Mapping[str, Any]) -> dict[str, Any]:
    """Every runbook field a template may use, missing ones as empty values."""
    data: dict[str, Any] = {name: runbook.get(name) or "" for name in RUNBOOK_FIELDS}
    systems = runbook.get("systems") or []
    data["systems"] = [str(s) for s in systems]
    return data


def render_notice(
    notice: str,
    runbook: Mapping[str, Any],
    *,
    channel: str = "",
    run_id: str = "",
    message: str | None = None,
    outcome: str | None = None,
    templates_dir: str | Path | None = None,
    now: datetime | None = None,
) -> RenderedNotice:
    """Render ``notice`` for ``runbook``; raise NoticeError on an unknown notice or template."""
    if notice not in NOTICES:
        raise NoticeError(f"unknown notice {notice!r}; allowed: {', '.join(NOTICES)}")
    env = _environment(templates_dir)
    context = {
        "notice": notice,
        "runbook": runbook_context(runbook),
        "channel": channel,
        "run_id": run_id,
        "message": message or "",
        "outcome": outcome or "",
        "now": format_utc(now or datetime.now(UTC)),
    }
    parts: dict[str, str] = {}
    for part in PARTS:
        try:
            parts[part] = env.get_template(f"{notice}.{part}.j2").render(context)
        except Exception as exc:  # noqa: BLE001 - any template problem is one error kind
            raise NoticeError(f"template {notice}.{part}.j2: {exc}") from exc
    subject = " ".join(parts["subject"].split())
    return RenderedNotice(notice, subject, parts["txt"].strip() + "\n", parts["html"])


def format_utc(moment: datetime) -> str:
    """RFC 3339 UTC with a ``Z`` suffix, seconds precision."""
    return moment.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")
