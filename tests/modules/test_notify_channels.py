"""maintenance_notify's channels (SPEC §6, §9, §13) against real local servers: the outbox
file, a Slack stand-in (incoming webhook and Web API), aiosmtpd with STARTTLS and AUTH, and a
webhook receiver that verifies the HMAC signature. Retries, required channels, filters."""

from __future__ import annotations

import email
import email.policy
import json
import re
from collections.abc import Iterator
from contextlib import ExitStack
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import pytest

from maintbook import notify
from maintbook.notify.render import Story
from maintbook.store import Store
from tests.modules.conftest import NOW, RUNBOOK_ID, ModProject
from tests.support.hook_receiver import Hook, hook_receiver
from tests.support.services import Mailbox, free_port, smtp_server
from tests.support.slack_receiver import Received, slack_receiver

TOKEN = "xoxb-secret-token-4242"
SMTP_USER, SMTP_PASSWORD = "maint", "smtp-pass-secret-99"
HOOK_SECRET = "whsec-very-secret-77"
SUBJECT = "[Maintenance started] Monthly PostgreSQL maintenance"


class Sleeps(list[float]):
    """An injected `sleep` that records each backoff instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def slack() -> Iterator[tuple[str, Received]]:
    with slack_receiver(TOKEN) as served:
        yield served


@pytest.fixture
def mailbox(tmp_path: Path) -> Iterator[Mailbox]:
    (tmp_path / "smtp").mkdir()
    with smtp_server(tmp_path / "smtp", SMTP_USER, SMTP_PASSWORD) as box:
        yield box


def delivery(sent: notify.Sent, channel: str) -> notify.Delivery:
    (found,) = [d for d in sent.deliveries if d.channel == channel]
    return found


# ---------------------------------------------------------------- outbox


def test_outbox_line_carries_the_spec_fields(proj: ModProject, store: Store) -> None:
    ctx = proj.context()
    sent = notify.send(store, ctx, "start", run_id="run-1", now=NOW)
    assert delivery(sent, "ops") == notify.Delivery("ops", "sent", 1)
    (line,) = proj.outbox()
    assert {"notice", "runbook", "channel", "subject", "body", "sent_at"} <= set(line)
    assert (line["notice"], line["runbook"], line["channel"], line["sent_at"]) == (
        "start", RUNBOOK_ID, "ops", "2026-12-06T02:05:00Z")
    assert line["subject"] == SUBJECT
    assert line["body"].startswith("The maintenance has started.\n")
    assert line["run_id"] == "run-1"
    (row,) = proj.ledger()
    assert (row["kind"], row["channel"], row["status"], row["attempts"], row["run_id"]) == (
        "start", "ops", "sent", 1, "run-1")


# ---------------------------------------------------------------- slack


def test_slack_incoming_webhook_posts_text_and_blocks(
    proj: ModProject, store: Store, slack: tuple[str, Received], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, box = slack
    monkeypatch.setenv("TEST_SLACK_WEBHOOK", f"{url}/services/T000/B000/hooksecret")
    proj.channel("chat", type="slack", webhook_env="TEST_SLACK_WEBHOOK")
    ctx = proj.context(notify=["chat"], title="Monthly <PostgreSQL> & REINDEX")
    sent = notify.send(store, ctx, "start", run_id="run-1", now=NOW)
    assert delivery(sent, "chat").status == "sent"
    (posted,) = box.posted("/services/T000/B000/hooksecret")
    assert set(posted["json"]) == {"text", "blocks"}
    assert posted["json"]["text"].startswith(
        "[Maintenance started] Monthly &lt;PostgreSQL&gt; &amp; REINDEX\nThe maintenance has "
        "started.")
    header, section = posted["json"]["blocks"]
    assert header["text"] == {"type": "plain_text",
                              "text": "[Maintenance started] Monthly <PostgreSQL> & REINDEX"}
    assert "Owner:       sre-team" in section["text"]["text"]


def test_slack_web_api_threads_every_later_notice_under_the_first(
    proj: ModProject, store: Store, slack: tuple[str, Received], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, box = slack
    monkeypatch.setenv("TEST_SLACK_TOKEN", TOKEN)
    proj.channel("chat", type="slack", token_env="TEST_SLACK_TOKEN", channel_id="C0123",
                 api_url=f"{url}/api")
    ctx = proj.context(notify=["chat"])
    notify.send(store, ctx, "announce", run_id=None, now=NOW)
    notify.send(store, ctx, "start", run_id="run-1", now=NOW)
    notify.send(store, ctx, "progress", run_id="run-1", now=NOW, detail="step 1 of 2",
                story=Story(message="step 1 of 2"))
    notify.send(store, ctx, "complete", run_id="run-1", now=NOW,
                story=Story(outcome="succeeded"))
    first, *later = box.posted("/api/chat.postMessage")
    assert len(later) == 3
    assert "thread_ts" not in first["json"]
    assert [r["json"]["thread_ts"] for r in later] == [first["ts"]] * 3
    assert {r["json"]["channel"] for r in (first, *later)} == {"C0123"}
    assert {r["headers"]["Authorization"] for r in (first, *later)} == {f"Bearer {TOKEN}"}
    assert [(r["kind"], r["thread_ts"]) for r in proj.ledger()] == [
        ("announce", first["ts"]), ("start", first["ts"]), ("progress", first["ts"]),
        ("complete", first["ts"])]


def test_slack_web_api_ok_false_is_a_failed_delivery(
    proj: ModProject, store: Store, slack: tuple[str, Received], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, box = slack
    monkeypatch.setenv("TEST_SLACK_TOKEN", "xoxb-revoked-token-1")
    proj.channel("chat", type="slack", token_env="TEST_SLACK_TOKEN", channel_id="C0123",
                 api_url=f"{url}/api", retries=1, retry_delay=3)
    ctx = proj.context(notify=["chat"])
    sleeps = Sleeps()
    sent = notify.send(store, ctx, "start", run_id="run-1", now=NOW, sleep=sleeps)
    found = delivery(sent, "chat")
    assert (found.status, found.attempts) == ("failed", 2)
    assert found.error == (f"Slack POST {url}/api/chat.postMessage answered 200 with error "
                           "'invalid_auth'")
    assert sleeps == [3.0]
    assert len(box.posted("/api/chat.postMessage")) == 2
    (row,) = proj.ledger()
    assert (row["status"], row["attempts"], row["error"], row["thread_ts"]) == (
        "failed", 2, found.error, None)


def test_slack_web_api_answering_html_is_a_failed_delivery_not_a_crash(
    proj: ModProject, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A proxy's login page instead of the API's JSON: this channel fails, the others go on."""
    monkeypatch.setenv("TEST_SLACK_TOKEN", TOKEN)
    with hook_receiver(reply=b"<html><body>Sign in to continue</body></html>") as (url, hook):
        proj.channel("chat", type="slack", token_env="TEST_SLACK_TOKEN", channel_id="C0123",
                     api_url=f"{url}/api", retries=1, retry_delay=0)
        ctx = proj.context(notify=["chat", "ops"])
        sent = notify.send(store, ctx, "start", run_id="run-1", now=NOW, sleep=Sleeps())
    assert len(hook.requests) == 2
    assert [(d.channel, d.status, d.attempts) for d in sent.deliveries] == [
        ("chat", "failed", 2), ("ops", "sent", 1)]
    assert delivery(sent, "chat").error == (
        f"Slack POST {url}/api/chat.postMessage answered 200 with a body that is not JSON")
    assert [(r["channel"], r["status"]) for r in proj.ledger()] == [
        ("chat", "failed"), ("ops", "sent")]


# ---------------------------------------------------------------- email


def parse(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def email_channel(proj: ModProject, box: Mailbox, **options: Any) -> None:
    smtp = {"host": box.host, "port": box.port, "starttls": True, "username": SMTP_USER,
            "password_env": "TEST_SMTP_PASSWORD", "ca_file": str(box.cert)}
    proj.channel("mail", type="email", smtp={**smtp, **options.pop("smtp", {})},
                 **{"from": "maint@example.com", "to": ["ops@example.com", "dba@example.com"]},
                 **options)


def test_email_over_starttls_with_auth_has_text_html_date_and_message_id(
    proj: ModProject, store: Store, mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_SMTP_PASSWORD", SMTP_PASSWORD)
    email_channel(proj, mailbox)
    ctx = proj.context(notify=["mail", "ops"])
    sent = notify.send(store, ctx, "start", run_id="run-1", now=NOW)
    assert delivery(sent, "mail") == notify.Delivery("mail", "sent", 1)
    (received,) = mailbox.messages
    assert received["tls"] is True
    assert mailbox.logins == [SMTP_USER]
    assert received["from"] == "maint@example.com"
    assert received["to"] == ["ops@example.com", "dba@example.com"]
    message = parse(received["data"])
    assert message["Subject"] == SUBJECT
    assert message["From"] == "maint@example.com"
    assert message["To"] == "ops@example.com, dba@example.com"
    assert parsedate_to_datetime(message["Date"]).tzinfo is not None
    assert re.fullmatch(r"<[^@<>\s]+@example\.com>", message["Message-ID"])
    assert message["X-Maintbook-Maintenance"] == RUNBOOK_ID
    assert message.get_content_type() == "multipart/alternative"
    text, html = message.iter_parts()
    assert text.get_content_type() == "text/plain"
    (line,) = proj.outbox()
    # the same text as every other channel (SMTP carries it with CRLF line ends)
    assert text.get_content().replace("\r\n", "\n") == line["body"]
    assert html.get_content_type() == "text/html"
    assert "<td>sre-team</td>" in html.get_content()


def test_public_email_carries_no_internal_headers(
    proj: ModProject, store: Store, mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_SMTP_PASSWORD", SMTP_PASSWORD)
    email_channel(proj, mailbox, audience="public")
    ctx = proj.context(notify=["mail"])
    notify.send(store, ctx, "start", run_id="run-1", now=NOW)
    message = parse(mailbox.messages[0]["data"])
    assert message["Subject"] == "Maintenance in progress: Monthly PostgreSQL maintenance"
    assert not [k for k in message if k.lower().startswith("x-maintbook")]
    assert RUNBOOK_ID not in mailbox.messages[0]["data"].decode()


def test_email_without_starttls_is_refused_by_the_server(
    proj: ModProject, store: Store, mailbox: Mailbox
) -> None:
    proj.channel("mail", type="email", retries=0,
                 smtp={"host": mailbox.host, "port": mailbox.port},
                 **{"from": "maint@example.com", "to": ["ops@example.com"]})
    ctx = proj.context(notify=["mail"])
    found = delivery(notify.send(store, ctx, "start", run_id="run-1", now=NOW), "mail")
    assert found.status == "failed"
    assert found.error is not None
    assert found.error.startswith(f"SMTP {mailbox.host}:{mailbox.port} answered 530")
    assert mailbox.messages == []


def test_email_wrong_password_fails_without_showing_it(
    proj: ModProject, store: Store, mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_SMTP_PASSWORD", "not-the-password-123")
    email_channel(proj, mailbox, retries=0)
    ctx = proj.context(notify=["mail"])
    found = delivery(notify.send(store, ctx, "start", run_id="run-1", now=NOW), "mail")
    assert found.status == "failed"
    assert found.error is not None
    assert found.error.startswith(f"SMTP {mailbox.host}:{mailbox.port} answered 535")
    assert "not-the-password-123" not in found.error
    assert mailbox.messages == []


# ---------------------------------------------------------------- webhook


def hook_channel(proj: ModProject, url: str, monkeypatch: pytest.MonkeyPatch,
                 secret: str = HOOK_SECRET, **options: Any) -> None:
    monkeypatch.setenv("TEST_HOOK_URL", f"{url}/hook/maintenance?token=urlsecret-55")
    monkeypatch.setenv("TEST_HOOK_SECRET", secret)
    proj.channel("hook", type="webhook", url_env="TEST_HOOK_URL", secret_env="TEST_HOOK_SECRET",
                 **options)


def test_webhook_is_signed_and_the_receiver_verifies_it(
    proj: ModProject, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    with hook_receiver(HOOK_SECRET) as (url, hook):
        hook_channel(proj, url, monkeypatch)
        ctx = proj.context(notify=["hook"])
        sent = notify.send(store, ctx, "start", run_id="run-1", now=NOW)
    assert delivery(sent, "hook") == notify.Delivery("hook", "sent", 1)
    (request,) = hook.requests
    assert request["verified"] is True
    assert request["path"] == "/hook/maintenance?token=urlsecret-55"
    assert request["json"] == {
        "notice": "start", "audience": "internal", "maintenance": RUNBOOK_ID,
        "runbook": RUNBOOK_ID, "title": "Monthly PostgreSQL maintenance", "run_id": "run-1",
        "channel": "hook", "subject": SUBJECT, "body": request["json"]["body"],
        "sent_at": "2026-12-06T02:05:00Z"}
    assert request["json"]["body"].startswith("The maintenance has started.\n")
    assert "Owner:       sre-team\n" in request["json"]["body"]


def test_webhook_signed_with_another_secret_is_rejected(
    proj: ModProject, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    with hook_receiver(HOOK_SECRET) as (url, hook):
        hook_channel(proj, url, monkeypatch, secret="whsec-rotated-88", retries=0)
        ctx = proj.context(notify=["hook"])
        found = delivery(notify.send(store, ctx, "start", run_id="run-1", now=NOW), "hook")
    assert hook.requests[0]["verified"] is False
    assert (found.status, found.error) == (
        "failed", 'webhook ($TEST_HOOK_URL) POST answered 401: {"error": "bad signature"}')


def test_public_webhook_payload_carries_no_internal_id(
    proj: ModProject, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    with hook_receiver(HOOK_SECRET) as (url, hook):
        hook_channel(proj, url, monkeypatch, audience="public")
        ctx = proj.context(notify=["hook"])
        notify.send(store, ctx, "start", run_id="run-1", now=NOW)
    (request,) = hook.requests
    assert request["verified"] is True
    text = request["raw"].decode()
    for internal in (RUNBOOK_ID, "run-1", "sre-team", "db-primary-7"):
        assert internal not in text
    assert request["json"]["subject"] == "Maintenance in progress: Monthly PostgreSQL maintenance"


# ---------------------------------------------------------------- retries, required, filters


def test_retries_back_off_until_the_endpoint_answers(
    proj: ModProject, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    with hook_receiver(HOOK_SECRET, statuses=[503, 502]) as (url, hook):
        hook_channel(proj, url, monkeypatch, retries=3, retry_delay=0.5)
        ctx = proj.context(notify=["hook"])
        sleeps = Sleeps()
        sent = notify.send(store, ctx, "start", run_id="run-1", now=NOW, sleep=sleeps)
    assert delivery(sent, "hook") == notify.Delivery("hook", "sent", 3)
    assert sleeps == [0.5, 1.0]
    assert [r["verified"] for r in hook.requests] == [True, True, True]
    (row,) = proj.ledger()
    assert (row["status"], row["attempts"], row["error"]) == ("sent", 3, None)


def test_refused_connections_are_retried_until_the_receiver_is_up(
    proj: ModProject, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()
    hook_channel(proj, f"http://127.0.0.1:{port}", monkeypatch, retries=4, retry_delay=1)
    ctx = proj.context(notify=["hook"])
    served: list[Hook] = []
    sleeps: list[float] = []
    with ExitStack() as later:

        def sleep(seconds: float) -> None:
            sleeps.append(seconds)
            if len(sleeps) == 2:  # two attempts were refused: now the receiver comes up
                served.append(later.enter_context(hook_receiver(HOOK_SECRET, port=port))[1])

        sent = notify.send(store, ctx, "start", run_id="run-1", now=NOW, sleep=sleep)
    assert delivery(sent, "hook") == notify.Delivery("hook", "sent", 3)
    assert sleeps == [1.0, 2.0]
    assert [r["verified"] for r in served[0].requests] == [True]


def test_a_required_channel_that_fails_is_reported_in_failed(
    proj: ModProject, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    hook_channel(proj, closed, monkeypatch, retries=1, retry_delay=0, required=True)
    proj.channel("audit", type="webhook", url=f"{closed}/audit", retries=0)
    ctx = proj.context(notify=["ops", "hook", "audit"])
    sent = notify.send(store, ctx, "start", run_id="run-1", now=NOW, sleep=Sleeps())
    assert [(d.channel, d.status, d.attempts) for d in sent.deliveries] == [
        ("ops", "sent", 1), ("hook", "failed", 2), ("audit", "failed", 1)]
    assert sent.failed == ["hook"]
    assert [e.split(":")[0] for e in sent.errors] == ["hook", "audit"]
    assert sent.errors[0].startswith("hook: webhook ($TEST_HOOK_URL) POST: connection failed")
    assert len(proj.outbox()) == 1


def test_a_channel_takes_only_the_notices_it_lists(proj: ModProject, store: Store) -> None:
    proj.channel("digest", type="outbox", path="outbox/digest", notices=["announce", "complete"])
    ctx = proj.context(notify=["ops", "digest"])
    start = notify.send(store, ctx, "start", run_id="run-1", now=NOW)
    complete = notify.send(store, ctx, "complete", run_id="run-1", now=NOW,
                           story=Story(outcome="succeeded"))
    assert delivery(start, "digest") == notify.Delivery("digest", "skipped",
                                                        reason="not for this channel")
    assert delivery(complete, "digest").status == "sent"
    assert [line["notice"] for line in proj.outbox("digest")] == ["complete"]
    assert [line["notice"] for line in proj.outbox("ops")] == ["start", "complete"]


def test_a_public_channel_never_receives_the_rollback_notice(
    proj: ModProject, store: Store
) -> None:
    proj.channel("customers", type="outbox", path="outbox/customers", audience="public",
                 notices=["start", "rollback", "complete"])
    ctx = proj.context(notify=["ops", "customers"])
    sent = notify.send(store, ctx, "rollback", run_id="run-1", now=NOW,
                       story=Story(message="step 'Vacuum the bloated tables' failed"))
    assert delivery(sent, "customers").status == "skipped"
    assert delivery(sent, "ops").status == "sent"
    assert proj.outbox("customers") == []
    assert [(r["kind"], r["channel"]) for r in proj.ledger()] == [("rollback", "ops")]


def test_a_channel_whose_secret_is_unset_fails_at_once_and_says_which(
    proj: ModProject, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TEST_UNSET_WEBHOOK", raising=False)
    proj.channel("chat", type="slack", webhook_env="TEST_UNSET_WEBHOOK", retries=3)
    ctx = proj.context(notify=["chat"])
    sleeps = Sleeps()
    found = delivery(notify.send(store, ctx, "start", run_id="run-1", now=NOW, sleep=sleeps),
                     "chat")
    assert (found.status, found.attempts, found.error) == (
        "failed", 1,
        "channel chat: environment variable TEST_UNSET_WEBHOOK (webhook_env) is not set")
    assert sleeps == []


# ---------------------------------------------------------------- secrets


def test_no_secret_reaches_an_error_the_ledger_or_the_outbox(
    proj: ModProject, store: Store, slack: tuple[str, Received], mailbox: Mailbox,
    monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every channel both delivers and fails; the failing endpoints echo what they got."""
    url, _ = slack
    with hook_receiver(echo=True) as (echo_url, echo), hook_receiver(HOOK_SECRET) as (ok_url, _):
        monkeypatch.setenv("TEST_SLACK_WEBHOOK", f"{url}/services/T0/B0/hooksecret-31")
        monkeypatch.setenv("TEST_BAD_WEBHOOK", f"{echo_url}/services/T0/B0/hooksecret-32")
        monkeypatch.setenv("TEST_SLACK_TOKEN", TOKEN)
        monkeypatch.setenv("TEST_SMTP_PASSWORD", SMTP_PASSWORD)
        monkeypatch.setenv("TEST_ECHO_URL", f"{echo_url}/hook?key=urlsecret-33")
        hook_channel(proj, ok_url, monkeypatch)
        proj.channel("chat", type="slack", webhook_env="TEST_SLACK_WEBHOOK")
        proj.channel("chat-bad", type="slack", webhook_env="TEST_BAD_WEBHOOK", retries=0)
        proj.channel("api", type="slack", token_env="TEST_SLACK_TOKEN", channel_id="C1",
                     api_url=f"{url}/api")
        proj.channel("api-bad", type="slack", token_env="TEST_SLACK_TOKEN", channel_id="C1",
                     api_url=f"{echo_url}/api", retries=0)
        proj.channel("echo", type="webhook", url_env="TEST_ECHO_URL",
                     secret_env="TEST_HOOK_SECRET", retries=0)
        email_channel(proj, mailbox)
        proj.channel("mail-bad", type="email", retries=0,
                     smtp={"host": mailbox.host, "port": mailbox.port, "starttls": True,
                           "username": "nobody", "password_env": "TEST_SMTP_PASSWORD",
                           "ca_file": str(mailbox.cert)},
                     **{"from": "maint@example.com", "to": ["ops@example.com"]})
        names = ["ops", "hook", "chat", "chat-bad", "api", "api-bad", "echo", "mail", "mail-bad"]
        ctx = proj.context(notify=names)
        sent = notify.send(store, ctx, "start", run_id="run-1", now=NOW)
    assert {d.channel: d.status for d in sent.deliveries} == {
        "ops": "sent", "hook": "sent", "chat": "sent", "chat-bad": "failed", "api": "sent",
        "api-bad": "failed", "echo": "failed", "mail": "sent", "mail-bad": "failed"}
    # the echoing endpoint did receive the secrets: the check below is not vacuous
    received = json.dumps([r["headers"] for r in echo.requests] + [r["path"] for r in
                                                                    echo.requests])
    assert TOKEN in received and "hooksecret-32" in received and "urlsecret-33" in received
    secrets = [TOKEN, SMTP_PASSWORD, HOOK_SECRET, "hooksecret-31", "hooksecret-32",
               "urlsecret-33", "urlsecret-55"]
    errors = "\n".join(sent.errors)
    assert len(sent.errors) == 4
    files = [*proj.root.rglob("state/*"), *(proj.root / "outbox").rglob("*")]
    stored = b"".join(p.read_bytes() for p in files if p.is_file())
    stored += "\n".join(str(v) for row in proj.ledger() for v in row.values()).encode()
    for error in sent.errors:  # the files hold the (scrubbed) errors: they were read
        assert error.split(": ", 1)[1].encode() in stored
    for secret in secrets:
        assert secret not in errors, secret
        assert secret.encode() not in stored, secret


def test_a_secret_cut_in_half_by_a_long_error_is_still_hidden(
    proj: ModProject, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An error keeps the first 200 characters of the answer: the token may straddle the cut."""
    with hook_receiver(echo=True, pad=180) as (url, _):
        monkeypatch.setenv("TEST_SLACK_TOKEN", TOKEN)
        proj.channel("api", type="slack", token_env="TEST_SLACK_TOKEN", channel_id="C1",
                     api_url=f"{url}/api", retries=0)
        ctx = proj.context(notify=["api"])
        found = delivery(notify.send(store, ctx, "start", run_id="run-1", now=NOW), "api")
    assert found.error is not None
    prefix = f"Slack POST {url}/api/chat.postMessage answered 500: "
    assert found.error.startswith(prefix + " " * 180 + "Bearer ")
    assert TOKEN[:8] not in found.error


def test_email_carries_a_title_beyond_ascii(
    proj: ModProject, store: Store, mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_SMTP_PASSWORD", SMTP_PASSWORD)
    email_channel(proj, mailbox)
    title = "Größere Datenbank – Wartung 🛠 <primär>"
    ctx = proj.context(notify=["mail"], title=title)
    found = delivery(notify.send(store, ctx, "start", run_id="run-1", now=NOW), "mail")
    assert found.status == "sent", found.error
    message = parse(mailbox.messages[0]["data"])
    assert message["Subject"] == f"[Maintenance started] {title}"
    text, html = message.iter_parts()
    assert f"Maintenance: {title} ({RUNBOOK_ID})" in text.get_content()
    assert "Größere Datenbank – Wartung 🛠 &lt;primär&gt;" in html.get_content()
