"""`SMTPMailer`: each message sent to an SMTP server with aiosmtplib, without blocking the event loop.

Why aiosmtplib: the standard library's smtplib blocks, so every message
would hold a worker thread (or the whole loop) for as long as the server
takes to answer; aiosmtplib speaks the same protocol natively on asyncio,
with STARTTLS, implicit TLS, AUTH and timeouts, and is maintained.

Why TLS is required by default: the message carries a one-time token
and the login carries the SMTP password. ``tls='starttls'`` (the
default, port 587) refuses a server that does not offer STARTTLS rather
than falling back to plain text; ``'implicit'`` is TLS from the first
byte (port 465); ``'none'`` is for a relay on this machine, and a
password is never sent that way to another host.
"""

from __future__ import annotations

import ssl
from typing import Any

import aiosmtplib

from panther_like.mail.base import Mailer, Message, is_address, option_error
from panther_like.settings.checks import LOOPBACK_HOSTS

TLS_MODES = ('starttls', 'implicit', 'none')
DEFAULT_PORTS = {'starttls': 587, 'implicit': 465, 'none': 25}


class SMTPMailer(Mailer):
    """``MAILER = {'class': 'panther_like.mail.SMTPMailer', 'host': ..., 'sender': ...}``; see the module docstring.

    Options: `host`, `sender` (the From address) required; `port` (by `tls`:
    587, 465 or 25), `tls` (``'starttls'``, ``'implicit'``, ``'none'``),
    `username` and `password` (together), `timeout` in seconds (10), `ca_file`
    (a PEM bundle to trust instead of the system's, for a private CA).
    """

    def __init__(
        self,
        *,
        host: str,
        sender: str,
        port: int | None = None,
        tls: str = 'starttls',
        username: str | None = None,
        password: str | None = None,
        timeout: float = 10.0,
        ca_file: str | None = None,
    ) -> None:
        if not isinstance(host, str) or not host or any(ch.isspace() for ch in host):
            raise option_error('host', host, f'{host!r} must be a host name or address')
        if not is_address(sender):
            raise option_error('sender', sender, f'{sender!r} must be one plain e-mail address (the From address)')
        if tls not in TLS_MODES:
            raise option_error('tls', tls, f'{tls!r} must be one of {", ".join(map(repr, TLS_MODES))}')
        port = DEFAULT_PORTS[tls] if port is None else port
        if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
            raise option_error('port', port, f'{port!r} must be a TCP port number')
        if (username is None) != (password is None):
            raise option_error('username', username, 'username and password go together: set both or neither')
        for name, value in (('username', username), ('password', password)):
            if value is not None and not (isinstance(value, str) and value):
                raise option_error(name, value, 'must be a non-empty string')
        if password is not None and tls == 'none' and host not in LOOPBACK_HOSTS:
            raise option_error('tls', tls, f"'none' would send the SMTP password to {host} in clear; use 'starttls'")
        if not isinstance(timeout, int | float) or isinstance(timeout, bool) or timeout <= 0:
            raise option_error('timeout', timeout, f'{timeout!r} must be a positive number of seconds')
        self.host, self.port, self.sender, self.tls = host, port, sender, tls
        self.timeout = float(timeout)
        self._username, self._password = username, password
        self._tls_context = _tls_context(ca_file) if ca_file is not None else None

    async def deliver(self, message: Message) -> None:
        options: dict[str, Any] = {}
        if self._tls_context is not None:
            options['tls_context'] = self._tls_context
        await aiosmtplib.send(
            message.as_email(self.sender),
            hostname=self.host,
            port=self.port,
            username=self._username,
            password=self._password,
            use_tls=self.tls == 'implicit',
            start_tls=self.tls == 'starttls',
            timeout=self.timeout,
            **options,
        )

    def __repr__(self) -> str:
        return f'SMTPMailer(host={self.host!r}, port={self.port}, tls={self.tls!r}, sender={self.sender!r})'


def _tls_context(ca_file: Any) -> ssl.SSLContext:
    if not isinstance(ca_file, str) or not ca_file:
        raise option_error('ca_file', ca_file, f'{ca_file!r} must be the path of a PEM file')
    try:
        return ssl.create_default_context(cafile=ca_file)
    except (OSError, ssl.SSLError) as exc:
        raise option_error('ca_file', ca_file, f'cannot load {ca_file!r} ({type(exc).__name__}: {exc})') from None
