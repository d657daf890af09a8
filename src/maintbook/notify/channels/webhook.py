"""`webhook`: a JSON POST, optionally signed with HMAC-SHA256 (`X-Maintbook-Signature`)."""

from __future__ import annotations

import hmac
import json
from hashlib import sha256

from maintbook.notify.base import Channel, ChannelConfigError, Envelope, channel
from maintbook.notify.render import Rendered


@channel("webhook")
class Webhook(Channel):
    def send(self, notice: Rendered, envelope: Envelope) -> str | None:
        if self.options.get("url_env"):
            url = self.secret("url_env")
            endpoint = f"webhook (${self.options['url_env']}) POST"
        elif self.options.get("url"):
            url = str(self.options["url"])
            endpoint = f"webhook POST {url.split('?')[0]}"
        else:
            raise ChannelConfigError(f"channel {self.name}: webhook needs url_env or url")
        data: dict[str, str | None] = {
            "notice": notice.kind,
            "audience": notice.audience,
            "title": envelope.title,
            "subject": notice.subject,
            "body": notice.text,
            "sent_at": envelope.sent_at,
        }
        if notice.audience == "internal":  # a public receiver gets no internal id (SPEC §13)
            data.update(maintenance=envelope.maintenance, runbook=envelope.runbook,
                        run_id=envelope.run_id, channel=self.name)
        body = json.dumps(data, sort_keys=True).encode()
        headers = {}
        if self.options.get("secret_env"):
            key = self.secret("secret_env").encode()
            headers["X-Maintbook-Signature"] = "sha256=" + hmac.new(key, body, sha256).hexdigest()
        self.post_json(url, endpoint, body, headers)
        return None
