"""Passkey tests share an app with passkeys on, and the steps of registering and logging in (docs/passkeys.md)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from panther_like import Panther
from panther_like.testing import TestClient
from tests.accounts.conftest import bearer, login, settings_module, signup
from tests.clock import ManualClock
from tests.passkeys_authenticator import SoftAuthenticator

ORIGIN = 'http://localhost:8000'
WEBAUTHN = {'rp_id': 'localhost', 'rp_name': 'Example', 'origins': [ORIGIN]}


@pytest.fixture
def clock() -> ManualClock:
    behind = ManualClock()
    behind.advance(-1800)  # PyJWT refuses an iat ahead of the real time; tests move the clock forward
    return behind


def make_passkey_app(store: tuple[dict, str | None], clock: ManualClock, **accounts: Any) -> Panther:
    settings = settings_module(store[0], store[1], {'webauthn': WEBAUTHN, **accounts})
    settings.JWTConfig = {'life_time': 3600}
    return Panther(configs=settings, clock=clock)


@pytest_asyncio.fixture
async def client(store, clock) -> AsyncIterator[TestClient]:
    async with TestClient(make_passkey_app(store, clock)) as started:
        yield started


async def register(client: TestClient, tokens: dict, device: SoftAuthenticator, name: str | None = None) -> dict:
    """Add a passkey made by `device` to the account of `tokens`; its view."""
    options = await client.post('/auth/passkeys/register/options', headers=bearer(tokens))
    assert options.status_code == 200, options.text
    body: dict[str, Any] = {'credential': device.create(options.json())}
    if name is not None:
        body['name'] = name
    response = await client.post('/auth/passkeys/register', json=body, headers=bearer(tokens))
    assert response.status_code == 201, response.text
    return response.json()


async def login_options(client: TestClient, body: dict | None = None) -> dict:
    response = await client.post('/auth/passkeys/login/options', json=body or {})
    assert response.status_code == 200, response.text
    return response.json()


async def passkey_login(client: TestClient, device: SoftAuthenticator, **bend: Any):
    """A username-less login with `device` (its answer bent by `bend`); the response."""
    credential = device.get(await login_options(client), **bend)
    return await client.post('/auth/passkeys/login', json={'credential': credential})


async def user_with_passkey(
    client: TestClient, username: str = 'ann', device: SoftAuthenticator | None = None
) -> tuple[dict, SoftAuthenticator, dict]:
    """A new user, logged in, with one passkey: their tokens, their authenticator and the passkey's view."""
    await signup(client, username, email=f'{username}@example.com')
    tokens = await login(client, username)
    device = device or SoftAuthenticator(ORIGIN)
    return tokens, device, await register(client, tokens, device)
