#!/usr/bin/python
"""Ansible module maintenance_notify: send one maintenance notice to one channel, once."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: maintenance_notify
short_description: Send a maintenance notice to a channel, once per run
description:
  - Renders a notice (C(announce), C(reminder), C(start), C(progress), C(complete), C(rollback),
    C(emergency)) from the maintbook templates and sends it to one channel of C(maintbook.yml).
  - Channel types C(outbox) (JSON lines file), C(slack) (incoming webhook, or Web API token with
    thread replies under the start message), C(email) (SMTP, STARTTLS, AUTH) and C(webhook)
    (JSON POST, optionally HMAC-signed).
  - Idempotent by runbook id + notice + run id (+ the message, for C(progress)); every delivery
    is recorded in the C(notices) table of the SQLite state database.
  - Secrets are never arguments; the channel names environment variables (C(*_env)) that this
    module reads at run time. Runs on the controller and imports the C(maintbook) package.
version_added: "0.1.0"
author: maintbook developers
options:
  notice:
    description: Which notice to send.
    type: str
    required: true
    choices: [announce, reminder, start, progress, complete, rollback, emergency]
  channel:
    description: Channel name (the key under C(channels) in C(maintbook.yml)).
    type: str
    required: true
  channel_config:
    description:
      - The channel's settings exactly as in C(maintbook.yml), with C(type) one of
        C(slack), C(email), C(webhook), C(outbox).
      - "slack: C(webhook_env), or C(token_env) + C(channel_id) (+ C(api_url))."
      - "email: C(smtp) (C(host), C(port), C(starttls), C(username), C(password_env),
        C(ca_file), C(validate_certs), C(timeout)), C(from), C(to)."
      - "webhook: C(url_env) or C(url), optional C(secret_env). outbox: C(path)."
      - C(required) (bool) makes a failed delivery fail the task.
    type: dict
    required: true
  runbook:
    description: Runbook facts for the text (C(id), C(title), C(type), C(owner), C(description),
      C(systems), C(window_start), C(window_end), C(statuspage_url)). Text is printed literally.
    type: dict
    required: true
  run_id:
    description: Id of this run; a notice is sent at most once per run.
    type: str
    required: true
  message:
    description: Extra text, for example the current step or the failure.
    type: str
  outcome:
    description: Outcome of the run, for C(complete).
    type: str
  required:
    description: Fail the task when the notice cannot be delivered.
      Defaults to C(channel_config.required), else false.
    type: bool
  min_interval:
    description: For C(progress), skip when the last progress notice of this run on this channel
      was sent less than this many seconds ago.
    type: int
    default: 0
  state_db:
    description: Path of the SQLite state database.
    type: path
    default: .maintbook/state.db
  templates_dir:
    description: Project folder whose templates override the shipped ones
      (C(NOTICE.subject.j2), C(NOTICE.txt.j2), C(NOTICE.html.j2)).
    type: path
  retries:
    description: How many times a failed attempt is retried.
    type: int
    default: 3
  retry_delay:
    description: First backoff delay in seconds; it doubles on every retry.
    type: float
    default: 2.0
notes:
  - Supports check mode; it renders the notice, reports whether it would be sent,
    and sends and records nothing.
"""

EXAMPLES = r"""
- name: Send the start notice to ops Slack
  maintenance_notify:
    notice: start
    channel: ops-slack
    channel_config: {type: slack, webhook_env: SLACK_WEBHOOK_URL}
    runbook: {id: MNT-2026-0042, title: Monthly PostgreSQL maintenance, systems: [database]}
    run_id: "20261206T020000Z"
  delegate_to: localhost

- name: Tell customers by mail that it is done
  maintenance_notify:
    notice: complete
    outcome: succeeded
    channel: customers-email
    channel_config:
      type: email
      smtp:
        host: smtp.example.com
        port: 587
        starttls: true
        username: maint
        password_env: SMTP_PASSWORD
      from: maint@example.com
      to: [customers@example.com]
      required: true
    runbook: {id: MNT-2026-0042, title: Monthly PostgreSQL maintenance}
    run_id: "20261206T020000Z"
  delegate_to: localhost
"""

RETURN = r"""
delivered:
  description: Whether the notice reached the channel in this call.
  returned: always
  type: bool
attempts:
  description: Attempts made in this call (0 when skipped).
  returned: always
  type: int
subject:
  description: Rendered subject line.
  returned: always
  type: str
thread_ts:
  description: Slack message ts of the start message (token mode), else null.
  returned: always
  type: str
skipped_reason:
  description: Why nothing was sent (C(already sent), C(min_interval)), else null.
  returned: always
  type: str
ledger:
  description: The row recorded in the C(notices) table, or null.
  returned: always
  type: dict
"""

import hmac
import json
import os
import smtplib
import sqlite3
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from hashlib import sha256
from typing import Any

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.urls import fetch_url

ARGUMENT_SPEC: dict[str, Any] = {
    "notice": {
        "type": "str",
        "required": True,
        "choices": [
            "announce",
            "reminder",
            "start",
            "progress",
            "complete",
            "rollback",
            "emergency",
        ],
    },
    "channel": {"type": "str", "required": True},
    "channel_config": {"type": "dict", "required": True},
    "runbook": {"type": "dict", "required": True},
    "run_id": {"type": "str", "required": True},
    "message": {"type": "str"},
    "outcome": {"type": "str"},
    "required": {"type": "bool"},
    "min_interval": {"type": "int", "default": 0},
    "state_db": {"type": "path", "default": ".maintbook/state.db"},
    "templates_dir": {"type": "path"},
    "retries": {"type": "int", "default": 3},
    "retry_delay": {"type": "float", "default": 2.0},
}
CHANNEL_TYPES = ("slack", "email", "webhook", "outbox")
THREADED = ("progress", "complete", "rollback")
SCHEMA = """CREATE TABLE IF NOT EXISTS notices(runbook TEXT, run_id TEXT, notice TEXT,
 channel TEXT, key TEXT, status TEXT, attempts INTEGER, error TEXT, sent_at TEXT, thread_ts TEXT)"""
Fetch = Callable[..., tuple[Any, dict[str, Any]]]


class DeliveryError(Exception):
    """A failed attempt; the message names the endpoint and status and holds no secret."""


class ConfigError(Exception):
    """The channel configuration is unusable; not retried."""


@dataclass
class Delivery:
    """Everything a channel sender needs for one notice."""

    module: AnsibleModule
    notice: str
    channel: str
    config: dict[str, Any]
    runbook: dict[str, Any]
    run_id: str
    subject: str
    text: str
    html: str
    now: str
    fetch: Fetch
    thread_ts: str | None = None
    secrets: list[str] = field(default_factory=list)

    def secret(self, option: str, source: dict[str, Any] | None = None) -> str:
        """Value of the environment variable named by ``(source or config)[option]``."""
        name = (self.config if source is None else source).get(option)
        value = lookup_secret(str(name)) if name else None
        if not value:
            raise ConfigError(
                f"channel {self.channel}: environment variable {name} ({option}) is not set"
            )
        self.secrets.append(value)
        self.module.no_log_values.add(value)
        return value


def lookup_secret(name: str) -> str | None:
    """A secret by variable name: the environment, or the private file `maintbook run` made."""
    try:
        from maintbook.secrets import lookup
    except ImportError:
        return os.environ.get(name)
    return lookup(name)


def utc_now() -> str:
    return datetime.now(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------- ledger


class Ledger:
    """The ``notices`` table of the state database."""

    def __init__(self, path: str, read_only: bool = False) -> None:
        if read_only:  # check mode: never create or change the database
            uri = f"file:{os.path.abspath(path)}?mode=ro" if os.path.exists(path) else None
            self.db = sqlite3.connect(uri or ":memory:", uri=bool(uri), timeout=30)
            if not self._has_table():
                self.db = sqlite3.connect(":memory:")
                self.db.execute(SCHEMA)
            return
        folder = os.path.dirname(path)
        if folder:
            os.makedirs(folder, exist_ok=True)
        self.db = sqlite3.connect(path, timeout=30)
        self.db.execute(SCHEMA)
        self.db.commit()

    def _has_table(self) -> bool:
        query = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'notices'"
        return self.db.execute(query).fetchone() is not None

    def sent(self, d: Delivery, key: str) -> sqlite3.Row | None:
        return self._one("key = ?", d, key)

    def last_progress(self, d: Delivery) -> str | None:
        row = self._one("notice = 'progress'", d, order="sent_at DESC")
        return row[0] if row else None

    def start_ts(self, d: Delivery) -> str | None:
        row = self._one("notice = 'start' AND thread_ts IS NOT NULL", d)
        return row[1] if row else None

    def _one(self, where: str, d: Delivery, *args: str, order: str = "rowid") -> Any:
        return self.db.execute(
            f"SELECT sent_at, thread_ts FROM notices WHERE runbook = ? AND run_id = ? "
            f"AND channel = ? AND status = 'sent' AND {where} ORDER BY {order} LIMIT 1",
            (str(d.runbook.get("id")), d.run_id, d.channel, *args),
        ).fetchone()

    def record(self, row: dict[str, Any]) -> None:
        cols = ", ".join(row)
        self.db.execute(
            f"INSERT INTO notices({cols}) VALUES ({', '.join('?' * len(row))})", tuple(row.values())
        )
        self.db.commit()


def notice_key(notice: str, message: str | None) -> str:
    if notice != "progress":
        return notice
    return "progress:" + sha256((message or "").encode()).hexdigest()[:16]


# ---------------------------------------------------------------- channels


def send_outbox(d: Delivery) -> str | None:
    folder = d.config.get("path") or ".maintbook/outbox"
    line = {
        "notice": d.notice,
        "runbook": d.runbook.get("id"),
        "channel": d.channel,
        "subject": d.subject,
        "body": d.text,
        "sent_at": d.now,
    }
    try:
        os.makedirs(folder, exist_ok=True)
        with open(
            os.path.join(folder, f"{d.runbook.get('id')}.jsonl"), "a", encoding="utf-8"
        ) as fh:
            fh.write(json.dumps(line, ensure_ascii=False) + "\n")
    except OSError as exc:
        raise DeliveryError(f"outbox {folder}: {exc.strerror}") from exc
    return None


def post_json(
    d: Delivery, url: str, endpoint: str, body: bytes, headers: dict[str, str] | None = None
) -> tuple[int, bytes]:
    """POST ``body``; raise DeliveryError naming ``endpoint`` unless the answer is 2xx."""
    all_headers = {"Content-Type": "application/json; charset=utf-8", **(headers or {})}
    timeout = int(d.config.get("timeout") or 15)
    resp, info = d.fetch(
        d.module, url, data=body, headers=all_headers, method="POST", timeout=timeout
    )
    status = int(info.get("status", -1))
    answer = resp.read() if resp else info.get("body") or b""
    if isinstance(answer, str):
        answer = answer.encode()
    if not 200 <= status < 300:
        detail = answer.decode("utf-8", "replace")[:200] or str(info.get("msg", ""))
        raise DeliveryError(f"{endpoint} answered {status}: {detail}")
    return status, answer


def slack_blocks(d: Delivery) -> list[dict[str, Any]]:
    return [
        {"type": "header", "text": {"type": "plain_text", "text": d.subject[:150]}},
        {"type": "section", "text": {"type": "mrkdwn", "text": slack_escape(d.text)[:3000]}},
    ]


def slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def send_slack(d: Delivery) -> str | None:
    payload: dict[str, Any] = {
        "text": slack_escape(f"{d.subject}\n{d.text}"),
        "blocks": slack_blocks(d),
    }
    if not d.config.get("token_env"):
        url = d.secret("webhook_env")
        endpoint = f"Slack incoming webhook (${d.config['webhook_env']}) POST"
        post_json(d, url, endpoint, json.dumps(payload).encode())
        return None
    token = d.secret("token_env")
    if not d.config.get("channel_id"):
        raise ConfigError(f"channel {d.channel}: token_env needs channel_id")
    payload["channel"] = d.config["channel_id"]
    if d.notice in THREADED and d.thread_ts:
        payload["thread_ts"] = d.thread_ts
    api = str(d.config.get("api_url") or "https://slack.com/api").rstrip("/")
    endpoint = f"Slack POST {api}/chat.postMessage"
    _, answer = post_json(
        d,
        f"{api}/chat.postMessage",
        endpoint,
        json.dumps(payload).encode(),
        {"Authorization": f"Bearer {token}"},
    )
    data = json.loads(answer or b"{}")
    if not data.get("ok"):
        raise DeliveryError(f"{endpoint} answered 200 with error {data.get('error')!r}")
    return d.thread_ts if "thread_ts" in payload else str(data.get("ts"))


def send_webhook(d: Delivery) -> str | None:
    if d.config.get("url_env"):
        url, endpoint = d.secret("url_env"), f"webhook (${d.config['url_env']}) POST"
    elif d.config.get("url"):
        url = str(d.config["url"])
        endpoint = f"webhook POST {url.split('?')[0]}"
    else:
        raise ConfigError(f"channel {d.channel}: webhook needs url_env or url")
    payload = {
        "notice": d.notice,
        "runbook": d.runbook.get("id"),
        "title": d.runbook.get("title"),
        "run_id": d.run_id,
        "channel": d.channel,
        "subject": d.subject,
        "body": d.text,
        "sent_at": d.now,
    }
    body = json.dumps(payload, sort_keys=True).encode()
    headers = {}
    if d.config.get("secret_env"):
        key = d.secret("secret_env").encode()
        headers["X-Maintbook-Signature"] = "sha256=" + hmac.new(key, body, sha256).hexdigest()
    post_json(d, url, endpoint, body, headers)
    return None


def email_message(d: Delivery, sender: str, to: list[str]) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = d.subject
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    msg["Date"] = formatdate(usegmt=True)
    msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "maintbook.invalid")
    msg["X-Maintbook-Runbook"] = str(d.runbook.get("id"))
    msg["X-Maintbook-Notice"] = d.notice
    msg.set_content(d.text)
    msg.add_alternative(d.html, subtype="html")
    return msg


def send_email(d: Delivery) -> str | None:
    smtp = {**d.config, **(d.config.get("smtp") or {})}
    host, port = str(smtp.get("host") or "localhost"), int(smtp.get("port") or 25)
    sender, to = d.config.get("from"), d.config.get("to") or []
    if not sender or not to:
        raise ConfigError(f"channel {d.channel}: email needs from and to")
    to = [to] if isinstance(to, str) else list(to)
    context = ssl.create_default_context(cafile=smtp.get("ca_file"))
    if smtp.get("validate_certs") is False:
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    password = d.secret("password_env", smtp) if smtp.get("password_env") else None
    try:
        client_class = smtplib.SMTP_SSL if smtp.get("ssl") else smtplib.SMTP
        kwargs: dict[str, Any] = {"context": context} if smtp.get("ssl") else {}
        with client_class(host, port, timeout=int(smtp.get("timeout") or 30), **kwargs) as client:
            if smtp.get("starttls"):
                client.starttls(context=context)
            if smtp.get("username"):
                client.login(str(smtp["username"]), password or "")
            client.send_message(email_message(d, str(sender), to))
    except smtplib.SMTPResponseException as exc:
        text = (
            exc.smtp_error.decode("utf-8", "replace")
            if isinstance(exc.smtp_error, bytes)
            else exc.smtp_error
        )
        raise DeliveryError(f"SMTP {host}:{port} answered {exc.smtp_code}: {text}") from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryError(f"SMTP {host}:{port} failed: {exc}") from exc
    return None


SENDERS: dict[str, Callable[[Delivery], str | None]] = {
    "outbox": send_outbox,
    "slack": send_slack,
    "email": send_email,
    "webhook": send_webhook,
}


def scrub(text: str, secrets: list[str]) -> str:
    for value in secrets:
        text = text.replace(value, "********")
    return text


def deliver(
    d: Delivery, retries: int, delay: float, sleep: Callable[[float], None]
) -> tuple[bool, int, str | None, str | None]:
    """Try up to ``retries + 1`` times; return (delivered, attempts, thread_ts, error)."""
    sender = SENDERS[d.config["type"]]
    error: str | None = None
    for attempt in range(1, retries + 2):
        try:
            return True, attempt, sender(d), None
        except ConfigError as exc:
            return False, attempt, None, scrub(str(exc), d.secrets)
        except DeliveryError as exc:
            error = scrub(str(exc), d.secrets)
        if attempt <= retries:
            sleep(delay * 2 ** (attempt - 1))
    return False, retries + 1, None, error


# ---------------------------------------------------------------- main


def build_delivery(module: AnsibleModule, fetch: Fetch) -> Delivery:
    from maintbook.notices import render_notice

    p = module.params
    ctype = p["channel_config"].get("type")
    if ctype not in CHANNEL_TYPES:
        module.fail_json(
            msg=f"channel {p['channel']}: type {ctype!r} is not one of {', '.join(CHANNEL_TYPES)}"
        )
    now = utc_now()
    rendered = render_notice(
        p["notice"],
        p["runbook"],
        channel=p["channel"],
        run_id=p["run_id"],
        message=p["message"],
        outcome=p["outcome"],
        templates_dir=p["templates_dir"],
        now=datetime.fromisoformat(now.replace("Z", "+00:00")),
    )
    return Delivery(
        module,
        p["notice"],
        p["channel"],
        p["channel_config"],
        p["runbook"],
        p["run_id"],
        rendered.subject,
        rendered.text,
        rendered.html,
        now,
        fetch,
    )


def skip_reason(ledger: Ledger, d: Delivery, key: str, min_interval: int) -> str | None:
    if ledger.sent(d, key):
        return "already sent"
    if d.notice == "progress" and min_interval > 0:
        last = ledger.last_progress(d)
        now = datetime.fromisoformat(d.now.replace("Z", "+00:00"))
        if (
            last
            and (now - datetime.fromisoformat(last.replace("Z", "+00:00"))).total_seconds()
            < min_interval
        ):
            return "min_interval"
    return None


def run(module: AnsibleModule, fetch: Fetch, sleep: Callable[[float], None]) -> dict[str, Any]:
    p = module.params
    d = build_delivery(module, fetch)
    result: dict[str, Any] = {
        "changed": False,
        "delivered": False,
        "attempts": 0,
        "subject": d.subject,
        "thread_ts": None,
        "skipped_reason": None,
        "ledger": None,
    }
    ledger = Ledger(p["state_db"], read_only=module.check_mode)
    key = notice_key(p["notice"], p["message"])
    reason = skip_reason(ledger, d, key, p["min_interval"])
    if d.notice in THREADED or d.notice == "start":
        d.thread_ts = ledger.start_ts(d)
        result["thread_ts"] = d.thread_ts
    if reason or module.check_mode:
        result.update(skipped_reason=reason, changed=reason is None)
        return result
    ok, attempts, ts, error = deliver(d, p["retries"], p["retry_delay"], sleep)
    row = {
        "runbook": str(d.runbook.get("id")),
        "run_id": d.run_id,
        "notice": d.notice,
        "channel": d.channel,
        "key": key,
        "status": "sent" if ok else "failed",
        "attempts": attempts,
        "error": error,
        "sent_at": utc_now(),
        "thread_ts": ts or d.thread_ts,
    }
    ledger.record(row)
    result.update(
        changed=ok, delivered=ok, attempts=attempts, ledger=row, thread_ts=row["thread_ts"]
    )
    required = p["required"] if p["required"] is not None else bool(d.config.get("required"))
    if not ok:
        msg = (
            f"notice {d.notice} to channel {d.channel} not delivered"
            f" after {attempts} attempt(s): {error}"
        )
        if required:
            module.fail_json(msg=msg, **result)
        module.warn(msg)
    return result


def main(fetch: Fetch = fetch_url, sleep: Callable[[float], None] = time.sleep) -> None:
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    try:
        result = run(module, fetch, sleep)
    except ImportError as exc:
        module.fail_json(msg=f"the maintbook package is not importable on the controller: {exc}")
    except (ConfigError, ValueError, OSError, sqlite3.Error) as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
