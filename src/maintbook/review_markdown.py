"""The reviewer's page as Markdown: what a pull request shows for a runbook (SPEC §14)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from maintbook.review_page import (
    Approvals,
    Conflict,
    Deadline,
    Notices,
    Page,
    SoakView,
    StepView,
    Targets,
)
from maintbook.review_undo import Undo
from maintbook.yamltext import yaml_text

TITLES = {"precheck": "Precheck", "steps": "Steps", "verify": "Verify", "rollback": "Rollback"}


def cell(text: object) -> str:
    """Table-cell safe text."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def code(text: object) -> str:
    """Inline code that survives any backticks in `text`."""
    value = str(text)
    longest = max((len(run) for run in re.findall("`+", value)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if value.startswith("`") or value.endswith("`") else ""
    return f"{fence}{pad}{value}{pad}{fence}"


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]


def _fenced(text: str, indent: str) -> list[str]:
    longest = max((len(run) for run in re.findall("`{3,}", text)), default=2)
    fence = "`" * (longest + 1)
    return [f"{indent}{fence}yaml", *(f"{indent}{line}".rstrip() for line in
                                     text.splitlines()), f"{indent}{fence}"]


def steps(items: Sequence[StepView], indent: str = "") -> list[str]:
    """A numbered list: each step's name, its arguments as YAML, its own rollback."""
    lines: list[str] = []
    for step in items:
        lead = f"{indent}{step.number}. "
        inner = " " * len(lead)
        lines.append(f"{lead}**{step.name}**")
        lines += _fenced(yaml_text(step.arguments), inner)
        if step.rollback:
            lines.append(f"{inner}Own rollback (if this step ran and something fails):")
            lines += steps(step.rollback, inner)
    return lines


def _summary(page: Page) -> list[str]:
    rows: list[tuple[str, object]] = [
        ("Type", page.type), ("Risk", page.risk), ("Owner", page.owner),
        ("Systems", ", ".join(page.systems)),
        ("Window (UTC)", f"{page.when.start} to {page.when.end} ({page.when.duration})"),
        *((z.zone, z.text) for z in page.when.zones),
    ]
    if page.when.recurrence:
        rows.append(("Recurrence", page.when.recurrence))
        rows.append(("Occurrence shown", page.maintenance))
    rows += [("Maintenance mode", "yes" if page.maintenance_mode else "no"),
             ("Status page components", ", ".join(page.components) or "none"),
             ("Alert silence", ", ".join(code(m) for m in page.silence) or "none"),
             ("On interrupt", page.on_interrupt)]
    return table(["", ""], rows)


def _series(page: Page) -> list[str]:
    """The series' next occurrences, as the policy places them."""
    rows = [(item.occurrence, item.planned,
             f"{item.start} to {item.end}" if item.start else "—", item.status,
             item.reason or "—") for item in page.when.series]
    lines = [f"This page shows {code(page.maintenance)}; the series' next occurrences from "
             f"{page.judged_at} (notice not judged: a series is announced once, before its "
             "first occurrence):", ""]
    return lines + table(["occurrence", "planned", "takes place", "status", "why"], rows)


def _impact(page: Page) -> list[str]:
    if page.impact is None:
        return ["No `impact` given: public notices and the status page have no customer text."]
    lines = [f"**Summary:** {page.impact['summary']}"]
    if page.impact.get("expect"):
        lines += ["", f"**What to expect:** {page.impact['expect']}"]
    return lines


def _notices(notices: Notices) -> list[str]:
    rows = [(n.offset, n.kind, n.due, n.status,
             ", ".join(f"{d.channel} at {d.at}" for d in n.sent) or "—") for n in notices.items]
    lines = [f"Channels: {', '.join(notices.channels) or 'none'}.", ""]
    lines += table(["offset", "notice", "due", "status", "sent"], rows) if rows else [
        "The policy lists no notices for this type."]
    if notices.state:
        lines += ["", f"State in the database: **{notices.state}**."]
    if notices.other:
        lines += ["", "Also sent: " + "; ".join(f"{d.kind} to {d.channel} at {d.at}"
                                                for d in notices.other) + "."]
    return [*lines, "", f"Ledger: {notices.ledger}."]


def _approvals(approvals: Approvals) -> list[str]:
    lines = []
    for need in approvals.required:
        who = ", ".join(need.by) if need.by else "**missing**"
        lines.append(f"- Required: {need.role} — {who}")
    if not approvals.required:
        lines.append("- Required: none")
    rows = [(g.role, g.by, g.at or "—", "yes" if g.required else "no",
             "yes" if g.counts else "**no**", f"{g.status}: {g.detail}")
            for g in approvals.given]
    lines += ["", *(table(["role", "by", "at", "required", "counts", "for this content"], rows)
                    if rows else ["No approval is given."])]
    return [*lines, "", f"Content digest: {code(approvals.digest)}."]


def _conflicts(conflicts: Sequence[Conflict], judged_at: str) -> list[str]:
    if not conflicts:
        return [f"No conflict: `maintbook check --now {judged_at}` finds none."]
    return [f"- **{c.severity}** {code(c.code)} (line {c.line}): {c.message}" for c in conflicts]


def ranges(labels: Sequence[str]) -> str:
    """`steps 1, steps 2, steps 3, verify 1` → `steps 1–3, verify 1`."""
    runs: list[tuple[str, int, int]] = []
    for label in labels:
        head, _, number = label.rpartition(" ")
        if runs and runs[-1][0] == head and runs[-1][2] + 1 == int(number):
            runs[-1] = (head, runs[-1][1], int(number))
        else:
            runs.append((head, int(number), int(number)))
    return ", ".join(f"{h} {a}" if a == b else f"{h} {a}–{b}" for h, a, b in runs)


def _targets(targets: Targets) -> list[str]:
    extra = [f"serial {targets.serial}" if targets.serial is not None else "",
             f"max_fail_percentage {targets.max_fail_percentage}"
             if targets.max_fail_percentage is not None else ""]
    head = f"{code(targets.hosts)}" + "".join(f", {e}" for e in extra if e)
    rows = [(code(t.hosts) + (" (all targets)" if t.hosts == targets.hosts else ""),
             ranges(t.steps) or "—") for t in targets.tiers]
    return [head, "", *table(["hosts", "steps"], rows)]


def _phases(page: Page) -> list[str]:
    lines: list[str] = []
    for phase, items in page.phases.items():
        if items:
            lines += ["", f"## {TITLES[phase]}", "", *steps(items)]
    if page.soak is not None:
        lines += ["", *_soak(page.soak)]
    return lines


def _soak(soak: SoakView) -> list[str]:
    return [f"## Soak: every {soak.every} for {soak.duration} ({soak.rounds} rounds)", "",
            *steps(soak.checks)]


def _undo(plan: Sequence[Undo]) -> list[str]:
    rows = [(u.failing, "; ".join(u.own) or "—", u.runbook) for u in plan]
    return [*table(["when this fails", "own rollbacks, newest first", "then the runbook's "
                    "rollback"], rows), "",
            "After a rollback the prechecks run again: they pass → rolled_back, they fail → "
            "rollback_failed. Reaching the deadline, or an interrupt with on_interrupt: "
            "rollback, undoes what ran in the same way."]


def _deadline(deadline: Deadline) -> list[str]:
    fits = "yes" if deadline.fits else "**no**: the steps may not all finish by the deadline"
    untimed = f" ({deadline.untimed_steps} without a timeout)" if deadline.untimed_steps else ""
    return table(["", ""], [
        ("Window end", deadline.window_end),
        ("Rollback reserve", f"{deadline.reserve} ({deadline.reserve_from})"),
        ("Deadline", f"{deadline.deadline}: no step starts later"),
        ("Steps' timeouts", f"{deadline.step_timeouts}{untimed}"),
        ("Timeouts + reserve fit the window", fits),
    ])


def markdown(page: Page) -> str:
    """The whole page."""
    lines = [f"# {page.id}: {page.title}", "",
             f"{code(page.file)} · judged at {page.judged_at}", "", *_summary(page)]
    if page.description:
        lines += ["", page.description]
    if page.justification:
        lines += ["", f"**Why:** {page.justification}"]
    sections = [("Occurrences", _series(page))] if page.when.series else []
    sections += [("Impact", _impact(page)), ("Notices", _notices(page.notices)),
                ("Approvals", _approvals(page.approvals)),
                ("Conflicts", _conflicts(page.conflicts, page.judged_at)),
                ("Targets", _targets(page.targets))]
    for title, body in sections:
        lines += ["", f"## {title}", "", *body]
    lines += _phases(page)
    lines += ["", "## If something fails", "", *_undo(page.undo)]
    lines += ["", "## Deadline", "", *_deadline(page.deadline)]
    return "\n".join(lines) + "\n"
