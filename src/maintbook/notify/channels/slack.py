"""`slack`: an incoming webhook (`webhook_env`), or the Web API (`token_env` + `channel_id`)
with every later notice of a maintenance in the thread of its first message."""

from __future__ import annotations

import json
from typing import Any

from maintbook.notify.base import Channel, ChannelConfigError, DeliveryError, Envelope, channel
from maintbook.notify.render import Rendered


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def payload(notice: Rendered) -> dict[str, Any]:
    return {
        "text": escape(f"{notice.subject}\n{notice.text}"),
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": notice.subject[:150]}},
            {"type": "section", "text": {"type": "mrkdwn", "text": escape(notice.text)[:3000]}},
        ],
    }


@channel("slack")
class SlackWebhook(Channel):
    def send(self, notice: Rendered, envelope: Envelope) -> str | None:
        url = self.secret("webhook_env")
        endpoint = f"Slack incoming webhook (${self.options['webhook_env']}) POST"
        self.post_json(url, endpoint, payload(notice))
        return None


@channel("slack-api")
class SlackApi(Channel):
    def send(self, notice: Rendered, envelope: Envelope) -> str | None:
        token = self.secret("token_env")
        if not self.options.get("channel_id"):
            raise ChannelConfigError(f"channel {self.name}: token_env needs channel_id")
        body = {**payload(notice), "channel": self.options["channel_id"]}
        if envelope.thread:
            body["thread_ts"] = envelope.thread
        api = str(self.options.get("api_url") or "https://slack.com/api").rstrip("/")
        endpoint = f"Slack POST {api}/chat.postMessage"
        answer = self.post_json(f"{api}/chat.postMessage", endpoint, body,
                                {"Authorization": f"Bearer {token}"})
        try:
            data = json.loads(answer or b"{}")
        except ValueError:
            raise DeliveryError(f"{endpoint} answered 200 with a body that is not JSON") from None
        if not isinstance(data, dict) or not data.get("ok"):
            error = data.get("error") if isinstance(data, dict) else None
            raise DeliveryError(f"{endpoint} answered 200 with error {error!r}")
        return envelope.thread or str(data.get("ts"))
