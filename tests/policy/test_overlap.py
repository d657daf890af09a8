"""Overlaps of many runbooks: one sweep, one message per runbook, bounded output (issue 11)."""

from __future__ import annotations

import json
import re
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from policy_support import make_runbook, runbook_text, utc

from maintbook.commands.check import run_check
from maintbook.model import Runbook
from maintbook.overlap import LISTED, label, overlap_messages, shared_text, target_hosts

SUNDAY = utc(2026, 11, 8, 2)
H = timedelta(hours=1)


def _rb(index: int, start: datetime = SUNDAY, hours: int = 2, *, systems: tuple[str, ...] = (
        "database",), hosts: str = "db_primary") -> Runbook:
    return make_runbook(start, hours * H, id=f"MNT-2026-{index:04d}", systems=systems,
                        hosts=hosts, file=f"runbooks/r{index}.yml")


def test_one_partner_keeps_the_pairwise_message() -> None:
    mine, other = _rb(1), _rb(2, SUNDAY + H)
    assert overlap_messages([mine, other], [True, False]) == {
        0: "overlap with MNT-2026-0002 (runbooks/r2.yml:12) on system database and host "
           "db_primary"}


def test_touching_windows_unchecked_pairs_and_the_own_id_do_not_overlap() -> None:
    first, touching = _rb(1), _rb(2, SUNDAY + 2 * H)
    twin = make_runbook(SUNDAY, id="MNT-2026-0001", file="runbooks/copy.yml")
    booked_a, booked_b = _rb(3, SUNDAY + 5 * H), _rb(4, SUNDAY + 5 * H)
    assert overlap_messages([first, touching, twin, booked_a, booked_b],
                            [True, True, True, False, False]) == {}


def test_many_partners_make_one_bounded_message_in_start_order() -> None:
    runbooks = [_rb(1)] + [_rb(i, SUNDAY + timedelta(minutes=60 - i)) for i in range(2, 30)]
    messages = overlap_messages(runbooks, [True] + [False] * 28)
    partners = sorted(runbooks[1:], key=lambda rb: rb.start)[:LISTED]
    assert messages == {0: "overlaps 28 other runbooks on system database and host db_primary: "
                           + ", ".join(label(rb) for rb in partners) + " and 18 more"}


def test_a_partner_sharing_less_says_what_it_shares() -> None:
    mine = _rb(1, systems=("database", "api"))
    both, host_only = _rb(2, systems=("database", "api")), _rb(3, systems=("cache",))
    assert overlap_messages([mine, both, host_only], [True, False, False])[0] == (
        "overlaps 2 other runbooks on systems database, api and host db_primary: "
        "MNT-2026-0002 (runbooks/r2.yml:12), MNT-2026-0003 (runbooks/r3.yml:12; host db_primary)")


def test_hosts_through_an_inventory() -> None:
    groups = {"databases": frozenset({"db1", "db2"}), "db_primary": frozenset({"db1"})}

    def hosts_of(pattern: str) -> frozenset[str]:
        return groups.get(pattern, frozenset({pattern}))

    mine, other = _rb(1, systems=("a",), hosts="databases"), _rb(2, systems=("b",))
    assert overlap_messages([mine, other], [True, True], hosts_of) == {
        0: "overlap with MNT-2026-0002 (runbooks/r2.yml:12) on host db1",
        1: "overlap with MNT-2026-0001 (runbooks/r1.yml:12) on host db1"}
    assert overlap_messages([mine, other], [True, True]) == {}  # patterns differ


SYSTEMS = ("database", "api", "cache")
HOSTS = ("db_primary", "web", "cache_nodes")


@st.composite
def windows(draw: st.DrawFn) -> list[Runbook]:
    count = draw(st.integers(min_value=0, max_value=40))
    return [_rb(index, SUNDAY + timedelta(minutes=30 * draw(st.integers(0, 40))),
                draw(st.integers(1, 6)),
                systems=tuple(sorted(draw(st.sets(st.sampled_from(SYSTEMS), min_size=1)))),
                hosts=draw(st.sampled_from(HOSTS)))
            for index in range(1, count + 1)]


def _partners(runbooks: list[Runbook], mine: int) -> list[int]:
    rb = runbooks[mine]
    hosts = target_hosts(rb.targets.hosts, None)
    return [i for i, o in enumerate(runbooks) if o.id != rb.id and o.start < rb.end
            and rb.start < o.end and shared_text(rb, o, hosts, None)]


@settings(max_examples=300, deadline=None)
@given(runbooks=windows(), checked=st.lists(st.booleans(), min_size=40, max_size=40))
def test_the_sweep_finds_what_comparing_every_pair_finds(runbooks: list[Runbook],
                                                         checked: list[bool]) -> None:
    flags = checked[:len(runbooks)]
    messages = overlap_messages(runbooks, flags)
    for mine in range(len(runbooks)):
        partners = _partners(runbooks, mine)
        if not flags[mine] or not partners:
            assert mine not in messages
            continue
        if len(partners) == 1:
            assert messages[mine].startswith(f"overlap with {label(runbooks[partners[0]])} on ")
            continue
        first = sorted(partners, key=lambda i: (runbooks[i].start, runbooks[i].id))[:LISTED]
        listed = messages[mine].split(": ", 1)[1]
        assert messages[mine].startswith(f"overlaps {len(partners)} other runbooks on ")
        assert re.findall(r"MNT-\d{4}-\d{4}", listed) == [runbooks[i].id for i in first]
        more = len(partners) - len(first)
        assert listed.endswith(f" and {more} more") if more else "more" not in listed


FOLDER_SIZE = 2000


def test_check_of_2000_runbooks_in_one_window_is_linear_and_bounded(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 11: 3,998,000 diagnostics (876 MB, 104 s) before; one per runbook now.

    bench/check_overlap.py times it against the 10 s target; the bound here is generous.
    """
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "runbooks"
    folder.mkdir()
    for number in range(1, FOLDER_SIZE + 1):
        (folder / f"r{number:04d}.yml").write_text(
            runbook_text(f"MNT-2026-{number:04d}", "2026-11-08T02:00:00Z"))
    began = time.perf_counter()
    assert run_check([Path("runbooks")], None, utc(2026, 10, 1), "text", None) == 1
    elapsed = time.perf_counter() - began
    text = capsys.readouterr().out
    assert len(text.encode()) < 5_000_000
    assert elapsed < 60
    assert run_check([Path("runbooks")], None, utc(2026, 10, 1), "json", None) == 1
    found = json.loads(capsys.readouterr().out)
    assert sorted(d["file"] for d in found) == [f"runbooks/r{n:04d}.yml"
                                               for n in range(1, FOLDER_SIZE + 1)]
    assert {(d["code"], d["line"]) for d in found} == {("overlap", 8)}
    assert found[0]["message"] == (
        "overlaps 1,999 other runbooks on system database and host db_primary: "
        + ", ".join(f"MNT-2026-{n:04d} (runbooks/r{n:04d}.yml:7)" for n in range(2, 12))
        + " and 1,989 more")
