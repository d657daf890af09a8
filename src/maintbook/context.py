"""Everything the lifecycle needs to know about one maintenance besides the state database.

`maintbook run`, `tick`, `cancel`, `extend` and `recover` build a `Context` from the runbook
and the configuration; the compiled playbook carries the same data as the lifecycle plugins'
`context` argument (paths relative to the project root, so the playbook reads the same on
every machine), and a lease keeps it so that `recover` can close a crashed run later.
No secret is ever part of it: channels name their secrets by `*_env`.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from maintbook.config import Config
from maintbook.model import Approval, Runbook, Targets
from maintbook.store.db import Location
from maintbook.timeparse import format_utc, parse_rfc3339

SILENCE_MARGIN_MINUTES = 15


@dataclass(frozen=True)
class Facts:
    """What notices and the status page say about a maintenance. All literal text."""

    maintenance: str
    runbook: str
    occurrence: str | None
    title: str
    type: str
    owner: str
    description: str
    systems: tuple[str, ...]
    components: tuple[str, ...]
    window_start: str
    window_end: str
    impact_summary: str = ""
    impact_expect: str = ""
    recurrence: str = ""

    @property
    def emergency(self) -> bool:
        return self.type == "emergency"


@dataclass(frozen=True)
class Channel:
    name: str
    type: str
    audience: str
    options: dict[str, Any]  # the channel's settings from maintbook.yml

    def accepts(self, kind: str) -> bool:
        wanted = self.options.get("notices")
        return wanted is None or kind in wanted

    @property
    def required(self) -> bool:
        return bool(self.options.get("required", False))


@dataclass(frozen=True)
class Page:
    provider: str
    path: str | None = None  # file provider folder
    url: str | None = None  # the public page
    zones: tuple[str, ...] = ("UTC",)
    title: str = "System status"
    component_ids: dict[str, str] = field(default_factory=dict)
    page_id: str | None = None
    api_key_env: str | None = None
    base_url: str | None = None


@dataclass(frozen=True)
class Silence:
    url: str
    matchers: tuple[str, ...]


@dataclass(frozen=True)
class Gate:
    """What the run gate needs besides the facts: who approved which content, the reserve."""

    targets: str
    approvals: tuple[dict[str, Any], ...]
    digest: str
    reserve_seconds: int
    on_interrupt: str = "rollback"
    sections: dict[str, Any] = field(default_factory=dict)  # fingerprints of the content


@dataclass(frozen=True)
class Series:
    """A recurring runbook's rule: the playbook resolves the occurrence when it runs."""

    rrule: str
    start: str  # HH:MM
    tz: str
    run: str
    on_conflict: str


@dataclass(frozen=True)
class Context:
    facts: Facts
    gate: Gate
    channels: tuple[Channel, ...]
    notice_offsets: tuple[str, ...]  # policy.notices of the type
    page: Page
    silence: Silence | None
    state: Location
    templates: str | None = None
    config_file: str | None = None
    series: Series | None = None

    def to_dict(self, root: Path | None = None) -> dict[str, Any]:
        """Plain data; with `root`, every path is made relative to it."""
        data = asdict(self)
        data["state"] = {
            "path": _rel(self.state.path, root),
            "url": self.state.url,
            "password_env": self.state.password_env,
        }
        for channel in data["channels"]:
            if "path" in channel["options"]:
                channel["options"]["path"] = _rel(channel["options"]["path"], root)
        data["page"]["path"] = _rel(self.page.path, root)
        data["templates"] = _rel(self.templates, root)
        data["config_file"] = _rel(self.config_file, root)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any], root: Path | None = None) -> Context:
        """The inverse of `to_dict`; relative paths are resolved against `root`."""
        state = data["state"]
        channels = []
        for item in data["channels"]:
            options = dict(item["options"])
            if "path" in options:
                options["path"] = _abs(options["path"], root)
            channels.append(Channel(item["name"], item["type"], item["audience"], options))
        page = dict(data["page"])
        page["path"] = _abs(page.get("path"), root)
        page["zones"] = tuple(page.get("zones") or ("UTC",))
        facts = dict(data["facts"])
        facts["systems"], facts["components"] = tuple(facts["systems"]), tuple(facts["components"])
        gate = dict(data["gate"])
        gate["approvals"] = tuple(dict(a) for a in gate["approvals"])
        silence = data.get("silence")
        series = data.get("series")
        return cls(
            series=Series(**series) if series else None,
            facts=Facts(**facts),
            gate=Gate(**gate),
            channels=tuple(channels),
            notice_offsets=tuple(data["notice_offsets"]),
            page=Page(**page),
            silence=Silence(silence["url"], tuple(silence["matchers"])) if silence else None,
            state=Location(
                Path(p) if (p := _abs(state.get("path"), root)) else None,
                state.get("url"),
                state.get("password_env"),
            ),
            templates=_abs(data.get("templates"), root),
            config_file=_abs(data.get("config_file"), root),
        )


def _rel(path: str | os.PathLike[str] | None, root: Path | None) -> str | None:
    if path is None:
        return None
    if root is None:
        return str(path)
    return os.path.relpath(Path(path).resolve(), root.resolve()).replace(os.sep, "/")


def _abs(path: str | None, root: Path | None) -> str | None:
    if path is None:
        return None
    if root is None or Path(path).is_absolute():
        return str(path)
    return str((root / path).resolve())


def facts_of(rb: Runbook) -> Facts:
    recurrence = ""
    if rb.recurrence is not None:
        r = rb.recurrence
        recurrence = f"{r.rrule} at {r.start:%H:%M} {r.tz}"
    return Facts(
        maintenance=rb.maintenance_id,
        runbook=rb.id,
        occurrence=rb.occurrence,
        title=rb.title,
        type=rb.type,
        owner=rb.owner,
        description=rb.description,
        systems=rb.systems,
        components=rb.components,
        window_start=format_utc(rb.start),
        window_end=format_utc(rb.end),
        impact_summary=rb.impact.summary if rb.impact else "",
        impact_expect=rb.impact.expect if rb.impact else "",
        recurrence=recurrence,
    )


def channels_of(rb: Runbook, config: Config) -> tuple[Channel, ...]:
    found = []
    for name in rb.notify:
        options = config.channel(name)
        found.append(
            Channel(name, str(options["type"]), str(options.get("audience", "internal")), options)
        )
    return tuple(found)


def page_of(config: Config) -> Page:
    page = config.statuspage
    provider = str(page.get("provider", "file"))
    return Page(
        provider=provider,
        path=str(config.status_path()) if provider == "file" else None,
        url=page.get("url"),
        zones=tuple(page.get("zones") or ("UTC",)),
        title=str(page.get("title", "System status")),
        component_ids=dict(page.get("components") or {}),
        page_id=page.get("page_id"),
        api_key_env=page.get("api_key_env"),
        base_url=page.get("base_url"),
    )


def gate_of(rb: Runbook, reserve_seconds: int) -> Gate:
    return Gate(
        targets=rb.targets.hosts,
        approvals=tuple(
            {k: v for k, v in asdict(a).items() if v is not None} for a in rb.approvals
        ),
        digest=rb.digest,
        reserve_seconds=reserve_seconds,
        on_interrupt=rb.on_interrupt,
        sections=rb.sections,
    )


def gate_runbook(ctx: Context) -> Runbook:
    """A runbook holding what the gate judges (no steps), rebuilt from a context: the
    lifecycle plugins never read the runbook file."""
    facts, gate = ctx.facts, ctx.gate
    start = parse_rfc3339(facts.window_start)
    return Runbook(
        file="",
        id=facts.runbook,
        title=facts.title,
        owner=facts.owner,
        type=facts.type,
        risk="medium",
        systems=facts.systems,
        window_start=start,
        duration=parse_rfc3339(facts.window_end) - start,
        targets=Targets(gate.targets),
        steps=(),
        approvals=tuple(Approval(**a) for a in gate.approvals),
        rollback_reserve=timedelta(seconds=gate.reserve_seconds),
        occurrence=facts.occurrence,
        on_interrupt=gate.on_interrupt,
        digest=gate.digest,
        sections=gate.sections,
    )


def series_runbook(ctx: Context) -> Runbook:
    """The recurring runbook a context of an occurrence belongs to (its rule, no start)."""
    from maintbook.model import Recurrence
    from maintbook.timeparse import parse_clock

    assert ctx.series is not None
    s = ctx.series
    base = gate_runbook(ctx)
    return replace(base, window_start=None, occurrence=None,
                   recurrence=Recurrence(s.rrule, parse_clock(s.start), s.tz, s.run, s.on_conflict))


def at_occurrence(ctx: Context, occurrence: Runbook) -> Context:
    """The context of another occurrence of the same series."""
    facts = replace(ctx.facts, maintenance=occurrence.maintenance_id,
                    occurrence=occurrence.occurrence,
                    window_start=format_utc(occurrence.start),
                    window_end=format_utc(occurrence.end))
    return replace(ctx, facts=facts)


def build_context(rb: Runbook, config: Config) -> Context:
    """The lifecycle context of one concrete maintenance (a one-off runbook or an occurrence)."""
    silence = None
    if rb.silence and config.alertmanager:
        silence = Silence(str(config.alertmanager["url"]), rb.silence)
    from maintbook.runtime.gate import reserve_of

    series = None
    if rb.recurrence is not None:
        r = rb.recurrence
        series = Series(r.rrule, f"{r.start:%H:%M}", r.tz, r.run, r.on_conflict)
    return Context(
        series=series,
        facts=facts_of(rb),
        gate=gate_of(rb, int(reserve_of(rb).total_seconds())),
        channels=channels_of(rb, config),
        notice_offsets=tuple(config.policy.notices.get(rb.type, ())),
        page=page_of(config),
        silence=silence,
        state=config.state,
        templates=str(config.templates) if config.templates else None,
        config_file=str(Path(config.file).resolve()) if config.file else None,
    )
