"""check, schedule and calendar as typed functions: exit codes and exact output."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import icalendar
import pytest
import recurring_ical_events
from click.testing import CliRunner
from policy_support import runbook_text, series_text, utc, write_repo

from maintbook.booking import pattern_resolver
from maintbook.cli import main
from maintbook.commands.calendar_cmd import run_calendar
from maintbook.commands.check import run_check
from maintbook.commands.schedule import run_schedule
from maintbook.errors import UsageError

NOW = utc(2026, 10, 1)
Capture = pytest.CaptureFixture[str]


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(write_repo(tmp_path))
    return tmp_path


def test_check_clean(repo: Path, capsys: Capture) -> None:
    assert run_check([Path("mine.yml")], None, NOW, "text", None) == 0
    assert capsys.readouterr().out == ""


def test_check_reports_overlap_with_the_runbooks_folder(repo: Path, capsys: Capture) -> None:
    (repo / "mine.yml").write_text(runbook_text("MNT-2026-0042", "2026-12-06T03:00:00Z"))
    assert run_check([Path("mine.yml")], None, NOW, "text", None) == 1
    assert capsys.readouterr().out == (
        "mine.yml:8:10: error overlap overlap with MNT-2026-0040 (runbooks/db.yml:7) on "
        "system database and host db_primary\n"
        "      start: 2026-12-06T03:00:00Z\n"
        "             ^\n")


def test_check_a_folder_compares_its_runbooks_once(repo: Path, capsys: Capture) -> None:
    assert run_check([Path("runbooks")], None, NOW, "json", None) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_check_now_changes_the_notice_verdict(repo: Path, capsys: Capture) -> None:
    assert run_check([Path("mine.yml")], None, utc(2026, 11, 5), "github", None) == 1
    out = capsys.readouterr().out
    assert out.startswith("::error file=mine.yml,line=8,col=10,title=notice::type "
                          "planned-outage needs 7d notice")


def test_check_invalid_runbook_reports_its_diagnostics(repo: Path, capsys: Capture) -> None:
    (repo / "bad.yml").write_text("runbook: 1\nid: nope\n")
    assert run_check([Path("bad.yml")], None, NOW, "json", None) == 1
    assert all(d["file"] == "bad.yml" for d in json.loads(capsys.readouterr().out))


def test_check_usage_and_config_errors(repo: Path) -> None:
    with pytest.raises(UsageError, match="no such file"):
        run_check([Path("missing.yml")], None, NOW, "text", None)
    (repo / "broken.yml").write_text("policy: [1\n")
    with pytest.raises(UsageError):
        run_check([Path("mine.yml")], Path("broken.yml"), NOW, "text", None)
    with pytest.raises(UsageError, match="--format xml"):
        run_check([Path("mine.yml")], None, NOW, "xml", None)


def test_check_with_an_inventory(repo: Path, capsys: Capture) -> None:
    (repo / "inventory.yml").write_text(
        "all:\n  children:\n    databases:\n      hosts: {db1: {}, db2: {}}\n"
        "    db_primary:\n      hosts: {db1: {}}\n    web:\n      hosts: {web1: {}}\n")
    (repo / "mine.yml").write_text(runbook_text("MNT-2026-0042", "2026-12-06T03:00:00Z",
                                                systems="cache", hosts="databases:!db2"))
    assert run_check([Path("mine.yml")], None, NOW, "text", Path("inventory.yml")) == 1
    assert "on host db1\n" in capsys.readouterr().out
    (repo / "mine.yml").write_text(runbook_text("MNT-2026-0042", "2026-12-06T03:00:00Z",
                                                systems="cache", hosts="databases:!db1"))
    assert run_check([Path("mine.yml")], None, NOW, "text", Path("inventory.yml")) == 0


def test_pattern_resolver() -> None:
    members = {"all": frozenset({"db1", "db2", "web1"}), "databases": frozenset({"db1", "db2"}),
               "web": frozenset({"web1"})}
    resolve = pattern_resolver(members)
    assert resolve("databases:&db*") == {"db1", "db2"}
    assert resolve("all:!web") == {"db1", "db2"}
    assert resolve("web,db2") == {"web1", "db2"}
    assert resolve("unknown") == {"unknown"}


def test_schedule_json(repo: Path, capsys: Capture) -> None:
    code = run_schedule(Path("mine.yml"), None, utc(2026, 11, 29), 3, NOW, "json")
    assert code == 0
    assert json.loads(capsys.readouterr().out) == [
        # 11-29 thanksgiving week; 12-06 02:00-04:00 booked by MNT-2026-0040 (database)
        {"start": "2026-12-06T04:00:00Z", "end": "2026-12-06T05:00:00Z",
         "window": "primary+extended"},
        {"start": "2026-12-13T02:00:00Z", "end": "2026-12-13T03:00:00Z", "window": "primary"},
        # 12-20 and 12-27: year-end freeze
        {"start": "2027-01-03T02:00:00Z", "end": "2027-01-03T03:00:00Z",
         "window": "primary+extended"},
    ]


def test_schedule_text_respects_notice(repo: Path, capsys: Capture) -> None:
    assert run_schedule(Path("mine.yml"), None, None, 1, utc(2026, 11, 3), "text") == 0
    assert capsys.readouterr().out == (
        "2026-11-15T02:00:00Z  2026-11-15T03:00:00Z  primary\n")  # 11-08 is < 7 days away


def test_schedule_none_found(repo: Path, capsys: Capture) -> None:
    (repo / "mine.yml").write_text(runbook_text("MNT-2026-0042", "2026-11-08T02:00:00Z", "3h"))
    assert run_schedule(Path("mine.yml"), None, None, 5, NOW, "json") == 1
    captured = capsys.readouterr()
    assert json.loads(captured.out) == []
    assert captured.err == ("mine.yml: no slot: window.duration 3h exceeds the 2h maximum "
                            "of type planned-outage\n")


def test_calendar_text_and_json(repo: Path, capsys: Capture) -> None:
    code = run_calendar(None, utc(2026, 12, 5), utc(2026, 12, 7), None, "json", NOW)
    assert code == 0
    rows = [(r["start"], r["kind"], r["name"]) for r in json.loads(capsys.readouterr().out)]
    assert rows == [("2026-12-06T02:00:00Z", "booking", "MNT-2026-0040 Vacuum"),
                    ("2026-12-06T02:00:00Z", "window", "primary"),   # ends 06:00
                    ("2026-12-06T02:00:00Z", "window", "extended")]  # ends 08:00
    run_calendar(None, utc(2026, 12, 14), utc(2026, 12, 15, 1), None, "text", NOW)
    assert capsys.readouterr().out == ("2026-12-15T00:00:00Z  2027-01-03T00:00:00Z  blackout  "
                                       "year-end freeze  (12-15 to 01-02)\n")


def test_calendar_ics_round_trip(repo: Path, capsys: Capture) -> None:
    ics = repo / "out.ics"
    assert run_calendar(None, utc(2026, 11, 20), utc(2027, 1, 10), ics, "text", NOW) == 0
    listed = capsys.readouterr().out.splitlines()
    calendar = icalendar.Calendar.from_ical(ics.read_bytes())
    assert calendar["VERSION"] == "2.0"
    assert calendar["PRODID"] == "-//maintbook//maintenance calendar//EN"
    events = recurring_ical_events.of(calendar).between(utc(2026, 11, 1), utc(2027, 2, 1))
    assert len(events) == len(listed)
    for event in events:
        assert event["UID"].endswith("@maintbook") and "DTSTAMP" in event
    summaries = {str(e["SUMMARY"]) for e in events}
    assert {"Maintenance: MNT-2026-0040 Vacuum", "Blackout: thanksgiving week",
            "Blackout: year-end freeze", "Blackout: quarter end", "Window: primary",
            "Window: secondary", "Window: extended"} == summaries
    booked = [e for e in events if str(e["SUMMARY"]).startswith("Maintenance")]
    assert [(e["DTSTART"].dt, e["DTEND"].dt) for e in booked] == [
        (utc(2026, 12, 6, 2), utc(2026, 12, 6, 4))]
    uids = [str(e["UID"]) for e in events]
    assert len(set(uids)) == len(uids)


def test_calendar_bad_range(repo: Path) -> None:
    with pytest.raises(UsageError, match="must be later"):
        run_calendar(None, utc(2026, 12, 5), utc(2026, 12, 5), None, "text", NOW)


# --------------------------------------------------------------------------- recurring runbooks

FROZEN = ('window 2026-12-20T03:00Z–04:00Z overlaps blackout "year-end freeze" (12-15 to 01-02); '
          "no compliant slot before the next occurrence (2026-12-27T03:00:00Z)")
MOVED = 'window 2026-12-27T03:00Z–04:00Z overlaps blackout "year-end freeze" (12-15 to 01-02)'


def _row(start: str | None, end: str | None, window: str | None, occurrence: str, status: str,
         planned: str, reason: str = "") -> dict[str, str | None]:
    return {"start": start, "end": end, "window": window,
            "occurrence": f"MNT-2026-0100@{occurrence}", "status": status,
            "planned_start": planned, "reason": reason}


def test_schedule_of_a_series_in_the_year_end_freeze(repo: Path, capsys: Capture) -> None:
    """Issue 12: the next-slot series moves out of the freeze within its week, or skips."""
    (repo / "weekly.yml").write_text(series_text("MNT-2026-0100"))
    assert run_schedule(Path("weekly.yml"), None, utc(2026, 12, 14), 3, NOW, "json") == 0
    assert json.loads(capsys.readouterr().out) == [
        _row(None, None, None, "20261220T0300Z", "skipped", "2026-12-20T03:00:00Z", FROZEN),
        _row("2027-01-03T02:00:00Z", "2027-01-03T03:00:00Z", "primary+extended",
             "20261227T0300Z", "moved", "2026-12-27T03:00:00Z", MOVED),
        _row("2027-01-03T03:00:00Z", "2027-01-03T04:00:00Z", "primary+extended",
             "20270103T0300Z", "planned", "2027-01-03T03:00:00Z")]
    (repo / "weekly.yml").write_text(series_text("MNT-2026-0100", on_conflict="skip"))
    assert run_schedule(Path("weekly.yml"), None, utc(2026, 12, 14), 3, NOW, "json") == 0
    assert [(r["status"], r["reason"]) for r in json.loads(capsys.readouterr().out)] == [
        ("skipped", FROZEN.split("; ")[0]), ("skipped", MOVED), ("planned", "")]


def test_schedule_of_a_series_as_text(repo: Path, capsys: Capture) -> None:
    (repo / "weekly.yml").write_text(series_text("MNT-2026-0100"))
    assert run_schedule(Path("weekly.yml"), None, utc(2026, 12, 14), 2, NOW, "text") == 0
    assert capsys.readouterr().out == (
        "-                     -                     -                 skipped  "
        f"MNT-2026-0100@20261220T0300Z  {FROZEN}\n"
        "2027-01-03T02:00:00Z  2027-01-03T03:00:00Z  primary+extended  moved    "
        f"MNT-2026-0100@20261227T0300Z  planned 2026-12-27T03:00:00Z: {MOVED}\n")


def test_schedule_of_a_series_that_never_takes_place(repo: Path, capsys: Capture) -> None:
    (repo / "weekly.yml").write_text(series_text("MNT-2026-0100", on_conflict="skip"))
    assert run_schedule(Path("weekly.yml"), None, utc(2026, 12, 19), 2, NOW, "text") == 1
    captured = capsys.readouterr()
    assert [line.split()[3] for line in captured.out.splitlines()] == ["skipped", "skipped"]
    assert captured.err == ("weekly.yml: no occurrence takes place within 366 days of "
                            "2026-12-19T00:00:00Z\n")


def test_schedule_of_a_series_with_a_bad_zone(repo: Path) -> None:
    (repo / "weekly.yml").write_text(series_text("MNT-2026-0100", tz="Mars/Olympus"))
    with pytest.raises(UsageError, match="recurrence.tz: unknown IANA time zone"):
        run_schedule(Path("weekly.yml"), None, None, 2, NOW, "text")


def test_check_judges_the_occurrences_of_the_horizon(repo: Path, capsys: Capture) -> None:
    """13 Sundays from 10-04 to 12-27; runbooks/db.yml holds 12-06 02:00–04:00 (database)."""
    (repo / "weekly.yml").write_text(series_text("MNT-2026-0100"))
    assert run_check([Path("weekly.yml")], None, NOW, "json", None) == 0
    found = [(d["line"], d["column"], d["severity"], d["code"], d["message"])
             for d in json.loads(capsys.readouterr().out)]
    thanksgiving = ('window 2026-11-29T03:00Z–04:00Z overlaps blackout "thanksgiving week" '
                    "(2026-11-26T00:00Z–2026-12-01T00:00Z); no compliant slot before the next "
                    "occurrence (2026-12-06T03:00:00Z)")
    assert found == [
        (10, 10, "warning", "blackout-skipped",
         "2 of 13 occurrences of the next 90d are skipped: MNT-2026-0100@20261129T0300Z "
         f"({thanksgiving}); MNT-2026-0100@20261220T0300Z ({FROZEN})"),
        (10, 10, "info", "overlap-moved",
         "1 of 13 occurrences of the next 90d is moved: MNT-2026-0100@20261206T0300Z to "
         "2026-12-06T04:00:00Z (overlap with MNT-2026-0040 (runbooks/db.yml:7) on system "
         "database and host db_primary)"),
        (10, 10, "info", "blackout-moved",
         "1 of 13 occurrences of the next 90d is moved: MNT-2026-0100@20261227T0300Z to "
         f"2027-01-03T02:00:00Z ({MOVED})")]
    assert run_check([Path("weekly.yml")], None, NOW, "json", None, timedelta(days=14)) == 0
    assert json.loads(capsys.readouterr().out) == []
    with pytest.raises(UsageError, match="--horizon 0: must be longer than 0"):
        run_check([Path("weekly.yml")], None, NOW, "json", None, timedelta(0))


def test_check_fails_a_series_none_of_whose_occurrences_takes_place(repo: Path,
                                                                    capsys: Capture) -> None:
    (repo / "weekly.yml").write_text(series_text("MNT-2026-0100", "FREQ=WEEKLY;BYDAY=TU",
                                                 "10:00", on_conflict="skip"))
    assert run_check([Path("weekly.yml")], None, NOW, "json", None, timedelta(days=7)) == 1
    (found,) = json.loads(capsys.readouterr().out)
    assert (found["severity"], found["code"]) == ("error", "outside-window-skipped")
    assert found["message"].startswith(
        "1 of 1 occurrences of the next 7d is skipped (none takes place): "
        "MNT-2026-0100@20261006T1000Z (window 2026-10-06T10:00Z–11:00Z is not inside an "
        "allowed window of type planned-outage")


def test_check_says_once_what_every_occurrence_breaks(repo: Path, capsys: Capture) -> None:
    (repo / "weekly.yml").write_text(series_text("MNT-2026-0100", duration="3h"))
    assert run_check([Path("weekly.yml")], None, NOW, "text", None) == 1
    assert capsys.readouterr().out == (
        "weekly.yml:8:13: error duration window.duration 3h exceeds the 2h maximum of type "
        "planned-outage\n"
        "      duration: 3h\n"
        "                ^\n")


def test_a_one_off_runbook_is_not_judged_against_a_series(repo: Path, capsys: Capture) -> None:
    (repo / "runbooks" / "weekly.yml").write_text(series_text("MNT-2026-0100"))
    (repo / "mine.yml").write_text(runbook_text("MNT-2026-0042", "2026-11-08T03:00:00Z"))
    assert run_check([Path("mine.yml")], None, NOW, "text", None) == 0
    assert capsys.readouterr().out == ""
    assert run_check([Path("runbooks")], None, NOW, "json", None) == 0
    codes = [d["code"] for d in json.loads(capsys.readouterr().out)]
    assert codes == ["blackout-skipped", "overlap-moved", "blackout-moved"]


def test_calendar_shows_each_occurrence_with_its_state(repo: Path, capsys: Capture) -> None:
    (repo / "runbooks" / "weekly.yml").write_text(series_text("MNT-2026-0100"))
    ics = repo / "out.ics"
    assert run_calendar(None, utc(2026, 12, 19), utc(2026, 12, 28), ics, "json", NOW) == 0
    rows = [(r["start"], r["kind"], r["name"], r["detail"])
            for r in json.loads(capsys.readouterr().out) if r["kind"] in ("booking", "skipped")]
    assert rows == [
        ("2026-12-20T03:00:00Z", "skipped", "MNT-2026-0100@20261220T0300Z Weekly vacuum", FROZEN),
        ("2027-01-03T02:00:00Z", "booking", "MNT-2026-0100@20261227T0300Z Weekly vacuum",
         f"planned-outage on database (runbooks/weekly.yml:7); moved from "
         f"2026-12-27T03:00:00Z: {MOVED}")]
    calendar = icalendar.Calendar.from_ical(ics.read_bytes())
    found = {str(e["SUMMARY"]): e for e in calendar.walk("VEVENT")}
    skipped = found["Skipped: MNT-2026-0100@20261220T0300Z Weekly vacuum"]
    assert (str(skipped["STATUS"]), str(skipped["DESCRIPTION"])) == ("CANCELLED", FROZEN)
    moved = found["Maintenance: MNT-2026-0100@20261227T0300Z Weekly vacuum"]
    assert (str(moved["STATUS"]), moved["DTSTART"].dt) == ("CONFIRMED", utc(2027, 1, 3, 2))


def test_check_says_where_it_stopped_judging(repo: Path, capsys: Capture) -> None:
    (repo / "hourly.yml").write_text(series_text("MNT-2026-0100", "FREQ=HOURLY",
                                                 type="zero-downtime"))
    assert run_check([Path("hourly.yml")], None, NOW, "json", None, timedelta(days=365)) == 0
    found = {d["code"]: d for d in json.loads(capsys.readouterr().out)}
    assert (found["recurrence-limit"]["severity"], found["recurrence-limit"]["message"]) == (
        "warning", "more than 5,000 occurrences in the next 365d: judged up to "
                   "2027-04-27T07:00:00Z")  # 10-01 00:00 + 4,999 hours


def test_check_finds_a_series_that_overlaps_itself(repo: Path, capsys: Capture) -> None:
    (repo / "hourly.yml").write_text(series_text("MNT-2026-0100", "FREQ=HOURLY", duration="2h",
                                                 type="zero-downtime"))
    assert run_check([Path("hourly.yml")], None, NOW, "json", None, timedelta(hours=3)) == 1
    (found,) = json.loads(capsys.readouterr().out)
    assert (found["line"], found["code"], found["message"]) == (
        8, "overlap-series", "window.duration 2h is longer than the time between two "
        "occurrences: MNT-2026-0100@20261001T0000Z ends at 2026-10-01T02:00:00Z, after "
        "MNT-2026-0100@20261001T0100Z starts")


def test_check_horizon_on_the_command_line(repo: Path) -> None:
    (repo / "weekly.yml").write_text(series_text("MNT-2026-0100"))
    runner = CliRunner()
    args = ["check", "weekly.yml", "--now", "2026-10-01T00:00:00Z", "--format", "github"]
    near = runner.invoke(main, [*args, "--horizon", "14d"], catch_exceptions=False)
    assert (near.exit_code, near.output) == (0, "")
    far = runner.invoke(main, [*args, "--horizon", "60d"], catch_exceptions=False)
    assert (far.exit_code, far.output) == (0, (
        "::warning file=weekly.yml,line=10,col=10,title=blackout-skipped::1 of 9 occurrences of "
        "the next 60d is skipped: MNT-2026-0100@20261129T0300Z (window 2026-11-29T03:00Z–04:00Z "
        'overlaps blackout "thanksgiving week" (2026-11-26T00:00Z–2026-12-01T00:00Z); no '
        "compliant slot before the next occurrence (2026-12-06T03:00:00Z))\n"))
    bad = runner.invoke(main, [*args, "--horizon", "soon"], catch_exceptions=False)
    assert bad.exit_code == 2 and "'soon' is not a duration like 90m" in bad.output
