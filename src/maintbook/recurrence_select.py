"""Which occurrence of a recurring runbook `run` and `compile` use (until the series engine
lands): the one whose run window [start − 15 min, end] contains now, else the next."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr

from maintbook.config import Config
from maintbook.errors import UsageError
from maintbook.model import Runbook

EARLY = timedelta(minutes=15)


def pick(runbook: Runbook, config: Config, now: datetime) -> Runbook:
    recurrence = runbook.recurrence
    assert recurrence is not None
    zone = ZoneInfo(recurrence.tz)
    local = now.astimezone(zone).replace(tzinfo=None)
    begin = datetime.combine((local - runbook.duration - EARLY).date(), recurrence.start)
    rule = rrulestr(recurrence.rrule, dtstart=begin)
    for moment in rule.xafter(begin, count=400, inc=True):
        start = moment.replace(tzinfo=zone).astimezone(now.tzinfo)
        if start + runbook.duration >= now:
            return runbook.at(start)
    raise UsageError(f"{runbook.id}: no occurrence of {recurrence.rrule} is coming up")
