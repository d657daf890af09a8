"""`outbox`: one JSON object a line in `<path>/<maintenance id>.jsonl` (SPEC §9)."""

from __future__ import annotations

import json
import os

from maintbook.notify.base import Channel, DeliveryError, Envelope, channel
from maintbook.notify.render import Rendered


@channel("outbox")
class Outbox(Channel):
    def send(self, notice: Rendered, envelope: Envelope) -> str | None:
        folder = str(self.options.get("path") or ".maintbook/outbox")
        line = {
            "notice": notice.kind,
            "runbook": envelope.runbook,
            "maintenance": envelope.maintenance,
            "channel": self.name,
            "audience": notice.audience,
            "subject": notice.subject,
            "body": notice.text,
            "sent_at": envelope.sent_at,
        }
        if envelope.run_id:
            line["run_id"] = envelope.run_id
        path = os.path.join(folder, f"{envelope.maintenance.replace('/', '_')}.jsonl")
        try:
            os.makedirs(folder, exist_ok=True)
            with open(path, "a", encoding="utf-8") as handle:
                handle.write(json.dumps(line, ensure_ascii=False) + "\n")
        except OSError as exc:
            raise DeliveryError(f"outbox {folder}: {exc.strerror}") from exc
        return None
