"""How a run's time fits its window (SPEC §12): the rollback reserve and the time budget.

Pure arithmetic on durations, shared by the run gate (on the model) and `validate` (on the
file's data).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

MIN_RESERVE = timedelta(minutes=15)


def reserve(explicit: timedelta | None, rollback_timeouts: Iterable[timedelta],
            window: timedelta) -> timedelta:
    """`rollback_reserve` when given; else the rollback steps' timeouts added up, at least
    15 minutes, but never more than half the window (a 5-minute window keeps time for its
    steps too)."""
    if explicit is not None:
        return explicit
    return min(max(sum(rollback_timeouts, timedelta()), MIN_RESERVE), window / 2)


def overflow(step_timeouts: Iterable[timedelta], reserve_time: timedelta,
             window: timedelta) -> timedelta | None:
    """How far the steps' timeouts plus the reserve exceed the window, or None."""
    total = sum(step_timeouts, timedelta()) + reserve_time
    return total - window if total > window else None
