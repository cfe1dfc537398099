"""Security notices: the owner is mailed when the password or a second factor changes, unless turned off."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pyotp
import pytest
import pytest_asyncio

from panther_like import Panther
from panther_like.mail import Mailer, Message
from panther_like.testing import TestClient
from tests.accounts.conftest import PASSWORD, bearer, login, settings_module, signup
from tests.clock import ManualClock


class RecordingMailer(Mailer):
    """Keeps what it is given, so a test reads the mailbox."""

    sent: list[Message] = []

    async def deliver(self, message: Message) -> None:
        RecordingMailer.sent.append(message)


@pytest.fixture
def clock() -> ManualClock:
    behind = ManualClock()
    behind.advance(-1800)  # PyJWT refuses an iat ahead of the real time
    return behind


def make_client(tmp_path, clock: ManualClock, **accounts) -> TestClient:
    settings = settings_module({'path': str(tmp_path / 'db.sqlite3')}, None, accounts)
    settings.MAILER = 'tests.accounts.test_security_notices.RecordingMailer'
    settings.JWTConfig = {'life_time': 3600}
    return TestClient(Panther(configs=settings, clock=clock))


@pytest_asyncio.fixture
async def client(tmp_path, clock) -> AsyncIterator[TestClient]:
    RecordingMailer.sent = []
    async with make_client(tmp_path, clock) as started:
        yield started


async def mailbox(count: int) -> list[Message]:
    """The messages sent, once `count` have left (the outbox sends after the response)."""
    for _ in range(100):
        if len(RecordingMailer.sent) >= count:
            break
        await asyncio.sleep(0.01)
    return RecordingMailer.sent


async def enrol(client: TestClient, clock: ManualClock, tokens: dict) -> tuple[pyotp.TOTP, list[str]]:
    totp = pyotp.TOTP((await client.post('/auth/mfa/totp', headers=bearer(tokens))).json()['secret'])
    confirmed = await client.post(
        '/auth/mfa/totp/confirm', json={'code': totp.at(clock.time())}, headers=bearer(tokens)
    )
    clock.advance(30)
    return totp, confirmed.json()['recovery_codes']


async def test_adding_a_factor_mails_a_notice_with_time_address_and_browser(client, clock):
    await signup(client, email='ann@example.com')
    await enrol(client, clock, await login(client))
    (notice,) = await mailbox(1)
    assert notice.to == 'ann@example.com' and notice.subject == 'A second factor was added'
    assert 'UTC' in notice.text and 'From:' in notice.text and 'Browser:' in notice.text
    assert '/auth/sessions' in notice.text


async def test_regenerating_recovery_codes_mails_a_notice(client, clock):
    await signup(client, email='ann@example.com')
    tokens = await login(client)
    await enrol(client, clock, tokens)
    await client.post('/auth/mfa/recovery-codes', headers=bearer(tokens))
    assert [message.subject for message in await mailbox(2)][-1] == 'New recovery codes were made'


async def test_logging_in_with_a_recovery_code_mails_a_notice(client, clock):
    await signup(client, email='ann@example.com')
    _, codes = await enrol(client, clock, await login(client))
    token = (await client.post('/auth/login', json={'username': 'ann', 'password': PASSWORD})).json()['mfa_token']
    await client.post('/auth/login/mfa', json={'mfa_token': token, 'recovery_code': codes[0]})
    assert [message.subject for message in await mailbox(2)][-1] == 'A recovery code was used'


async def test_removing_a_factor_mails_a_notice(client, clock):
    await signup(client, email='ann@example.com')
    tokens = await login(client)
    totp, _ = await enrol(client, clock, tokens)
    await client.request('DELETE', '/auth/mfa/totp', json={'code': totp.at(clock.time())}, headers=bearer(tokens))
    assert [message.subject for message in await mailbox(2)][-1] == 'A second factor was removed'


async def test_changing_the_password_mails_a_notice(client, clock):
    await signup(client, email='ann@example.com')
    body = {'current_password': PASSWORD, 'new_password': 'another good passphrase'}
    await client.post('/auth/password/change', json=body, headers=bearer(await login(client)))
    assert [message.subject for message in await mailbox(1)] == ['Your password was changed']


async def test_notices_can_be_turned_off(tmp_path, clock):
    RecordingMailer.sent = []
    async with make_client(tmp_path, clock, security_notices=False) as client:
        await signup(client, email='ann@example.com')
        await enrol(client, clock, await login(client))
        await asyncio.sleep(0.05)
    assert RecordingMailer.sent == []


async def test_a_user_without_an_address_gets_no_notice(client, clock):
    await signup(client)
    await enrol(client, clock, await login(client))
    await asyncio.sleep(0.05)
    assert RecordingMailer.sent == []
