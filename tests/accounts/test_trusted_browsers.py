"""Trust this browser (``ACCOUNTS['trust_browser_days']``): a signed cookie skips the code, until the sessions end."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pyotp
import pytest
import pytest_asyncio

from panther_like import Panther
from panther_like.testing import TestClient
from tests.accounts.conftest import PASSWORD, bearer, cookie_value, login, set_cookies, settings_module, signup
from tests.clock import ManualClock

CREDENTIALS = {'username': 'ann', 'password': PASSWORD}


@pytest.fixture
def clock() -> ManualClock:
    behind = ManualClock()
    behind.advance(-1800)  # PyJWT refuses an iat ahead of the real time
    return behind


def make_app(store, clock, **accounts) -> Panther:
    settings = settings_module(store[0], store[1], {'cookies': True, 'trust_browser_days': 30, **accounts})
    settings.JWTConfig = {'life_time': 3600}
    return Panther(configs=settings, clock=clock)


@pytest_asyncio.fixture
async def client(store, clock) -> AsyncIterator[TestClient]:
    async with TestClient(make_app(store, clock)) as started:
        yield started


async def enrolled(client: TestClient, clock: ManualClock) -> pyotp.TOTP:
    await signup(client)
    tokens = await login(client)
    totp = pyotp.TOTP((await client.post('/auth/mfa/totp', headers=bearer(tokens))).json()['secret'])
    await client.post('/auth/mfa/totp/confirm', json={'code': totp.at(clock.time())}, headers=bearer(tokens))
    clock.advance(30)
    return totp


async def trusted_login(client: TestClient, clock: ManualClock, totp: pyotp.TOTP) -> tuple[str, dict]:
    """A second step that asks to trust the browser: the cookie and the tokens."""
    token = (await client.post('/auth/login', json=CREDENTIALS)).json()['mfa_token']
    body = {'mfa_token': token, 'code': totp.at(clock.time()), 'trust_browser': True}
    response = await client.post('/auth/login/mfa', json=body)
    assert response.status_code == 200, response.text
    clock.advance(30)
    return cookie_value(response, 'mfa_trusted'), response.json()


async def login_with(client: TestClient, cookie: str | None) -> int:
    client.http.cookies.clear()
    headers = {'Cookie': f'mfa_trusted={cookie}'} if cookie else {}
    return (await client.post('/auth/login', json=CREDENTIALS, headers=headers)).status_code


async def test_a_trusted_browser_logs_in_with_the_password_alone(client, clock):
    cookie, _ = await trusted_login(client, clock, await enrolled(client, clock))
    assert await login_with(client, cookie) == 200


async def test_the_cookie_is_http_only_strict_and_for_the_login_routes(client, clock):
    totp = await enrolled(client, clock)
    token = (await client.post('/auth/login', json=CREDENTIALS)).json()['mfa_token']
    body = {'mfa_token': token, 'code': totp.at(clock.time()), 'trust_browser': True}
    header = set_cookies(await client.post('/auth/login/mfa', json=body))['mfa_trusted']
    assert 'HttpOnly' in header and 'SameSite=strict' in header.replace('Strict', 'strict')
    assert 'Path=/auth/login' in header


async def test_another_browser_still_needs_the_code(client, clock):
    await trusted_login(client, clock, await enrolled(client, clock))
    assert await login_with(client, None) == 401


async def test_a_tampered_cookie_is_ignored(client, clock):
    cookie, _ = await trusted_login(client, clock, await enrolled(client, clock))
    assert await login_with(client, cookie[:-1] + ('0' if cookie[-1] != '0' else '1')) == 401


async def test_the_trust_expires(client, clock):
    cookie, _ = await trusted_login(client, clock, await enrolled(client, clock))
    clock.advance(30 * 86400 + 1)
    assert await login_with(client, cookie) == 401


async def test_logging_out_everywhere_ends_the_trust(client, clock):
    cookie, tokens = await trusted_login(client, clock, await enrolled(client, clock))
    await client.post('/auth/logout-all', headers=bearer(tokens))
    assert await login_with(client, cookie) == 401


async def test_a_password_change_ends_the_trust(client, clock):
    cookie, _ = await trusted_login(client, clock, await enrolled(client, clock))
    user = await client.app.config.user_model.find_by_username('ann')
    await client.app.services.accounts.change_password(user, PASSWORD)  # the same password, a new version
    assert await login_with(client, cookie) == 401


async def test_trust_is_off_by_default(store, clock):
    async with TestClient(make_app(store, clock, trust_browser_days=0)) as client:
        totp = await enrolled(client, clock)
        token = (await client.post('/auth/login', json=CREDENTIALS)).json()['mfa_token']
        body = {'mfa_token': token, 'code': totp.at(clock.time()), 'trust_browser': True}
        response = await client.post('/auth/login/mfa', json=body)
    assert response.status_code == 200 and 'mfa_trusted' not in set_cookies(response)
