"""The reviewer's page, part by part: ledger, zones, binary data, tiers and undo, approvals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from review_support import NOW, cli, project

from maintbook.store import Location, Store, ledger, maintenances
from maintbook.timeparse import parse_rfc3339

DB = "db-maintenance.yml"  # the frozen fixture

TIERED = """\
runbook: 1
id: MNT-2027-0100
title: Two tiers
owner: sre-team
type: zero-downtime
systems: [web, database]
window: {start: 2027-01-10T02:00:00Z, duration: 1h}
approvals:
  - {role: team-lead, by: dana}
targets: {hosts: "db:web"}
notify: [outbox]
steps:
  - name: Stop the app
    hosts: web
    command: systemctl stop app
    rollback:
      - name: Start the app
        command: systemctl start app
  - name: Migrate
    hosts: db
    role: maintenance_mode
  - name: Bump the config
    hosts: web
    command: touch /etc/app.conf
    rollback:
      - name: Restore the config
        command: cp /etc/app.conf.bak /etc/app.conf
verify:
  - name: Reload with a secret blob
    module:
      name: ansible.builtin.copy
      args: {dest: /etc/app.key, content: aGVsbG8=, force: true}
rollback:
  - name: Restore everything
    command: /usr/local/bin/restore
"""


def _page(path: Path, *extra: str, fmt: str = "markdown") -> str:
    result = cli("render", str(path), "--now", NOW, "--format", fmt, *extra)
    assert result.exit_code == 0, result.output
    return result.output


def _tiered(tmp_path: Path) -> Path:
    target = project(tmp_path) / "runbooks" / "tiered.yml"
    target.write_text(TIERED)
    return target


def test_targets_per_tier_and_what_rolls_back_per_step(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    _tiered(tmp_path)
    page = _page(Path("runbooks/tiered.yml"))
    assert ("| `db:web` (all targets) | verify 1, rollback 1 |\n"
            "| `web` | steps 1, steps 1 rollback 1, steps 3, steps 3 rollback 1 |\n"
            "| `db` | steps 2 |\n") in page
    assert (
        "| precheck | — | no: nothing has changed yet (no_go) |\n"
        "| steps 1 'Stop the app' | 'Start the app' (step 1) | no: every step that ran has its "
        "own rollback |\n"
        "| steps 2 'Migrate' | 'Start the app' (step 1) | yes: step 2 failed and has no rollback "
        "of its own |\n"
        "| steps 3 'Bump the config' | 'Restore the config' (step 3); 'Start the app' (step 1) | "
        "yes: step 2 is a role without a rollback of its own (a role counts as changed once it "
        "ran) |\n"
        "| verify | 'Restore the config' (step 3); 'Start the app' (step 1) | yes: step 2 is a "
        "role without a rollback of its own (a role counts as changed once it ran) |\n") in page


def test_arguments_are_yaml_and_json_is_serialisable(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each step's arguments are written back as YAML in the page, as data in JSON."""
    monkeypatch.chdir(tmp_path)
    _tiered(tmp_path)
    page = _page(Path("runbooks/tiered.yml"))
    assert ("1. **Reload with a secret blob**\n"
            "   ```yaml\n"
            "   module:\n"
            "     name: ansible.builtin.copy\n"
            "     args:\n"
            "       dest: /etc/app.key\n"
            "       content: aGVsbG8=\n"
            "       force: true\n"
            "   ```\n") in page
    assert ("1. **Stop the app**\n   ```yaml\n   hosts: web\n   command: systemctl stop app\n"
            "   ```\n   Own rollback (if this step ran and something fails):\n"
            "   1. **Start the app**\n      ```yaml\n      command: systemctl start app\n"
            "      ```\n") in page
    data = json.loads(_page(Path("runbooks/tiered.yml"), fmt="json"))
    args = data["phases"]["verify"][0]["arguments"]["module"]["args"]
    assert args == {"dest": "/etc/app.key", "content": "aGVsbG8=", "force": True}


@pytest.mark.parametrize("fmt", ["markdown", "json"])
def test_binary_data_is_a_diagnostic_not_a_page(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                fmt: str) -> None:
    """The loader refuses `!!binary` (a runbook holds text): render says where, exit 1."""
    monkeypatch.chdir(tmp_path)
    target = _tiered(tmp_path)
    target.write_text(TIERED.replace("content: aGVsbG8=", "content: !!binary aGVsbG8="))
    result = cli("render", "runbooks/tiered.yml", "--now", NOW, "--format", fmt)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith("runbooks/tiered.yml:32:43: error yaml-value the tag "
                                    "!!binary is not supported")
    assert "Traceback" not in result.output


def test_times_in_every_zone_of_the_status_page(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    root = project(tmp_path, DB)
    (root / "maintbook.yml").write_text(
        "statuspage: {provider: file, zones: [UTC, America/New_York, Asia/Tokyo]}\n")
    monkeypatch.chdir(root)
    page = _page(Path("runbooks") / DB)
    assert ("| UTC | Sun 7 Feb 2027, 02:00 – 04:00 UTC |\n"
            "| America/New_York | Sat 6 Feb 2027, 21:00 – 23:00 EST |\n"
            "| Asia/Tokyo | Sun 7 Feb 2027, 11:00 – 13:00 JST |\n") in page


def _entry(kind: str, key: str, at: str, run_id: str | None = None) -> ledger.Entry:
    return ledger.Entry("MNT-2027-0300", "MNT-2027-0300", kind, "outbox", run_id, key, "sent",
                        1, None, at, None, False)


def test_notices_that_went_out_come_from_the_ledger_read_only(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = project(tmp_path, DB)
    monkeypatch.chdir(root)
    state = root / ".maintbook" / "state.db"
    store = Store.open(Location(path=state))
    with store.write() as tx:
        window = (parse_rfc3339("2027-02-07T02:00:00Z"), parse_rfc3339("2027-02-07T04:00:00Z"))
        maintenances.ensure(tx, "MNT-2027-0300", "MNT-2027-0300", None, window,
                            parse_rfc3339("2027-01-31T02:00:00Z"))
        maintenances.mark_announced(tx, "MNT-2027-0300", parse_rfc3339("2027-01-31T02:05:00Z"))
        ledger.record(tx, _entry("announce", "announce", "2027-01-31T02:05:00Z"))
        ledger.record(tx, _entry("reminder", "reminder:-3d", "2027-02-04T02:01:00Z"))
        ledger.record(tx, _entry("rescheduled", "rescheduled:x", "2027-02-05T00:00:00Z"))
    store.close()
    before = state.read_bytes()
    result = cli("render", f"runbooks/{DB}", "--now", "2027-02-06T12:00:00Z")
    assert result.exit_code == 0, result.output
    assert (
        "| -7d | announce | 2027-01-31T02:00:00Z | sent | outbox at 2027-01-31T02:05:00Z |\n"
        "| -3d | reminder | 2027-02-04T02:00:00Z | sent | outbox at 2027-02-04T02:01:00Z |\n"
        "| -24h | reminder | 2027-02-06T02:00:00Z | due, not sent | — |\n"
        "| start | start | 2027-02-07T02:00:00Z | upcoming | — |\n") in result.output
    assert "State in the database: **announced**." in result.output
    assert "Also sent: rescheduled to outbox at 2027-02-05T00:00:00Z." in result.output
    assert "Ledger: read from .maintbook/state.db." in result.output
    assert state.read_bytes() == before


def test_render_never_creates_the_state_database(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    root = project(tmp_path, DB)
    monkeypatch.chdir(root)
    page = _page(Path("runbooks") / DB)
    assert "Ledger: no state database at .maintbook/state.db yet: nothing has been sent." in page
    assert not (root / ".maintbook").exists()


def test_a_stale_approval_and_the_conflicts_it_causes(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    root = project(tmp_path, DB)
    monkeypatch.chdir(root)
    target = Path("runbooks") / DB
    assert cli("approve", str(target), "--role", "vp-engineering", "--by", "bob",
               "--at", "2026-11-19T09:00:00Z").exit_code == 0
    target.write_text(target.read_text().replace("2027-02-07T02:00:00Z", "2027-02-14T02:00:00Z"))
    page = _page(target)
    assert "- Required: vp-engineering — **missing**\n" in page
    assert ("| vp-engineering | bob | 2026-11-19T09:00:00Z | yes | **no** | stale: the "
            "vp-engineering approval by bob was given for other content: window moved |") in page
    assert ("- **error** `approval-missing` (line 20): type planned-outage needs an approval "
            "by role vp-engineering; none is given for this content") in page
    data = json.loads(_page(target, fmt="json"))
    assert [g["status"] for g in data["approvals"]["given"]] == ["not bound", "stale"]


def test_a_recurring_runbook_shows_its_next_occurrence(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(project(tmp_path))
    text = TIERED.replace("window: {start: 2027-01-10T02:00:00Z, duration: 1h}",
                          "window: {duration: 1h}\nrecurrence: {rrule: FREQ=WEEKLY;BYDAY=SU, "
                          "start: '03:00'}")
    Path("runbooks/weekly.yml").write_text(text)
    page = _page(Path("runbooks/weekly.yml"))
    assert ("| Window (UTC) | 2026-11-22T03:00:00Z to 2026-11-22T04:00:00Z (1h) |\n") in page
    assert ("| Recurrence | FREQ=WEEKLY;BYDAY=SU at 03:00 UTC (run: manual, on conflict: "
            "next-slot) |\n| Occurrence shown | MNT-2027-0100@20261122T0300Z |\n") in page
    # the series engine's next occurrences: planned, moved out of a blackout, skipped
    assert ("| MNT-2027-0100@20261129T0300Z | 2026-11-29T03:00:00Z | 2026-12-01T00:00:00Z to "
            "2026-12-01T01:00:00Z | moved | window 2026-11-29T03:00Z–04:00Z overlaps blackout "
            '"thanksgiving week"') in page
    assert "| MNT-2027-0100@20261220T0300Z | 2026-12-20T03:00:00Z | — | skipped |" in page
    data = json.loads(_page(Path("runbooks/weekly.yml"), fmt="json"))
    assert data["maintenance"] == "MNT-2027-0100@20261122T0300Z"
    assert [(o["occurrence"][-14:], o["status"]) for o in data["when"]["series"]] == [
        ("20261122T0300Z", "planned"), ("20261129T0300Z", "moved"),
        ("20261206T0300Z", "planned"), ("20261213T0300Z", "planned"),
        ("20261220T0300Z", "skipped")]


def test_a_recurring_runbook_between_occurrences_shows_the_open_one(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """While an occurrence's run window is open (from 15 minutes before it), it is shown."""
    monkeypatch.chdir(project(tmp_path))
    text = TIERED.replace("window: {start: 2027-01-10T02:00:00Z, duration: 1h}",
                          "window: {duration: 1h}\nrecurrence: {rrule: FREQ=WEEKLY;BYDAY=SU, "
                          "start: '03:00'}")
    Path("runbooks/weekly.yml").write_text(text)
    result = cli("render", "runbooks/weekly.yml", "--now", "2026-11-22T03:30:00Z",
                 "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["maintenance"] == "MNT-2027-0100@20261122T0300Z"
    assert data["when"]["series"][0]["occurrence"] == "MNT-2027-0100@20261129T0300Z"


def test_an_invalid_runbook_prints_its_diagnostics(tmp_path: Path) -> None:
    target = project(tmp_path) / "runbooks" / "bad.yml"
    target.write_text(TIERED.replace("type: zero-downtime", "type: sometimes"))
    result = cli("render", str(target), "--now", NOW)
    assert result.exit_code == 1
    assert "schema-enum type is 'sometimes'" in result.output
