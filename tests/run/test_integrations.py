"""Whole runs against real services: Alertmanager, SMTP, Slack and webhook receivers,
and the contract-checking Statuspage server; and no secret left behind in any file."""

from __future__ import annotations

import json
import os
import urllib.request
from datetime import datetime
from pathlib import Path

import pytest

from tests.run.conftest import REPO
from tests.support.services import alertmanager, smtp_server
from tests.support.slack_receiver import slack_receiver
from tests.support.statuspage_server import statuspage_server

pytestmark = pytest.mark.integration
CONTRACT = REPO / "tests" / "fixtures" / "statuspage-openapi.json"
# A type whose notices list start and complete (zero-downtime's do not).
STARTS = {"type": "brief-interruption",
          "approvals": [{"role": "engineering-manager", "by": "dana"}]}


def silences(url: str) -> list[dict]:
    with urllib.request.urlopen(f"{url}/api/v2/silences", timeout=10) as response:
        return json.loads(response.read())


@pytest.mark.parametrize("fails", [False, True], ids=["succeeded", "step-failed"])
def test_a_run_silences_alerts_for_its_window_and_expires_the_silence(
    project, maintbook, tmp_path, fails
):
    with alertmanager(tmp_path / "am") as url:
        project.configure(f'alertmanager: {{url: "{url}"}}\n')
        steps = [{"name": "Check the silence is active", "command": f"test -d {project.marks}"}]
        if fails:
            steps.append({"name": "Fail on purpose", "command": "false"})
        path = project.runbook(
            silence={"matchers": ['service="postgres"', 'env=~"prod|staging"']}, steps=steps
        )
        result = maintbook("run", str(path))
        assert result.exit_code == (1 if fails else 0), result.output
        (silence,) = silences(url)
        assert "maintbook:MNT-2026-0101" in silence["comment"]
        assert silence["status"]["state"] == "expired"
        assert {(m["name"], m["value"], m["isRegex"]) for m in silence["matchers"]} == {
            ("service", "postgres", False),
            ("env", "prod|staging", True),
        }


def test_the_silence_covers_fifteen_minutes_either_side_and_follows_an_extension(
        project, maintbook, tmp_path):
    import subprocess
    import sys
    import time
    from datetime import UTC, datetime, timedelta

    from tests.run.conftest import iso

    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=2)
    with alertmanager(tmp_path / "am") as url:
        project.configure(f'alertmanager: {{url: "{url}"}}\n')
        path = project.runbook(
            window={"start": iso(start), "duration": "1h"},
            silence={"matchers": ['service="postgres"']},
            steps=[{"name": "Wait for the extension",
                    "shell": f"touch {project.marks}/waiting; "
                             f"while [ ! -f {project.marks}/go ]; do sleep 0.2; done"}])
        process = subprocess.Popen([str(Path(sys.executable).parent / "maintbook"), "run",
                                    str(path)], cwd=project.root, text=True,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            while not (project.marks / "waiting").exists():
                assert process.poll() is None, process.communicate()[0]
                time.sleep(0.2)
            (active,) = silences(url)
            # 15 minutes before the window lies in the past: Alertmanager starts it at once
            # (tests/modules shows a future window's silence starting 15 minutes early).
            assert active["status"]["state"] == "active"
            assert parse(active["endsAt"]) == start + timedelta(hours=1, minutes=15)
            extended = maintbook("extend", str(path), "--by", "30m", "--reason", "slow disks")
            assert extended.exit_code == 0, extended.output
            current = [s for s in silences(url) if s["status"]["state"] == "active"]
            assert len(current) == 1
            assert parse(current[0]["endsAt"]) == start + timedelta(hours=1, minutes=45)
            (project.marks / "go").touch()
            output, _ = process.communicate(timeout=120)
            assert process.returncode == 0, output
        finally:
            if process.poll() is None:
                process.kill()
        assert all(s["status"]["state"] == "expired" for s in silences(url))


def parse(text: str) -> datetime:
    from datetime import datetime

    return datetime.fromisoformat(text.replace("Z", "+00:00")).replace(microsecond=0)


def test_notices_reach_smtp_slack_and_a_webhook_and_no_secret_is_left_behind(
    project, maintbook, tmp_path, monkeypatch
):
    password, secret = "smtp-pass-5f1e9c", "hmac-secret-77ad21"
    (tmp_path / "smtp").mkdir()
    with (
        smtp_server(tmp_path / "smtp", "maint", password) as box,
        slack_receiver() as (slack_url, received),
    ):
        webhook = f"{slack_url}/services/T0001/B0001/slackwebhook9c0ffee"
        hook = f"{slack_url}/hook/audit-token-3b7e"
        monkeypatch.setenv("SLACK_WEBHOOK_URL", webhook)
        monkeypatch.setenv("AUDIT_WEBHOOK_URL", hook)
        monkeypatch.setenv("AUDIT_SECRET", secret)
        monkeypatch.setenv("SMTP_PASSWORD", password)
        project.configure(f"""\
channels:
  ops-slack: {{type: slack, webhook_env: SLACK_WEBHOOK_URL}}
  audit: {{type: webhook, url_env: AUDIT_WEBHOOK_URL, secret_env: AUDIT_SECRET}}
  customers:
    type: email
    from: maint@example.com
    to: [customers@example.com]
    smtp: {{host: 127.0.0.1, port: {box.port}, starttls: true, username: maint,
           password_env: SMTP_PASSWORD, ca_file: "{box.cert}"}}
""")
        path = project.runbook(notify=["ops-slack", "audit", "customers"], **STARTS)
        result = maintbook("run", str(path), "--force-window", "--reason", "test")
        assert result.exit_code == 0, result.output
    assert [r["json"]["text"][:40] != "" for r in received.posted("/services/")] == [True, True]
    assert len(received.posted("/hook/")) == 2
    subjects = [m["data"].decode() for m in box.messages]
    assert len(subjects) == 2 and all(m["tls"] for m in box.messages)
    assert "Maintenance started" in subjects[0] and "Maintenance completed" in subjects[1]
    leaked = []
    for file in (project.root / ".maintbook").rglob("*"):
        if file.is_file():
            data = file.read_bytes()
            leaked += [
                (str(file), s)
                for s in (
                    password,
                    secret,
                    webhook,
                    hook,
                    "slackwebhook9c0ffee",
                    "audit-token-3b7e",
                )
                if s.encode() in data
            ]
    assert leaked == []
    assert password not in result.output and secret not in result.output


def test_a_run_moves_an_atlassian_statuspage_maintenance(project, maintbook, monkeypatch):
    key, page = "sk-run-0f3e2d1c-SECRET", "pg0000000001"
    components = {"web": "cmpweb000001", "api": "cmpapi000001"}
    with statuspage_server(CONTRACT, key, page, components) as (url, state):
        monkeypatch.setenv("STATUSPAGE_API_KEY", key)
        project.configure(f"""\
statuspage: {{provider: statuspage, page_id: {page}, api_key_env: STATUSPAGE_API_KEY,
             base_url: "{url}"}}
""")
        path = project.runbook(verify=[{"name": "Still fine", "command": "true"}])
        assert maintbook("run", str(path)).exit_code == 0
        again = maintbook("run", str(path))
        assert again.exit_code == 2 and "already succeeded" in again.output
        assert state.violations == []
        (incident,) = state.incidents.values()
        assert incident["status"] == "completed"
        statuses = [u["status"] for u in reversed(incident["incident_updates"])]
        assert statuses == ["in_progress", "verifying", "completed"]  # never announced
        assert {c["name"]: c["status"] for c in state.components.values()}["web"] == "operational"
    for file in (project.root / ".maintbook").rglob("*"):
        if file.is_file():
            assert key.encode() not in file.read_bytes(), file
    assert os.environ["STATUSPAGE_API_KEY"] == key


def test_a_channel_that_refuses_connections_does_not_fail_the_run(project, maintbook):
    project.configure(
        "channels:\n"
        '  audit: {type: webhook, url: "http://127.0.0.1:9/hook", retries: 1, retry_delay: 0.1}\n'
    )
    path = project.runbook(notify=["outbox", "audit"], **STARTS)
    result = maintbook("run", str(path), "--force-window", "--reason", "test")
    assert result.exit_code == 0, result.output
    (record,) = project.records()
    by_channel = {(n["notice"], n["channel"]): n for n in record["notices"]}
    assert by_channel[("start", "audit")]["status"] == "failed"
    assert by_channel[("start", "audit")]["attempts"] == 2
    assert "127.0.0.1:9" in by_channel[("start", "audit")]["error"]
    assert by_channel[("complete", "audit")]["status"] == "failed"
    assert by_channel[("start", "outbox")]["status"] == "sent"
    assert "- start via audit: failed" in (project.run_folder() / "report.md").read_text()
