"""``MAILER`` and ``ACCOUNT_EMAILS``: checked when the app is built, every mistake a `ConfigError` naming it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from panther_like import Panther
from panther_like.exceptions import ConfigError
from panther_like.mail import ConsoleMailer, Mailer, Message, SMTPMailer
from tests.settings import settings_module


class RecordingMailer(Mailer):
    """A project's own mailer, configured from the setting's options."""

    def __init__(self, *, region: str = 'eu') -> None:
        self.region = region

    async def deliver(self, message: Message) -> None:
        pass


class NotAMailer:
    pass


@pytest.fixture
def build(tmp_path):
    def build(**settings: Any) -> Panther:
        settings.setdefault('DATABASE', {'path': str(tmp_path / 'mail.sqlite3')})
        return Panther(configs=settings_module(**settings), urls={})

    return build


def test_without_mailer_the_console_mailer_hides_tokens(build) -> None:
    mailer = build().mailer
    assert type(mailer) is ConsoleMailer and mailer.show_tokens is False


def test_mailer_may_be_a_dotted_path(build) -> None:
    assert type(build(MAILER='tests.test_mail_settings.RecordingMailer').mailer) is RecordingMailer


def test_mailer_may_be_a_dict_whose_other_keys_are_the_options(build) -> None:
    mailer = build(MAILER={'class': 'tests.test_mail_settings.RecordingMailer', 'region': 'us'}).mailer
    assert mailer.region == 'us'


def test_the_smtp_mailer_is_built_from_its_options(build) -> None:
    mailer = build(
        MAILER={'class': 'panther_like.mail.SMTPMailer', 'host': 'smtp.example.com', 'sender': 'noreply@example.com'}
    ).mailer
    assert isinstance(mailer, SMTPMailer) and (mailer.host, mailer.port, mailer.tls) == (
        'smtp.example.com',
        587,
        'starttls',
    )


def test_a_mailer_path_that_does_not_import_names_the_setting(build) -> None:
    with pytest.raises(ConfigError, match=r"Invalid 'MAILER': cannot import 'panther_like.mail.SMTPMailr'.*SMTPMailer"):
        build(MAILER='panther_like.mail.SMTPMailr')


def test_a_class_that_is_not_a_mailer_is_refused(build) -> None:
    with pytest.raises(ConfigError, match=r"'MAILER'.*not a subclass of panther_like.mail.base.Mailer"):
        build(MAILER='tests.test_mail_settings.NotAMailer')


def test_a_mailer_dict_without_a_class_is_refused(build) -> None:
    with pytest.raises(ConfigError, match="needs a 'class' key"):
        build(MAILER={'host': 'smtp.example.com'})


def test_a_mailer_that_is_neither_a_path_nor_a_dict_is_refused(build) -> None:
    with pytest.raises(ConfigError, match="'MAILER'"):
        build(MAILER=42)


def test_an_option_the_mailer_does_not_take_is_refused(build) -> None:
    with pytest.raises(ConfigError, match=r"'MAILER'.*RecordingMailer refused its options"):
        build(MAILER={'class': 'tests.test_mail_settings.RecordingMailer', 'regoin': 'us'})


def test_a_wrong_smtp_option_names_the_key_and_hides_the_password(build) -> None:
    with pytest.raises(ConfigError, match=r"MAILER\['tls'\]") as refused:
        build(
            MAILER={
                'class': 'panther_like.mail.SMTPMailer',
                'host': 'smtp.example.com',
                'sender': 'a@example.com',
                'tls': 'none',
                'username': 'ann',
                'password': 'hunter2-secret',
            }
        )
    assert 'hunter2-secret' not in str(refused.value)


# -- ACCOUNT_EMAILS ---------------------------------------------------------------------------------


def test_links_and_lifetimes_default_to_no_link_and_fifteen_minutes(build) -> None:
    settings = build().config.account_emails
    assert (settings.reset_url, settings.verify_url) == (None, None)
    assert settings.reset_life_time == settings.verify_life_time == timedelta(minutes=15)


def test_lifetimes_take_a_timedelta_or_seconds(build) -> None:
    settings = build(ACCOUNT_EMAILS={'reset_life_time': 600, 'verify_life_time': timedelta(days=2)}).config
    assert settings.account_emails.reset_life_time == timedelta(minutes=10)
    assert settings.account_emails.verify_life_time == timedelta(days=2)


@pytest.mark.parametrize(
    'url', ['https://app.example.com/reset#token=', 'http://localhost:3000/reset?token=', 'http://127.0.0.1/verify/']
)
def test_a_link_is_https_or_stays_on_this_machine(build, url: str) -> None:
    assert build(ACCOUNT_EMAILS={'reset_url': url}).config.account_emails.reset_url == url


@pytest.mark.parametrize(
    ('url', 'reason'),
    [
        ('http://app.example.com/reset?token=', 'plain http'),
        ('/reset?token=', 'absolute https'),
        ('ftp://app.example.com/', 'absolute https'),
        ('https://app.example.com/reset?token=\r\nX: y', 'line breaks'),
        ('', 'non-empty'),
        (42, 'non-empty'),
    ],
)
def test_a_link_that_could_leak_or_lead_nowhere_is_refused(build, url: Any, reason: str) -> None:
    with pytest.raises(ConfigError, match=rf"ACCOUNT_EMAILS\['verify_url'\].*{reason}"):
        build(ACCOUNT_EMAILS={'verify_url': url})


def test_an_unknown_account_emails_key_is_refused(build) -> None:
    with pytest.raises(ConfigError, match="unknown key 'reset_link'"):
        build(ACCOUNT_EMAILS={'reset_link': 'https://app.example.com/'})


@pytest.mark.parametrize('life_time', [0, -5, 'soon', timedelta(0)])
def test_a_lifetime_that_is_not_positive_is_refused(build, life_time: Any) -> None:
    with pytest.raises(ConfigError, match=r"ACCOUNT_EMAILS\['reset_life_time'\]"):
        build(ACCOUNT_EMAILS={'reset_life_time': life_time})


def test_account_emails_must_be_a_dict(build) -> None:
    with pytest.raises(ConfigError, match="'ACCOUNT_EMAILS'"):
        build(ACCOUNT_EMAILS='https://app.example.com/')
