"""Did-you-mean: the closest known name to a misspelt one (difflib)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def closest(name: str, known: Iterable[str], cutoff: float = 0.75) -> str | None:
    """The known name most like `name`, when one is close enough (`durration` → `duration`)."""
    if not isinstance(name, str) or len(name) > 200:
        return None
    matches = difflib.get_close_matches(name, list(known), n=1, cutoff=cutoff)
    return matches[0] if matches else None


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """`; did you mean 'duration'?`, or '' when nothing is close."""
    match = closest(name, known)
    return f"; did you mean {match!r}?" if match else ""
