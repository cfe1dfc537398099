"""Login by e-mail code (``ACCOUNTS['login_by_code']``), in-process on each store."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator

import pyotp
import pytest
import pytest_asyncio

from panther_like import Panther
from panther_like.testing import TestClient
from tests.accounts.conftest import bearer, login, settings_module, signup
from tests.accounts.test_security_notices import RecordingMailer
from tests.clock import ManualClock

CODE = re.compile(r'^    ([A-Z0-9]{8})$', re.MULTILINE)


@pytest.fixture
def clock() -> ManualClock:
    behind = ManualClock()
    behind.advance(-1800)  # PyJWT refuses an iat ahead of the real time
    return behind


def make_app(store, clock, **accounts) -> Panther:
    settings = settings_module(store[0], store[1], {'login_by_code': True, **accounts})
    settings.MAILER = 'tests.accounts.test_security_notices.RecordingMailer'
    settings.JWTConfig = {'life_time': 3600}
    return Panther(configs=settings, clock=clock)


@pytest_asyncio.fixture
async def client(store, clock) -> AsyncIterator[TestClient]:
    RecordingMailer.sent = []
    async with TestClient(make_app(store, clock)) as started:
        await signup(started, email='ann@example.com')
        yield started


async def mailed_code(client: TestClient, email: str = 'ann@example.com') -> str:
    count = len([m for m in RecordingMailer.sent if m.subject == 'Your login code']) + 1
    response = await client.post('/auth/login/code/request', json={'email': email})
    assert response.status_code == 202
    for _ in range(100):
        codes = [m for m in RecordingMailer.sent if m.subject == 'Your login code']
        if len(codes) >= count:
            return CODE.search(codes[-1].text).group(1)
        await asyncio.sleep(0.01)
    raise AssertionError('no code was mailed')


async def test_a_mailed_code_logs_in(client):
    code = await mailed_code(client)
    response = await client.post('/auth/login/code', json={'email': 'ann@example.com', 'code': code})
    assert response.status_code == 200 and response.json()['token_type'] == 'bearer'


async def test_the_code_has_eight_characters_without_look_alikes(client):
    code = await mailed_code(client)
    assert len(code) == 8 and not set(code) & set('01OILU')


async def test_an_unknown_address_gets_the_same_202(client):
    known = await client.post('/auth/login/code/request', json={'email': 'ann@example.com'})
    unknown = await client.post('/auth/login/code/request', json={'email': 'nobody@example.com'})
    assert (known.status_code, known.json()) == (unknown.status_code, unknown.json())


async def test_a_code_works_once(client):
    code = await mailed_code(client)
    first = await client.post('/auth/login/code', json={'email': 'ann@example.com', 'code': code})
    again = await client.post('/auth/login/code', json={'email': 'ann@example.com', 'code': code})
    assert (first.status_code, again.status_code) == (200, 401)


async def test_a_code_expires_after_three_minutes(client, clock):
    code = await mailed_code(client)
    clock.advance(181)
    response = await client.post('/auth/login/code', json={'email': 'ann@example.com', 'code': code})
    assert response.status_code == 401


async def test_a_code_allows_three_tries(client):
    codes = client.app.services.accounts.login_codes
    code = await codes.issue('user-1')
    assert [await codes.verify('user-1', 'AAAAAAAA') for _ in range(3)] == [False] * 3
    assert await codes.verify('user-1', code) is False


async def test_the_third_try_may_be_the_right_one(client):
    codes = client.app.services.accounts.login_codes
    code = await codes.issue('user-1')
    assert [await codes.verify('user-1', attempt) for attempt in ('AAAAAAAA', 'BBBBBBBB', code)] == [False, False, True]


async def test_a_user_with_a_second_factor_still_gets_mfa_required(client, clock):
    tokens = await login(client)
    totp = pyotp.TOTP((await client.post('/auth/mfa/totp', headers=bearer(tokens))).json()['secret'])
    await client.post('/auth/mfa/totp/confirm', json={'code': totp.at(clock.time())}, headers=bearer(tokens))
    code = await mailed_code(client)
    response = await client.post('/auth/login/code', json={'email': 'ann@example.com', 'code': code})
    assert response.status_code == 401 and response.json()['mfa_required'] is True


async def test_a_mailed_code_then_totp_says_otp_and_mfa_never_pwd(client, clock):
    tokens = await login(client)
    totp = pyotp.TOTP((await client.post('/auth/mfa/totp', headers=bearer(tokens))).json()['secret'])
    await client.post('/auth/mfa/totp/confirm', json={'code': totp.at(clock.time())}, headers=bearer(tokens))
    clock.advance(30)
    code = await mailed_code(client)
    first = await client.post('/auth/login/code', json={'email': 'ann@example.com', 'code': code})
    second = await client.post(
        '/auth/login/mfa', json={'mfa_token': first.json()['mfa_token'], 'code': totp.at(clock.time())}
    )
    assert second.status_code == 200, second.text
    claims = client.app.services.login_sessions.codec.decode(second.json()['access_token'], 'access')
    assert claims['amr'] == ['otp', 'mfa']


async def test_login_by_code_is_off_by_default(store, clock):
    async with TestClient(make_app(store, clock, login_by_code=False)) as client:
        response = await client.post('/auth/login/code/request', json={'email': 'ann@example.com'})
    assert response.status_code == 404
