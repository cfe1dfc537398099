"""An app that mounts `accounts_urls` at ``/auth/``, on each store, with and without Redis, called in-process.

`make_app(**ACCOUNTS)` builds one with the given ``ACCOUNTS`` setting;
`accounts_client` is a started `TestClient` on the default one (cookies on).
"""

from __future__ import annotations

import types
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import pytest_asyncio

from panther_like import API, BaseUser, Panther
from panther_like.accounts import accounts_urls
from panther_like.testing import TestClient

SECRET_KEY = 'accounts-test-secret-0123456789-abcdefghijkl'
PASSWORD = 'correct horse battery'


class Member(BaseUser):
    email: str | None = None
    nickname: str | None = None

    editable_fields = frozenset({'email', 'nickname', 'username'})

    def allowed_scopes(self) -> frozenset[str]:
        return frozenset({'read:items'}) if self.is_superuser else frozenset()


@API(auth='panther_like.authentications.CookieJWTAuthentication', methods=['GET', 'POST'])
async def cookie_only(request):
    return {'username': request.user.username}


def settings_module(database: dict, redis_url: str | None, accounts: dict[str, Any]) -> types.ModuleType:
    module = types.ModuleType('accounts_test_settings')
    module.SECRET_KEY = SECRET_KEY
    module.URLS = {'auth/': accounts_urls, 'cookie-only': cookie_only}
    module.AUTHENTICATION = 'panther_like.authentications.JWTAuthentication'
    module.USER_MODEL = Member
    module.DATABASE = database
    module.REDIS = {'url': redis_url}
    module.ACCOUNTS = accounts
    module.LOGIN_THROTTLE = {'max_failures': 3, 'max_failures_per_address': 1000, 'window': 300}
    return module


@pytest.fixture(params=['embedded', 'mongodb', 'redis'])
def store(request: pytest.FixtureRequest, tmp_path) -> tuple[dict, str | None]:
    """(DATABASE, REDIS url): the embedded store, MongoDB, and the embedded store with Redis."""
    if request.param == 'mongodb':
        from tests.servers import fresh_database_url

        return {'url': fresh_database_url(request.getfixturevalue('mongodb_url'))}, None
    redis_url = request.getfixturevalue('redis_url') if request.param == 'redis' else None
    if redis_url:  # every test gets its own Redis database content: flush what earlier tests left
        import redis

        redis.Redis.from_url(redis_url).flushdb()
    return {'path': str(tmp_path / 'accounts.sqlite3')}, redis_url


@pytest.fixture
def make_app(store) -> Callable[..., Panther]:
    def make(**accounts: Any) -> Panther:
        return Panther(configs=settings_module(store[0], store[1], accounts))

    return make


@pytest_asyncio.fixture
async def accounts_client(make_app) -> AsyncIterator[TestClient]:
    async with TestClient(make_app(cookies=True)) as client:
        yield client


async def signup(client: TestClient, username: str = 'ann', password: str = PASSWORD, **fields: Any) -> dict:
    response = await client.post('/auth/signup', json={'username': username, 'password': password, **fields})
    assert response.status_code == 201, response.text
    return response.json()


async def login(client: TestClient, username: str = 'ann', password: str = PASSWORD) -> dict:
    response = await client.post('/auth/login', json={'username': username, 'password': password})
    assert response.status_code == 200, response.text
    return response.json()


def bearer(tokens: dict) -> dict[str, str]:
    return {'Authorization': f'Bearer {tokens["access_token"]}'}


def set_cookies(response) -> dict[str, str]:
    """``{name: the whole Set-Cookie value}`` of a response."""
    return {value.split('=', 1)[0]: value for value in response.headers.get_list('set-cookie')}


def cookie_value(response, name: str) -> str:
    return set_cookies(response)[name].split(';', 1)[0].split('=', 1)[1]
