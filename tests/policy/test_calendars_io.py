"""External calendars: ICS files, ICS over HTTP, and a real Radicale CalDAV server."""

from __future__ import annotations

import http.server
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from policy_support import runbook_text, utc, write_repo
from services import free_port, wait_http

from maintbook.calendars_io import CalendarError, caldav_events, calendar_events, ics_events
from maintbook.commands.check import run_check

HEAD = "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//test//EN\n"
EVENTS = ["""BEGIN:VEVENT
UID:freeze-1@test
DTSTAMP:20261101T000000Z
DTSTART:20261108T013000Z
DTEND:20261108T023000Z
SUMMARY:Deploy freeze
END:VEVENT
""", """BEGIN:VEVENT
UID:weekly@test
DTSTAMP:20261101T000000Z
DTSTART;TZID=Europe/Berlin:20261102T090000
DURATION:PT1H
RRULE:FREQ=WEEKLY;COUNT=3
SUMMARY:Standup
END:VEVENT
""", """BEGIN:VEVENT
UID:allday@test
DTSTAMP:20261101T000000Z
DTSTART;VALUE=DATE:20261111
SUMMARY:Company day
END:VEVENT
"""]
ICS = HEAD + "".join(EVENTS) + "END:VCALENDAR\n"


def test_ics_file_expands_recurrences_and_all_day_events(tmp_path: Path) -> None:
    (tmp_path / "freeze.ics").write_text(ICS)
    found = ics_events("freeze.ics", "team", utc(2026, 11, 1), utc(2026, 12, 1), root=tmp_path)
    assert [(e.name, e.start, e.end, e.source) for e in found] == [
        ("Standup", utc(2026, 11, 2, 8), utc(2026, 11, 2, 9), "team"),
        ("Deploy freeze", utc(2026, 11, 8, 1, 30), utc(2026, 11, 8, 2, 30), "team"),
        ("Standup", utc(2026, 11, 9, 8), utc(2026, 11, 9, 9), "team"),
        ("Company day", utc(2026, 11, 11), utc(2026, 11, 12), "team"),
        ("Standup", utc(2026, 11, 16, 8), utc(2026, 11, 16, 9), "team"),
    ]


def test_ics_range_is_respected(tmp_path: Path) -> None:
    (tmp_path / "f.ics").write_text(ICS)
    found = ics_events("f.ics", "t", utc(2026, 11, 8), utc(2026, 11, 9), root=tmp_path)
    assert [e.name for e in found] == ["Deploy freeze"]


def test_missing_and_invalid_ics_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(CalendarError, match=r"calendar team: cannot read .*nope.ics"):
        ics_events("nope.ics", "team", utc(2026, 1, 1), utc(2026, 2, 1), root=tmp_path)
    (tmp_path / "bad.ics").write_text("this is not a calendar")
    with pytest.raises(CalendarError, match="calendar team: not a valid iCalendar file"):
        ics_events("bad.ics", "team", utc(2026, 1, 1), utc(2026, 2, 1), root=tmp_path)


@pytest.fixture
def http_folder(tmp_path: Path) -> Iterator[str]:
    handler = lambda *a: http.server.SimpleHTTPRequestHandler(  # noqa: E731
        *a, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_ics_over_http(tmp_path: Path, http_folder: str) -> None:
    (tmp_path / "f.ics").write_text(ICS)
    found = ics_events(f"{http_folder}/f.ics", "web", utc(2026, 11, 8), utc(2026, 11, 9),
                       root=tmp_path)
    assert [e.name for e in found] == ["Deploy freeze"]
    with pytest.raises(CalendarError, match=r"calendar web: GET .*/missing.ics answered HTTP 404"):
        ics_events(f"{http_folder}/missing.ics", "web", utc(2026, 11, 8), utc(2026, 11, 9),
                   root=tmp_path)


def test_unreachable_url_is_a_clear_error(tmp_path: Path) -> None:
    port = free_port()
    with pytest.raises(CalendarError, match="calendar x: cannot fetch"):
        ics_events(f"http://127.0.0.1:{port}/f.ics", "x", utc(2026, 1, 1), utc(2026, 2, 1),
                   root=tmp_path)


@pytest.fixture(scope="module")
def radicale(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Radicale on a free loopback port (no auth); yields its base URL."""
    folder = tmp_path_factory.mktemp("radicale")
    port = free_port()
    config = folder / "config"
    config.write_text(f"[server]\nhosts = 127.0.0.1:{port}\n[auth]\ntype = none\n"
                      f"[storage]\nfilesystem_folder = {folder / 'collections'}\n"
                      "[logging]\nlevel = warning\n")
    log = (folder / "radicale.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "radicale", "--config", str(config)],
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_http(f"http://127.0.0.1:{port}/.web/", timeout=20)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.kill()
        proc.wait(timeout=10)
        log.close()


def _put_events(base: str, collection: str) -> str:
    """A new calendar collection holding EVENTS (one resource each); returns its URL."""
    import caldav

    url = f"{base}/sre/{collection}/"
    client_class: Any = caldav.DAVClient
    client = client_class(url=base, username="sre", password="secret")
    calendar = client.principal().make_calendar(name=collection, cal_id=collection)
    for event in EVENTS:
        calendar.save_event(HEAD + event + "END:VCALENDAR\n")
    return url


def test_caldav_events(radicale: str) -> None:
    url = _put_events(radicale, "oncall")
    settings = {"url": url, "username": "sre", "password_env": "CALDAV_PASSWORD"}
    found = caldav_events(settings, "oncall", utc(2026, 11, 8), utc(2026, 11, 10),
                          environ={"CALDAV_PASSWORD": "secret"})
    assert [(e.name, e.start, e.source) for e in found] == [
        ("Deploy freeze", utc(2026, 11, 8, 1, 30), "oncall"),
        ("Standup", utc(2026, 11, 9, 8), "oncall")]


def test_caldav_missing_password_variable(radicale: str) -> None:
    settings = {"url": f"{radicale}/sre/x/", "password_env": "NOT_SET_ANYWHERE"}
    with pytest.raises(CalendarError, match="NOT_SET_ANYWHERE .* is not set"):
        caldav_events(settings, "x", utc(2026, 1, 1), utc(2026, 2, 1), environ={})


def test_caldav_unreachable_server_is_a_clear_error() -> None:
    url = f"http://127.0.0.1:{free_port()}/sre/oncall/"
    with pytest.raises(CalendarError, match=r"calendar oncall: CalDAV http://127.0.0.1:\d+"):
        calendar_events([{"name": "oncall", "caldav": {"url": url}}], utc(2026, 1, 1),
                        utc(2026, 2, 1), root=Path.cwd(), environ={})


def test_caldav_event_blocks_an_overlapping_runbook(
        radicale: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    url = _put_events(radicale, "freeze")
    repo = write_repo(tmp_path, calendars=f"""calendars:
  - {{name: freeze, caldav: {{url: "{url}", username: sre, password_env: CALDAV_PASSWORD}}}}
""")
    monkeypatch.chdir(repo)
    monkeypatch.setenv("CALDAV_PASSWORD", "secret")
    code = run_check([Path("mine.yml")], Path("maintbook.yml"), utc(2026, 10, 1), "json", None)
    found = json.loads(capsys.readouterr().out)
    assert code == 1
    assert [(d["line"], d["code"], d["message"]) for d in found] == [
        (8, "calendar", 'window 2026-11-08T02:00Z–03:00Z overlaps the event "Deploy freeze" '
                        "(2026-11-08T01:30Z–02:30Z) of calendar freeze")]
    later = runbook_text("MNT-2026-0041", "2026-11-15T02:00:00Z")
    (repo / "later.yml").write_text(later)
    assert run_check([Path("later.yml")], Path("maintbook.yml"), utc(2026, 10, 1), "json",
                     None) == 0
