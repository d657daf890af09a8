"""What status tokens say to a reader: the label and the tone (a CSS class) of each token.

Tokens are the machine vocabulary of ``status.json``; the page never shows one raw.

    >>> maintenance_label("in_progress")
    Label(text='In progress', tone='active')
    >>> component_label("partial_outage")
    Label(text='Partial outage', tone='partial')
    >>> maintenance_label("on_hold")        # unknown: humanised, neutral tone
    Label(text='On hold', tone='muted')
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


@dataclass(frozen=True)
class Label:
    """Human text and a tone from a fixed set (ok, info, active, warn, partial, bad, muted)."""

    text: str
    tone: str


MAINTENANCE: dict[str, Label] = {
    "scheduled": Label("Scheduled", "info"),
    "in_progress": Label("In progress", "active"),
    "verifying": Label("Verifying", "active"),
    "completed": Label("Completed", "ok"),
    "cancelled": Label("Cancelled", "muted"),
    "ended_early": Label("Ended early", "warn"),
    "not_completed": Label("Not completed — engineers are working on it", "bad"),
    "missed": Label("Did not take place", "muted"),
}

COMPONENT: dict[str, Label] = {
    "operational": Label("Operational", "ok"),
    "under_maintenance": Label("Under maintenance", "active"),
    "degraded_performance": Label("Degraded performance", "warn"),
    "partial_outage": Label("Partial outage", "partial"),
    "major_outage": Label("Major outage", "bad"),
}

# Worst wins when two maintenances set one component; an unknown token sits in the middle.
SEVERITY: dict[str, int] = {
    "operational": 0,
    "under_maintenance": 1,
    "degraded_performance": 3,
    "partial_outage": 4,
    "major_outage": 5,
}
UNKNOWN_SEVERITY = 2

# The headline of the page for the worst severity of any component.
OVERALL: dict[int, Label] = {
    0: Label("All systems operational", "ok"),
    1: Label("Maintenance in progress", "active"),
    2: Label("Some systems are affected", "warn"),
    3: Label("Degraded performance", "warn"),
    4: Label("Partial outage", "partial"),
    5: Label("Major outage", "bad"),
}

KINDS: dict[str, str] = {"maintenance": "Maintenance", "incident": "Incident"}


def clean(value: object) -> str:
    """Text safe for HTML and XML 1.0: control characters and lone surrogates removed."""
    if value is None:
        return ""
    return _UNSAFE.sub("", value if isinstance(value, str) else str(value)).strip()


def humanise(token: object) -> str:
    """``on_hold`` → ``On hold``; nothing → ``Unknown``."""
    words = " ".join(clean(token).replace("_", " ").replace("-", " ").split())
    return words[:1].upper() + words[1:] if words else "Unknown"


def maintenance_label(token: object) -> Label:
    """The label of a maintenance status token, a humanised one if unknown."""
    key = clean(token)
    return MAINTENANCE.get(key) or Label(humanise(key), "muted")


def component_label(token: object) -> Label:
    """The label of a component status token, a humanised one if unknown."""
    key = clean(token)
    return COMPONENT.get(key) or Label(humanise(key), "muted")


def severity(token: str) -> int:
    """How bad a component status is, 0 (operational) to 5 (major outage)."""
    return SEVERITY.get(token, UNKNOWN_SEVERITY)


def kind_label(token: object) -> str:
    """``incident`` → ``Incident``; anything else is a maintenance."""
    return KINDS.get(clean(token), "Maintenance")
