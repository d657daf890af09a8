"""Overlaps between maintenances: shared resources, and one sweep over many windows.

Two maintenances overlap when their half-open windows intersect and they share a system
or a target host (SPEC §5). A runbook never overlaps its own id. Resources are keys
``("system", name)`` and ``("host", name)``; without an inventory a target pattern is
compared as a string.

`overlap_messages` checks many runbooks at once (SPEC §3: output proportional to the
input). Keys whose runbooks are the same (a system and the host group it runs on) form
one group; one sweep per group over the windows sorted by start keeps the windows still
open, so each overlapping pair is found once per group it shares, O(n log n + k) for k
pairs, and is counted once. Each runbook then gets one message: how many others it
overlaps, on what, and the first `LISTED` of them by start:

    overlaps 1,999 other runbooks on system database: MNT-2026-0002 (runbooks/b.yml:7),
    …, MNT-2026-0011 (runbooks/k.yml:7) and 1,989 more
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Callable, Sequence

from maintbook.model import Runbook

HostsOf = Callable[[str], frozenset[str]]
Key = tuple[str, str]

LISTED = 10


def target_hosts(pattern: str, hosts_of: HostsOf | None) -> frozenset[str]:
    """The hosts a target pattern names (the pattern itself without an inventory)."""
    return hosts_of(pattern) if hosts_of is not None else frozenset({pattern})


def resource_text(systems: Sequence[str], hosts: Sequence[str]) -> str:
    """`systems database, api and host db1`; '' for none."""
    parts = []
    if systems:
        parts.append(("systems " if len(systems) > 1 else "system ") + ", ".join(systems))
    if hosts:
        parts.append(("hosts " if len(hosts) > 1 else "host ") + ", ".join(hosts))
    return " and ".join(parts)


def shared_text(
    mine: Runbook, other: Runbook, hosts: frozenset[str], hosts_of: HostsOf | None
) -> str:
    """What two runbooks share (`system database and host db1`), or '' when nothing."""
    systems = [s for s in mine.systems if s in other.systems]
    return resource_text(systems, sorted(hosts & target_hosts(other.targets.hosts, hosts_of)))


def label(runbook: Runbook) -> str:
    """`MNT-2026-0040 (runbooks/db.yml:7)`: a maintenance and where its window is."""
    return f"{runbook.maintenance_id} ({runbook.file}:{runbook.lines.get('window', 1)})"


def _keys(runbook: Runbook, hosts_of: HostsOf | None) -> frozenset[Key]:
    hosts = target_hosts(runbook.targets.hosts, hosts_of)
    return frozenset({("system", s) for s in runbook.systems} | {("host", h) for h in hosts})


def _groups(
    runbooks: Sequence[Runbook], hosts_of: HostsOf | None
) -> list[tuple[list[Key], list[int]]]:
    """Runbook indices by resource key; keys with the same runbooks form one group."""
    by_key: defaultdict[Key, list[int]] = defaultdict(list)
    for index, runbook in enumerate(runbooks):
        for key in sorted(_keys(runbook, hosts_of)):
            by_key[key].append(index)
    groups: dict[tuple[int, ...], list[Key]] = {}
    for key, members in by_key.items():
        if len(members) > 1:
            groups.setdefault(tuple(members), []).append(key)
    return [(keys, list(members)) for members, keys in groups.items()]


class _Sweep:
    """What each checked runbook overlaps: counted once per pair, the first few kept.

    A runbook in one group (the usual case) counts its pairs there; one in several counts
    a pair only in the first group both are in, and keeps its first few per group.
    """

    def __init__(
        self, runbooks: Sequence[Runbook], checked: Sequence[bool], groups: Sequence[Sequence[int]]
    ) -> None:
        self.runbooks, self.checked = runbooks, checked
        self.ids = [rb.id for rb in runbooks]
        self.starts = [rb.start.timestamp() for rb in runbooks]
        self.ends = [rb.end.timestamp() for rb in runbooks]
        groups_of: list[tuple[int, ...]] = [() for _ in runbooks]
        for index, members in enumerate(groups):
            for member in members:
                groups_of[member] += (index,)
        self.groups_of = groups_of
        self.single = [len(g) == 1 for g in groups_of]
        self.count = [0 for _ in runbooks]
        self.listed: list[list[int]] = [[] for _ in runbooks]  # single-group runbooks
        self.listed_in: defaultdict[tuple[int, int], list[int]] = defaultdict(list)
        self.touched: defaultdict[int, set[int]] = defaultdict(set)  # several groups
        self._first: dict[tuple[tuple[int, ...], tuple[int, ...]], int] = {}

    def order(self, index: int) -> tuple[float, str]:
        return self.starts[index], self.ids[index]

    def run(self, group: int, members: Sequence[int]) -> None:
        """Every overlapping pair of one group, once: windows in start order, open ones kept."""
        starts, ends, ids, checked, single = (
            self.starts,
            self.ends,
            self.ids,
            self.checked,
            self.single,
        )
        count, listed = self.count, self.listed
        ending: list[tuple[float, int]] = []
        live: dict[int, None] = {}  # open windows, in start order
        for b in sorted(members, key=self.order):
            while ending and ending[0][0] <= starts[b]:
                live.pop(heapq.heappop(ending)[1], None)
            checked_b, id_b, single_b = checked[b], ids[b], single[b]
            for a in live:
                if not (checked_b or checked[a]) or ids[a] == id_b:
                    continue
                if not (single_b and single[a]):
                    self._pair(a, b, group)
                    continue
                for mine, other in ((a, b), (b, a)):
                    if checked[mine]:
                        count[mine] += 1
                        if len(listed[mine]) < LISTED:  # partners come in start order
                            listed[mine].append(other)
            live[b] = None
            heapq.heappush(ending, (ends[b], b))

    def _common(self, a: int, b: int) -> int:
        """The first group two runbooks share: their pair is counted there only."""
        pair = (self.groups_of[a], self.groups_of[b])
        if pair not in self._first:
            self._first[pair] = min(set(pair[0]) & set(pair[1]))
        return self._first[pair]

    def _pair(self, a: int, b: int, group: int) -> None:
        counted = group == self._common(a, b)
        for mine, other in ((a, b), (b, a)):
            if not self.checked[mine]:
                continue
            found = self.listed[mine] if self.single[mine] else self.listed_in[(mine, group)]
            self.touched[mine].add(group)
            if counted:
                self.count[mine] += 1
                if len(found) < LISTED:
                    found.append(other)

    def partners(self, mine: int) -> list[int]:
        """The first LISTED partners by start."""
        found = set(self.listed[mine])
        found.update(o for g in self.touched[mine] for o in self.listed_in.get((mine, g), []))
        return sorted(found, key=self.order)[:LISTED]

    def groups(self, mine: int) -> set[int]:
        """The groups in which the runbook overlaps another."""
        return self.touched[mine] if not self.single[mine] else set(self.groups_of[mine])


def overlap_messages(
    runbooks: Sequence[Runbook], checked: Sequence[bool], hosts_of: HostsOf | None = None
) -> dict[int, str]:
    """One message per checked runbook that overlaps others, by its index in `runbooks`.

    `runbooks` are concrete windows (one-off runbooks or occurrences); pairs of two
    unchecked runbooks are not reported. passes: two runbooks on system database at
    02:00–04:00Z and 04:00–05:00Z; fails: 02:00–04:00Z and 03:00–05:00Z
    (`overlap with MNT-2026-0040 (runbooks/db.yml:7) on system database`).
    """
    groups = _groups(runbooks, hosts_of)
    sweep = _Sweep(runbooks, checked, [members for _, members in groups])
    for index, (_, members) in enumerate(groups):
        sweep.run(index, members)
    keys = [k for k, _ in groups]
    found = [mine for mine, total in enumerate(sweep.count) if total]
    return {mine: _message(sweep, mine, keys, hosts_of) for mine in found}


def _message(sweep: _Sweep, mine: int, keys: list[list[Key]], hosts_of: HostsOf | None) -> str:
    runbook = sweep.runbooks[mine]
    hosts = target_hosts(runbook.targets.hosts, hosts_of)
    found = sweep.partners(mine)
    texts = [shared_text(runbook, sweep.runbooks[o], hosts, hosts_of) for o in found]
    total = sweep.count[mine]
    if total == 1:
        return f"overlap with {label(sweep.runbooks[found[0]])} on {texts[0]}"
    on = {k for g in sweep.groups(mine) for k in keys[g]}
    union = resource_text(
        [s for s in runbook.systems if ("system", s) in on],
        sorted(name for kind, name in on if kind == "host"),
    )
    names = ", ".join(
        label(sweep.runbooks[o]) if text == union else f"{label(sweep.runbooks[o])[:-1]}; {text})"
        for o, text in zip(found, texts, strict=True)
    )
    more = f" and {total - len(found):,} more" if total > len(found) else ""
    return f"overlaps {total:,} other runbooks on {union}: {names}{more}"
