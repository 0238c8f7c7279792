"""Email to winning teams (the addresses of `hackbot team import`'s emails column), over SMTP with
the settings of the environment (SMTP_HOST, SMTP_PORT, SMTP_USER, SMTP_PASSWORD, SMTP_FROM,
SMTP_STARTTLS). smtplib runs in a worker thread: the event loop never waits on a mail server."""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int = 587
    user: str | None = None
    password: str | None = None
    sender: str = "hackbot@localhost"
    starttls: bool = True
    timeout: float = 30.0

    def __repr__(self) -> str:
        return f"SmtpSettings(host={self.host!r}, port={self.port}, user={self.user!r}, password=<hidden>)"


class MailError(Exception):
    """The message could not be handed to the mail server; the text says why (never a password)."""


def _send(settings: SmtpSettings, to: list[str], subject: str, body: str) -> None:
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = ", ".join(to)
    message["Subject"] = subject
    message.set_content(body)
    try:
        with smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout) as smtp:
            if settings.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.user:
                smtp.login(settings.user, settings.password or "")
            refused = smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise MailError(f"the mail server {settings.host}:{settings.port} refused or failed: {type(exc).__name__}: "
                        f"{str(exc)[:200]}") from None
    if refused:
        raise MailError(f"the mail server refused {', '.join(sorted(refused))}")


async def send_mail(settings: SmtpSettings, to: list[str], subject: str, body: str) -> None:
    if not to:
        raise MailError("no address to send to")
    await asyncio.to_thread(_send, settings, to, subject, body)
