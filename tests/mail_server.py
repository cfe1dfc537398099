"""A real SMTP server for the tests: aiosmtpd in its own process, delivering into a Maildir.

Run as ``python -m tests.mail_server --port N --maildir DIR [--username U --password P]
[--tls-cert C --tls-key K]``. It speaks SMTP over TCP on 127.0.0.1 like any
mail server; the framework's `SMTPMailer` cannot tell the difference. What
it receives lands in the Maildir with two extra headers, ``X-Envelope-From``
and ``X-Envelope-To`` (and ``X-Received-At``, for their order), so a test sees where a message really went, not
only what its headers claim. A recipient whose local part starts with
``refuse`` is refused (550), so a test can make a delivery fail without
stopping the server.

`start_smtp` (used by the session fixture in tests/conftest.py) starts it
on a free port and returns a handle that stops it by PID, and reads what
was delivered.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import email
import email.policy
import mailbox
import signal
import ssl
import subprocess
import sys
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

from tests.servers import STOP_TIMEOUT, ServerUnavailable, _accepts, free_port, terminate, wait_until_serving

REPO = Path(__file__).resolve().parents[1]


# -- the server process ---------------------------------------------------------------------------


class MaildirHandler:
    def __init__(self, maildir: str) -> None:
        self.maildir = mailbox.Maildir(maildir, create=True)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.split('@', 1)[0].startswith('refuse'):
            return '550 5.1.1 Mailbox unavailable'
        envelope.rcpt_tos.append(address)
        return '250 OK'

    async def handle_DATA(self, server, session, envelope):
        trace = (
            f'X-Received-At: {time.time_ns()}\r\nX-Envelope-From: {envelope.mail_from}\r\n'
            f'X-Envelope-To: {", ".join(envelope.rcpt_tos)}\r\n'
        )
        self.maildir.add(trace.encode() + envelope.original_content)
        return '250 Message accepted for delivery'


def _authenticator(username: str, password: str):
    from aiosmtpd.smtp import AuthResult, LoginPassword

    def check(server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login.decode() == username
            and auth_data.password.decode() == password
        )
        return AuthResult(success=ok, handled=False)

    return check


async def _serve(args: argparse.Namespace) -> None:
    from aiosmtpd.smtp import SMTP

    handler = MaildirHandler(args.maildir)
    tls_context = None
    if args.tls_cert:
        tls_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls_context.load_cert_chain(args.tls_cert, args.tls_key)
    options = {}
    if args.username:
        # Plain AUTH without TLS is allowed only when the server has no certificate: loopback tests.
        options = {
            'authenticator': _authenticator(args.username, args.password),
            'auth_required': True,
            'auth_require_tls': tls_context is not None,
        }
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(
            handler, hostname='mail.test', tls_context=tls_context, require_starttls=tls_context is not None, **options
        ),
        host='127.0.0.1',
        port=args.port,
    )
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with server:
        await stop.wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument('--port', type=int, required=True)
    parser.add_argument('--maildir', required=True)
    parser.add_argument('--username')
    parser.add_argument('--password')
    parser.add_argument('--tls-cert')
    parser.add_argument('--tls-key')
    asyncio.run(_serve(parser.parse_args()))


# -- the handle the tests use ---------------------------------------------------------------------


@dataclass
class SMTPServer:
    """A running test SMTP server: `host`, `port`, and what it received (`messages`, `wait_for`)."""

    port: int
    maildir: Path
    log_file: Path
    args: list[str] = field(default_factory=list)
    process: subprocess.Popen[bytes] | None = None
    host: str = '127.0.0.1'

    def start(self) -> None:
        if self.process is not None and self.process.poll() is None:
            return
        command = [
            sys.executable,
            '-m',
            'tests.mail_server',
            '--port',
            str(self.port),
            '--maildir',
            str(self.maildir),
            *self.args,
        ]
        with open(self.log_file, 'ab') as log:
            self.process = subprocess.Popen(command, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_until_serving(
                self.process,
                lambda: _accepts(self.port),
                what='the test SMTP server',
                log=lambda: self.log_file.read_text(errors='replace'),
            )
        except ServerUnavailable:
            self.stop()
            raise

    def stop(self) -> None:
        """SIGTERM to the PID this handle started, then wait until the port is free."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        terminate(process)
        deadline = time.monotonic() + STOP_TIMEOUT
        while _accepts(self.port) and time.monotonic() < deadline:
            time.sleep(0.02)

    def example_env(self) -> dict[str, str]:
        """The example project's mail settings (its ``.env``) for sending here, with links to app.example.com."""
        return {
            'SMTP_HOST': self.host,
            'SMTP_PORT': str(self.port),
            'SMTP_TLS': 'none',
            'MAIL_FROM': 'accounts@example.com',
            'RESET_URL': 'https://app.example.com/reset#token=',
            'VERIFY_URL': 'https://app.example.com/verify#token=',
        }

    def messages(self, to: str | None = None) -> list[EmailMessage]:
        """Every message delivered so far (oldest first), or those whose envelope went to `to`."""
        box = mailbox.Maildir(self.maildir, create=True)
        parsed = []
        for key in box.iterkeys():
            with contextlib.suppress(KeyError, FileNotFoundError):
                parsed.append(email.message_from_bytes(box.get_bytes(key), policy=email.policy.default))
        parsed.sort(key=lambda message: int(message['X-Received-At']))
        if to is None:
            return parsed
        return [message for message in parsed if to in message['X-Envelope-To'].split(', ')]

    def wait_for(self, to: str, count: int = 1, timeout: float = 10.0) -> list[EmailMessage]:
        """The first `count` messages delivered to `to`, waiting up to `timeout` seconds for them."""
        deadline = time.monotonic() + timeout
        while True:
            received = self.messages(to)
            if len(received) >= count or time.monotonic() > deadline:
                assert len(received) >= count, f'{len(received)} message(s) to {to} after {timeout}s, wanted {count}'
                return received[:count]
            time.sleep(0.02)


def start_smtp(directory: Path, *, args: tuple[str, ...] = ()) -> SMTPServer:
    directory.mkdir(parents=True, exist_ok=True)
    server = SMTPServer(
        port=free_port(), maildir=directory / 'maildir', log_file=directory / 'smtp.log', args=list(args)
    )
    server.start()
    return server


def self_signed_certificate(directory: Path, host: str = '127.0.0.1') -> tuple[Path, Path]:
    """A certificate for `host` (and its key), to test STARTTLS against a private CA of one."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(host))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / 'smtp-cert.pem', directory / 'smtp-key.pem'
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_file, key_file


if __name__ == '__main__':
    main()
