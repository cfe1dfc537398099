"""An app with the account pages on, at ``/auth/ui/``, called in-process through a cookie-keeping client.

`signed_in` gives a client whose browser is signed in through the sign-in page itself.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import pytest_asyncio

from panther_like import Panther
from panther_like.testing import TestClient
from tests.accounts.conftest import PASSWORD, settings_module
from tests.clock import ManualClock

ORIGIN = 'http://testserver'


@pytest.fixture
def clock() -> ManualClock:
    """The app's clock: codes are computed at its time, and a test moves it on instead of sleeping.

    It starts a minute behind: a token it stamps after a test moved it on is still not from the future
    for the JWT library, which checks ``iat`` against the real time.
    """
    clock = ManualClock()
    clock.advance(-60)
    return clock


@pytest.fixture
def make_pages_app(tmp_path, clock) -> Callable[..., Panther]:
    def make(**accounts: Any) -> Panther:
        settings = {'cookies': True, 'pages': True, **accounts}
        configs = settings_module({'path': str(tmp_path / 'pages.sqlite3')}, None, settings)
        return Panther(configs=configs, clock=clock)

    return make


@pytest_asyncio.fixture
async def browser(make_pages_app) -> AsyncIterator[TestClient]:
    async with TestClient(make_pages_app()) as client:
        yield client


def form_csrf(html: str) -> str:
    """The CSRF token a page's first form carries."""
    found = re.search(r'name="csrf" value="([^"]*)"', html)
    assert found, html
    return found.group(1)


async def submit(client: TestClient, page: str, action: str, fields: dict[str, str], **kwargs: Any):
    """Load `page`, then post its form to `action` with `fields` and the token the page gave, as a browser does."""
    shown = await client.get(page)
    assert shown.status_code == 200, shown.text
    data = {'csrf': form_csrf(shown.text), **fields}
    return await client.post(action, data=data, headers={'Origin': ORIGIN}, **kwargs)


async def sign_up_and_in(client: TestClient, username: str = 'ann', password: str = PASSWORD):
    created = await client.post('/auth/signup', json={'username': username, 'password': password})
    assert created.status_code == 201, created.text
    answer = await submit(client, '/auth/ui/login', '/auth/ui/login', {'username': username, 'password': password})
    assert answer.status_code == 303, answer.text
    return answer


@pytest_asyncio.fixture
async def signed_in(browser: TestClient) -> TestClient:
    await sign_up_and_in(browser)
    return browser
