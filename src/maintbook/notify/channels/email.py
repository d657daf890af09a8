"""`email`: SMTP with STARTTLS or SSL and AUTH; text and HTML parts, Date and Message-ID."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

from maintbook.notify.base import Channel, ChannelConfigError, DeliveryError, Envelope, channel
from maintbook.notify.render import Rendered


def message(notice: Rendered, envelope: Envelope, sender: str, to: list[str]) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = notice.subject
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    msg["Date"] = formatdate(usegmt=True)
    msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "maintbook.invalid")
    if notice.audience == "internal":
        msg["X-Maintbook-Maintenance"] = envelope.maintenance
        msg["X-Maintbook-Notice"] = notice.kind
    msg.set_content(notice.text)
    msg.add_alternative(notice.html, subtype="html")
    return msg


@channel("email")
class Email(Channel):
    def send(self, notice: Rendered, envelope: Envelope) -> str | None:
        smtp: dict[str, Any] = dict(self.options.get("smtp") or {})
        host, port = str(smtp.get("host") or "localhost"), int(smtp.get("port") or 25)
        sender, to = self.options.get("from"), self.options.get("to") or []
        if not sender or not to:
            raise ChannelConfigError(f"channel {self.name}: email needs from and to")
        recipients = [to] if isinstance(to, str) else [str(t) for t in to]
        context = ssl.create_default_context(cafile=smtp.get("ca_file"))
        if smtp.get("validate_certs") is False:
            context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        password = self.secret("password_env", smtp) if smtp.get("password_env") else None
        timeout = int(smtp.get("timeout") or 30)
        try:
            if smtp.get("ssl"):
                client: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=timeout,
                                                        context=context)
            else:
                client = smtplib.SMTP(host, port, timeout=timeout)
            with client:
                if smtp.get("starttls"):
                    client.starttls(context=context)
                if smtp.get("username"):
                    client.login(str(smtp["username"]), password or "")
                client.send_message(message(notice, envelope, str(sender), recipients))
        except smtplib.SMTPResponseException as exc:
            error = exc.smtp_error
            text = error.decode("utf-8", "replace") if isinstance(error, bytes) else str(error)
            raise DeliveryError(f"SMTP {host}:{port} answered {exc.smtp_code}: {text}") from None
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"SMTP {host}:{port} failed: {exc}") from None
        return None
