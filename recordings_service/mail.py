"""Sending e-mail through the SMTP server of `CALLVAULT_SMTP_URL` (smtp://[user:pass@]host[:port] with
STARTTLS when the server offers it, or smtps:// for TLS from the start). Unset: nothing is sent, and the
caller logs that (without the address or the text)."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

from recordings_service.errors import Unavailable

TIMEOUT_S = 30.0


def send_mail(smtp_url: str, *, sender: str, to: str, subject: str, body: str) -> bool:
    """Send one plain-text message; False when no SMTP server is configured."""
    if not smtp_url:
        return False
    url = urlsplit(smtp_url)
    if url.scheme not in {"smtp", "smtps"} or not url.hostname:
        raise ValueError("CALLVAULT_SMTP_URL must be smtp://host[:port] or smtps://host[:port]")
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = ascii_domain(sender), ascii_domain(to), subject
    message.set_content(body)
    secure = url.scheme == "smtps"
    connection_type = smtplib.SMTP_SSL if secure else smtplib.SMTP
    port = url.port or (465 if secure else 25)
    try:
        with connection_type(url.hostname, port, timeout=TIMEOUT_S) as server:
            if not secure:
                server.ehlo()
                if server.has_extn("starttls"):
                    server.starttls(context=ssl.create_default_context())
            if url.username:
                server.login(unquote(url.username), unquote(url.password or ""))
            server.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise Unavailable(f"the SMTP server did not take the message: {type(exc).__name__}") from None
    return True


def ascii_domain(address: str) -> str:
    """The address with its domain in IDNA form (`yliopistö.fi` as `xn--yliopist-…`), which every SMTP server takes:
    a Unicode domain needs the server's SMTPUTF8 extension, and without it the message was refused every time (an
    institute's custody reminders never sent). A Unicode local part still needs SMTPUTF8: it has no ASCII form."""
    local, at, domain = address.rpartition("@")
    try:
        return f"{local}{at}{domain.encode('idna').decode('ascii')}" if at else address
    except UnicodeError:
        return address
