"""Mail: the message, the console mailer, the SMTP mailer against a real SMTP server, and the outbox."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from panther_like.exceptions import ConfigError
from panther_like.mail import ConsoleMailer, MailDeliveryError, Mailer, Message, Outbox, SMTPMailer, is_address
from tests.mail_server import SMTPServer, self_signed_certificate, start_smtp
from tests.servers import free_port

TOKEN = 'Zm9vYmFyYmF6cXV4cXV1eGZvb2JhcmJhenF1eHF1dXg'
LINK = 'https://app.example.com/reset#token=' + TOKEN


def reset_message(to: str = 'ann@example.com') -> Message:
    return Message(to=to, subject='Reset your password', text=f'Open this link:\n\n    {LINK}\n', sensitive=(TOKEN,))


def smtp_mailer(server: SMTPServer, **options) -> SMTPMailer:
    defaults = {'host': server.host, 'port': server.port, 'tls': 'none', 'sender': 'noreply@example.com'}
    return SMTPMailer(**{**defaults, **options})


def audit_events(caplog: pytest.LogCaptureFixture) -> list[dict]:
    return [json.loads(record.getMessage()) for record in caplog.records if record.name == 'panther_like.audit']


# -- the message ---------------------------------------------------------------------------------


@pytest.mark.parametrize('address', ['ann@example.com', 'ann.lee+reset@mail.example.org'])
def test_a_plain_address_is_an_address(address: str) -> None:
    assert is_address(address)


@pytest.mark.parametrize(
    'address',
    [
        'ann',
        'ann@localhost',
        'ann @example.com',
        'Ann <ann@example.com>',
        'ann@example.com, eve@example.com',
        'ann@example.com\r\nBcc: eve@example.com',
        'ann@example.com\nBcc: eve@example.com',
        '',
        None,
        42,
        'a' * 250 + '@example.com',
    ],
)
def test_anything_but_one_plain_address_is_not_an_address(address) -> None:
    assert not is_address(address)


def test_a_message_refuses_a_recipient_that_would_add_a_header() -> None:
    with pytest.raises(ValueError, match='recipient'):
        reset_message('ann@example.com\r\nBcc: eve@example.com')


def test_a_message_refuses_a_subject_of_two_lines() -> None:
    with pytest.raises(ValueError, match='subject'):
        Message(to='ann@example.com', subject='Hi\r\nBcc: eve@example.com', text='')


def test_a_redacted_message_hides_its_sensitive_parts_and_keeps_the_rest() -> None:
    shown = reset_message().redacted()
    assert TOKEN not in shown.text
    assert 'https://app.example.com/reset#token=<hidden>' in shown.text


def test_a_message_becomes_an_automatic_plain_text_email_from_the_sender() -> None:
    email = reset_message().as_email('noreply@example.com')
    assert (email['From'], email['To'], email['Subject']) == (
        'noreply@example.com',
        'ann@example.com',
        'Reset your password',
    )
    assert email['Auto-Submitted'] == 'auto-generated'
    assert email['Message-ID'].endswith('@example.com>')
    assert LINK in email.get_content()


# -- the console mailer ----------------------------------------------------------------------------


async def test_the_console_mailer_prints_the_message_with_its_token_hidden(capsys) -> None:
    await ConsoleMailer().send(reset_message())
    printed = capsys.readouterr().err
    assert 'Mail to: ann@example.com' in printed and 'Subject: Reset your password' in printed
    assert 'https://app.example.com/reset#token=<hidden>' in printed
    assert TOKEN not in printed


async def test_the_console_mailer_prints_the_token_when_told_to(capsys) -> None:
    await ConsoleMailer(show_tokens=True).send(reset_message())
    assert LINK in capsys.readouterr().err


def test_showing_tokens_warns_when_the_mailer_is_built(caplog) -> None:
    with caplog.at_level(logging.WARNING, logger='panther_like.mail'):
        ConsoleMailer(show_tokens=True)
    assert any('development only' in record.getMessage() for record in caplog.records)


def test_show_tokens_must_be_a_bool() -> None:
    with pytest.raises(ConfigError, match=r"MAILER\['show_tokens'\]"):
        ConsoleMailer(show_tokens='yes')


# -- the SMTP mailer's options -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ('options', 'named'),
    [
        ({'host': ''}, 'host'),
        ({'sender': 'not an address'}, 'sender'),
        ({'tls': 'ssl'}, 'tls'),
        ({'port': 0}, 'port'),
        ({'port': '587'}, 'port'),
        ({'username': 'ann'}, 'username'),
        ({'timeout': 0}, 'timeout'),
        ({'ca_file': '/nonexistent/ca.pem'}, 'ca_file'),
    ],
)
def test_a_wrong_smtp_option_is_a_config_error_naming_it(options: dict, named: str) -> None:
    with pytest.raises(ConfigError, match=rf"MAILER\['{named}'\]"):
        SMTPMailer(**{'host': 'smtp.example.com', 'sender': 'noreply@example.com', **options})


def test_a_password_is_never_sent_in_clear_to_another_host() -> None:
    with pytest.raises(ConfigError, match='in clear') as refused:
        SMTPMailer(
            host='smtp.example.com', sender='noreply@example.com', tls='none', username='ann', password='s3cret-pass'
        )
    assert 's3cret-pass' not in str(refused.value)


def test_the_port_follows_the_tls_mode_unless_given() -> None:
    ports = [
        SMTPMailer(host='smtp.example.com', sender='a@example.com', tls=tls).port
        for tls in ('starttls', 'implicit', 'none')
    ]
    assert ports == [587, 465, 25]


def test_the_smtp_password_is_not_in_the_mailers_repr() -> None:
    mailer = SMTPMailer(host='smtp.example.com', sender='a@example.com', username='ann', password='s3cret-pass')
    assert 's3cret-pass' not in repr(mailer)


def test_an_option_the_mailer_does_not_take_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match='MAILER'):
        SMTPMailer.from_options({'host': 'smtp.example.com', 'sender': 'a@example.com', 'hots': 'x'})


# -- the SMTP mailer against a real server --------------------------------------------------------------


async def test_the_smtp_mailer_delivers_the_message_to_its_recipient(smtp_server: SMTPServer) -> None:
    await smtp_mailer(smtp_server).send(reset_message('delivered@example.com'))
    [received] = smtp_server.wait_for('delivered@example.com')
    assert received['X-Envelope-From'] == 'noreply@example.com'
    assert received['Subject'] == 'Reset your password'
    assert LINK in received.get_content()


async def test_a_refused_recipient_is_a_delivery_error_with_the_code_and_without_the_address(
    smtp_server: SMTPServer,
) -> None:
    with pytest.raises(MailDeliveryError) as failed:
        await smtp_mailer(smtp_server).send(reset_message('refuse-me@example.com'))
    assert '550' in failed.value.reason
    assert 'refuse-me' not in failed.value.reason


async def test_a_server_that_does_not_answer_is_a_delivery_error() -> None:
    mailer = SMTPMailer(host='127.0.0.1', port=free_port(), tls='none', sender='noreply@example.com', timeout=2)
    with pytest.raises(MailDeliveryError):
        await mailer.send(reset_message())


async def test_starttls_is_required_by_default_so_a_server_without_it_is_a_delivery_error(
    smtp_server: SMTPServer,
) -> None:
    with pytest.raises(MailDeliveryError):
        await smtp_mailer(smtp_server, tls='starttls').send(reset_message('never-plain@example.com'))
    assert smtp_server.messages('never-plain@example.com') == []


@pytest.fixture(scope='module')
def authenticating_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SMTPServer]:
    server = start_smtp(tmp_path_factory.mktemp('smtp_auth'), args=('--username', 'mailer', '--password', 'pw-1'))
    yield server
    server.stop()


async def test_the_smtp_mailer_logs_in_with_its_username_and_password(authenticating_server: SMTPServer) -> None:
    await smtp_mailer(authenticating_server, username='mailer', password='pw-1').send(reset_message('auth@example.com'))
    assert authenticating_server.wait_for('auth@example.com')


async def test_a_wrong_smtp_password_is_a_delivery_error(authenticating_server: SMTPServer) -> None:
    with pytest.raises(MailDeliveryError, match='Authentication'):
        await smtp_mailer(authenticating_server, username='mailer', password='wrong').send(reset_message())


@pytest.fixture(scope='module')
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SMTPServer, Path]]:
    directory = tmp_path_factory.mktemp('smtp_tls')
    cert, key = self_signed_certificate(directory)
    server = start_smtp(
        directory, args=('--tls-cert', str(cert), '--tls-key', str(key), '--username', 'mailer', '--password', 'pw-2')
    )
    yield server, cert
    server.stop()


async def test_the_smtp_mailer_upgrades_to_tls_and_trusts_the_ca_file(tls_server) -> None:
    server, cert = tls_server
    mailer = smtp_mailer(server, tls='starttls', ca_file=str(cert), username='mailer', password='pw-2')
    await mailer.send(reset_message('tls@example.com'))
    assert server.wait_for('tls@example.com')


async def test_a_certificate_the_mailer_does_not_trust_is_a_delivery_error(tls_server) -> None:
    server, _ = tls_server
    with pytest.raises(MailDeliveryError):
        await smtp_mailer(server, tls='starttls').send(reset_message('untrusted@example.com'))
    assert server.messages('untrusted@example.com') == []


class ExplodingMailer(Mailer):
    async def deliver(self, message: Message) -> None:
        raise RuntimeError(f'cannot send {message.text}')


async def test_whatever_a_projects_mailer_raises_becomes_a_delivery_error_without_the_message() -> None:
    with pytest.raises(MailDeliveryError) as failed:
        await ExplodingMailer().send(reset_message())
    assert failed.value.reason == 'RuntimeError'


# -- the outbox ---------------------------------------------------------------------------------------


async def test_the_outbox_sends_after_posting_and_writes_mail_sent(smtp_server: SMTPServer, caplog) -> None:
    caplog.set_level(logging.INFO, logger='panther_like.audit')
    outbox = Outbox(smtp_mailer(smtp_server))
    outbox.post(reset_message('outbox@example.com'), kind='password_reset', user_id='u1')
    assert outbox.pending == 1
    await outbox.drain()
    assert smtp_server.wait_for('outbox@example.com')
    [line] = [event for event in audit_events(caplog) if event['event'] == 'mail.sent']
    assert (line['kind'], line['user_id']) == ('password_reset', 'u1')


async def test_a_failed_delivery_is_in_the_audit_log_without_address_or_token(smtp_server, caplog) -> None:
    caplog.set_level(logging.INFO, logger='panther_like.audit')
    outbox = Outbox(smtp_mailer(smtp_server))
    outbox.post(reset_message('refuse-outbox@example.com'), kind='password_reset', user_id='u2')
    await outbox.drain()
    [line] = [event for event in audit_events(caplog) if event['event'] == 'mail.failure']
    assert line['user_id'] == 'u2' and '550' in line['reason']
    everything = '\n'.join(record.getMessage() for record in caplog.records)
    assert TOKEN not in everything and 'refuse-outbox' not in everything


class SlowMailer(Mailer):
    async def deliver(self, message: Message) -> None:
        await asyncio.sleep(30)


async def test_draining_cancels_what_is_still_sending_after_the_timeout_and_says_so(caplog) -> None:
    caplog.set_level(logging.INFO, logger='panther_like.audit')
    outbox = Outbox(SlowMailer())
    outbox.post(reset_message(), kind='verify_email', user_id='u3')
    await outbox.drain(timeout=0.05)
    assert outbox.pending == 0
    [line] = [event for event in audit_events(caplog) if event['event'] == 'mail.failure']
    assert 'shut down' in line['reason']
