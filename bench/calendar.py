"""Benchmark: one runbook checked and scheduled against 10,000 booked runbooks; series.

The default policy (SPEC §4) plus US holidays, booked runbooks spread over two years on
50 systems and 50 host groups. Prints the median wall time of `check_conflicts` and of
`next_slots(count=10)` (the work of `maintbook check` and `maintbook schedule --count 10`
once the files are loaded). Targets on the reference machine: ≤ 50 ms and ≤ 200 ms.

Recurring runbooks (SPEC §11), against the same bookings: a weekly series judged over
the 90 days `check` looks at (target ≤ 50 ms), its next 10 occurrences as `schedule`
lists them (≤ 200 ms), and a daily series over ten years (≤ 1 s, its rule cold), beside
the baseline of the same run: expanding that rule's ten years alone, walking from the
2000-01-01 anchor (what calendar.py did before it restarted near the range).

    PYTHONPATH=src .venv/bin/python bench/calendar.py [--booked N] [--rounds N]
"""

from __future__ import annotations

import sys
from pathlib import Path

# This file is named calendar.py: keep its folder off sys.path so that `import calendar`
# (used by the holidays library) finds the standard library module.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent.resolve()]

import argparse  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import replace  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402
from datetime import time as clock  # noqa: E402
from itertools import islice  # noqa: E402

from dateutil.rrule import rrulestr  # noqa: E402

from maintbook.config import DEFAULTS, Policy, build_policy  # noqa: E402
from maintbook.model import Approval, Recurrence, Runbook, Targets  # noqa: E402
from maintbook.policy import check_conflicts  # noqa: E402
from maintbook.recurrence import NO_NOTICE, occurrences, upcoming  # noqa: E402
from maintbook.slots import next_slots  # noqa: E402

START = datetime(2026, 11, 1, tzinfo=UTC)
SPAN = timedelta(days=730)
TYPES = ("zero-downtime", "brief-interruption", "planned-outage", "extended-outage")


def runbook(
    index: int,
    start: datetime,
    duration: timedelta,
    kind: str,
    systems: tuple[str, ...],
    hosts: str,
) -> Runbook:
    return Runbook(
        file=f"runbooks/r{index}.yml",
        id=f"MNT-2026-{index:05d}",
        title="bench",
        owner="sre-team",
        type=kind,
        risk="low",
        systems=systems,
        window_start=start,
        duration=duration,
        targets=Targets(hosts),
        steps=(),
        approvals=(Approval("vp-engineering", "bob"),),
        lines={"window": 7},
    )


def booked(count: int, rng: random.Random) -> list[Runbook]:
    found = []
    for index in range(1, count + 1):
        start = START + timedelta(minutes=15 * rng.randrange(int(SPAN.total_seconds()) // 900))
        systems = tuple(rng.sample([f"system{i}" for i in range(50)], rng.randint(1, 3)))
        found.append(
            runbook(
                index,
                start,
                timedelta(minutes=rng.choice((30, 60, 120))),
                rng.choice(TYPES),
                systems,
                f"group{rng.randrange(50)}",
            )
        )
    return found


def median_ms(action: Callable[[], object], rounds: int) -> float:
    action()  # warm the per-year expansion caches, as a long-running process would
    timings = []
    for _ in range(rounds):
        began = time.perf_counter()
        action()
        timings.append((time.perf_counter() - began) * 1000)
    return statistics.median(timings)


def once_ms(action: Callable[[], object]) -> float:
    began = time.perf_counter()
    action()
    return (time.perf_counter() - began) * 1000


def series(rule: str, kind: str) -> Runbook:
    one = runbook(0, START, timedelta(hours=1), kind, ("system1", "system2"), "group1")
    return replace(one, window_start=None, recurrence=Recurrence(rule, clock(3), "UTC"))


def walk_from_anchor(rule: str, start: datetime, end: datetime) -> int:
    """The baseline: dateutil from the 2000-01-01 anchor, as calendar.py expanded before."""
    walk = rrulestr(rule, dtstart=datetime(2000, 1, 1, 3))
    low, high = start.replace(tzinfo=None), end.replace(tzinfo=None)
    return len(walk.between(low, high, inc=True))


def bench_series(policy: Policy, others: list[Runbook], now: datetime, rounds: int) -> None:
    weekly, daily = (
        series("FREQ=WEEKLY;BYDAY=SU", "planned-outage"),
        series("FREQ=DAILY", "zero-downtime"),
    )
    start, ten_years = datetime(2027, 1, 1, tzinfo=UTC), datetime(2037, 1, 1, tzinfo=UTC)
    walk = once_ms(lambda: walk_from_anchor("FREQ=DAILY", start, ten_years))
    cold = once_ms(
        lambda: occurrences(
            daily, policy, start=start, end=ten_years, now=now, others=others, first=NO_NOTICE
        )
    )
    judged = occurrences(
        daily, policy, start=start, end=ten_years, now=now, others=others, first=NO_NOTICE
    )
    check = median_ms(
        lambda: occurrences(
            weekly,
            policy,
            start=now,
            end=now + timedelta(days=90),
            now=now,
            others=others,
            first=NO_NOTICE,
        ),
        rounds,
    )
    listed = median_ms(
        lambda: list(islice(upcoming(weekly, policy, after=now, now=now, others=others), 10)),
        rounds,
    )
    print(f"daily series, ten years: {len(judged)} occurrences judged")
    print(f"  baseline, the rule alone walked from 2000: {walk:7.2f} ms")
    print(f"  occurrences judged (first call):           {cold:7.2f} ms (target <= 1000 ms)")
    print(f"weekly series, 90 days (check):     median {check:7.2f} ms (target <= 50 ms)")
    print(f"weekly series, next 10 (schedule):  median {listed:7.2f} ms (target <= 200 ms)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--booked", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=21)
    args = parser.parse_args()
    rng = random.Random(42)
    data = {
        **DEFAULTS["policy"],
        "blackouts": [*DEFAULTS["policy"]["blackouts"], {"name": "US holidays", "holidays": "US"}],
    }
    policy = build_policy(data)
    others = booked(args.booked, rng)
    mine = runbook(
        0,
        datetime(2027, 3, 7, 2, tzinfo=UTC),
        timedelta(hours=2),
        "planned-outage",
        ("system1", "system2"),
        "group1",
    )
    now = datetime(2026, 11, 1, tzinfo=UTC)
    began = time.perf_counter()
    conflicts = check_conflicts(mine, policy, now, others, [])
    slots = next_slots(mine, policy, now, None, 10, others, [])
    cold = (time.perf_counter() - began) * 1000
    check = median_ms(lambda: check_conflicts(mine, policy, now, others, []), args.rounds)
    schedule = median_ms(lambda: next_slots(mine, policy, now, None, 10, others, []), args.rounds)
    print(
        f"booked runbooks: {len(others)}; conflicts found: {len(conflicts)}; "
        f"slots found: {len(slots)}"
    )
    print(f"first check + schedule in a fresh process (caches cold): {cold:.0f} ms")
    print(f"check:                median {check:7.2f} ms (target <= 50 ms)")
    print(f"schedule --count 10:  median {schedule:7.2f} ms (target <= 200 ms)")
    bench_series(policy, others, now, args.rounds)


if __name__ == "__main__":
    main()
