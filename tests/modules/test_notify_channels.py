"""maintenance_notify: slack, webhook and email channels against real local receivers."""

from __future__ import annotations

import email
import email.policy
import hashlib
import hmac
import json
import sqlite3
from collections.abc import Iterator
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import RunPlay
from services import Mailbox, free_port, smtp_server
from slack_receiver import Received, slack_receiver

TOKEN = "xoxb-secret-token-4242"
HOOK_SECRET = "whsec-very-secret-77"
SMTP_PASSWORD = "smtp-pass-secret-99"


@pytest.fixture
def slack() -> Iterator[tuple[str, Received]]:
    with slack_receiver(TOKEN) as served:
        yield served


def runbook() -> dict[str, Any]:
    return {
        "id": "MNT-2026-0042",
        "title": "Monthly PostgreSQL <maintenance> & more",
        "type": "planned-outage",
        "owner": "sre-team",
        "systems": ["database"],
        "window_start": "2026-12-06T02:00:00Z",
        "window_end": "2026-12-06T04:00:00Z",
    }


def notify(
    tmp_path: Path, notice: str, channel: str, config: dict[str, Any], **extra: Any
) -> dict[str, Any]:
    return {
        "notice": notice,
        "channel": channel,
        "channel_config": config,
        "runbook": runbook(),
        "run_id": "run-1",
        "state_db": str(tmp_path / "state.db"),
        "retry_delay": 0,
        **extra,
    }


def ledger(tmp_path: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(tmp_path / "state.db") as db:
        return db.execute(
            "SELECT notice, channel, status, attempts, error, thread_ts FROM notices ORDER BY rowid"
        ).fetchall()


def test_slack_incoming_webhook(
    run_play: RunPlay, tmp_path: Path, slack: tuple[str, Received]
) -> None:
    url, box = slack
    config = {"type": "slack", "webhook_env": "TEST_SLACK_WEBHOOK"}
    env = {"TEST_SLACK_WEBHOOK": f"{url}/services/T000/B000/XXXX"}
    results = run_play(
        [
            ("maintenance_notify", notify(tmp_path, "start", "ops", config)),
            ("maintenance_notify", notify(tmp_path, "start", "ops", config)),
        ],
        env=env,
    )
    assert [r["changed"] for r in results] == [True, False]
    (posted,) = box.posted("/services/T000/B000/XXXX")
    assert set(posted["json"]) == {"text", "blocks"}
    assert posted["json"]["text"].startswith(
        "[Maintenance started] Monthly PostgreSQL &lt;maintenance&gt; &amp; more\n"
    )
    assert posted["json"]["blocks"][0]["text"]["text"] == results[0]["subject"]
    assert "/services/" not in json.dumps(results)


def test_slack_token_threads_replies_under_start(
    run_play: RunPlay, tmp_path: Path, slack: tuple[str, Received]
) -> None:
    url, box = slack
    config = {
        "type": "slack",
        "token_env": "TEST_SLACK_TOKEN",
        "channel_id": "C0123",
        "api_url": f"{url}/api",
    }
    tasks = [
        ("maintenance_notify", notify(tmp_path, "start", "ops", config)),
        ("maintenance_notify", notify(tmp_path, "progress", "ops", config, message="step 1 of 2")),
        ("maintenance_notify", notify(tmp_path, "complete", "ops", config, outcome="succeeded")),
    ]
    results = run_play(tasks, env={"TEST_SLACK_TOKEN": TOKEN})
    start, progress, complete = box.posted("/api/chat.postMessage")
    assert "thread_ts" not in start["json"]
    assert progress["json"]["thread_ts"] == start["ts"]
    assert complete["json"]["thread_ts"] == start["ts"]
    assert {r["json"]["channel"] for r in (start, progress, complete)} == {"C0123"}
    assert [r["thread_ts"] for r in results] == [start["ts"]] * 3
    assert [row[5] for row in ledger(tmp_path)] == [start["ts"]] * 3
    assert TOKEN not in json.dumps(results)


def test_refused_endpoint_not_required_is_ok(run_play: RunPlay, tmp_path: Path) -> None:
    config = {"type": "slack", "webhook_env": "TEST_SLACK_WEBHOOK"}
    env = {"TEST_SLACK_WEBHOOK": f"http://127.0.0.1:{free_port()}/services/T/B/X"}
    (result,) = run_play(
        [("maintenance_notify", notify(tmp_path, "start", "ops", config, retries=2))], env=env
    )
    assert result.get("failed", False) is False
    assert result["delivered"] is False
    assert result["changed"] is False
    assert result["attempts"] == 3
    assert any(
        "Slack incoming webhook ($TEST_SLACK_WEBHOOK) POST answered -1" in w
        for w in result["warnings"]
    )
    ((notice, channel, status, attempts, error, _),) = ledger(tmp_path)
    assert (notice, channel, status, attempts) == ("start", "ops", "failed", 3)
    assert "127.0.0.1" not in error and "answered -1" in error


def test_refused_endpoint_required_fails(run_play: RunPlay, tmp_path: Path) -> None:
    config = {"type": "webhook", "url_env": "TEST_HOOK", "required": True}
    env = {"TEST_HOOK": f"http://127.0.0.1:{free_port()}/hook"}
    (result,) = run_play(
        [("maintenance_notify", notify(tmp_path, "start", "audit", config, retries=0))], env=env
    )
    assert result["failed"] is True
    assert "webhook ($TEST_HOOK) POST answered -1" in result["msg"]
    assert [row[2] for row in ledger(tmp_path)] == ["failed"]


def test_missing_secret_variable_is_reported(run_play: RunPlay, tmp_path: Path) -> None:
    config = {"type": "webhook", "url_env": "TEST_HOOK_UNSET", "required": True}
    (result,) = run_play([("maintenance_notify", notify(tmp_path, "start", "audit", config))])
    assert result["failed"] is True
    assert "environment variable TEST_HOOK_UNSET (url_env) is not set" in result["msg"]


def test_webhook_is_signed(run_play: RunPlay, tmp_path: Path, slack: tuple[str, Received]) -> None:
    url, box = slack
    config = {"type": "webhook", "url_env": "TEST_HOOK", "secret_env": "TEST_HOOK_SECRET"}
    env = {"TEST_HOOK": f"{url}/hook/audit", "TEST_HOOK_SECRET": HOOK_SECRET}
    (result,) = run_play(
        [
            (
                "maintenance_notify",
                notify(tmp_path, "rollback", "audit", config, message="step 2 failed"),
            )
        ],
        env=env,
    )
    assert result["delivered"] is True
    (posted,) = box.posted("/hook/audit")
    expected = hmac.new(HOOK_SECRET.encode(), posted["raw"], hashlib.sha256).hexdigest()
    assert posted["headers"]["X-Maintbook-Signature"] == f"sha256={expected}"
    assert posted["json"]["notice"] == "rollback"
    assert posted["json"]["runbook"] == "MNT-2026-0042"
    assert "step 2 failed" in posted["json"]["body"]
    assert HOOK_SECRET not in json.dumps(result)


@pytest.fixture
def mailbox(tmp_path: Path) -> Iterator[Mailbox]:
    with smtp_server(tmp_path, "maint", SMTP_PASSWORD) as box:
        yield box


def test_email_starttls_auth(run_play: RunPlay, tmp_path: Path, mailbox: Mailbox) -> None:
    config = {
        "type": "email",
        "from": "maint@example.com",
        "to": ["customers@example.com", "ops@example.com"],
        "smtp": {
            "host": mailbox.host,
            "port": mailbox.port,
            "starttls": True,
            "username": "maint",
            "password_env": "TEST_SMTP_PASSWORD",
            "ca_file": str(mailbox.cert),
        },
    }
    results = run_play(
        [
            ("maintenance_notify", notify(tmp_path, "start", "mail", config)),
            (
                "maintenance_notify",
                notify(tmp_path, "complete", "mail", config, outcome="succeeded"),
            ),
        ],
        env={"TEST_SMTP_PASSWORD": SMTP_PASSWORD},
    )
    assert [r["delivered"] for r in results] == [True, True]
    assert mailbox.logins == ["maint", "maint"]
    assert [m["tls"] for m in mailbox.messages] == [True, True]
    start, complete = (
        email.message_from_bytes(m["data"], policy=email.policy.default) for m in mailbox.messages
    )
    assert mailbox.messages[0]["to"] == ["customers@example.com", "ops@example.com"]
    assert start["Subject"] == "[Maintenance started] Monthly PostgreSQL <maintenance> & more"
    assert complete["Subject"] == "[Maintenance completed] Monthly PostgreSQL <maintenance> & more"
    assert start["From"] == "maint@example.com"
    assert parsedate_to_datetime(start["Date"]).tzinfo is not None
    assert start["Message-ID"].endswith("@example.com>")
    assert start["Message-ID"] != complete["Message-ID"]
    assert start.get_content_type() == "multipart/alternative"
    plain = start.get_body(preferencelist=("plain",)).get_content()
    html = start.get_body(preferencelist=("html",)).get_content()
    assert "Monthly PostgreSQL <maintenance> & more (MNT-2026-0042)" in plain
    assert "Monthly PostgreSQL &lt;maintenance&gt; &amp; more" in html
    assert SMTP_PASSWORD not in json.dumps(results)


def test_email_wrong_password_names_server_and_code(
    run_play: RunPlay, tmp_path: Path, mailbox: Mailbox
) -> None:
    config = {
        "type": "email",
        "from": "maint@example.com",
        "to": ["ops@example.com"],
        "required": True,
        "smtp": {
            "host": mailbox.host,
            "port": mailbox.port,
            "starttls": True,
            "username": "maint",
            "password_env": "TEST_SMTP_PASSWORD",
            "ca_file": str(mailbox.cert),
        },
    }
    (result,) = run_play(
        [("maintenance_notify", notify(tmp_path, "start", "mail", config, retries=0))],
        env={"TEST_SMTP_PASSWORD": "wrong-password"},
    )
    assert result["failed"] is True
    assert f"SMTP {mailbox.host}:{mailbox.port} answered 535" in result["msg"]
    assert mailbox.messages == []
