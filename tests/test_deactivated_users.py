"""A deactivated user (``is_active=False``) gets in through no credential, on every store.

Each credential type is used once before the deactivation (so a cache that could serve a stale user
has one) and refused with a 401 right after it, in the worker that made the change. "Another worker"
is a second app on the same store, as a second uvicorn worker process is: the refusal there is
immediate for the credentials read from the store on every request (`SessionAuth`, API keys, Basic)
and within ``AUTH_CACHE['revocation_ttl']`` for JWTs (tests/test_auth_cache.py steps that clock).
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
import pytest_asyncio

from panther_like import API, BaseUser, Panther, Request, Response
from panther_like.accounts import accounts_urls
from panther_like.exceptions import AuthenticationAPIError
from panther_like.routing.websocket import GenericWebsocket
from panther_like.security import APIKeyCookie, APIKeyHeader, APIKeyQuery, HttpBasicAuth, SessionAuth
from panther_like.security.session import login_session
from panther_like.testing import TestClient, WebsocketRefused
from tests.settings import settings_module

KEY = 'deactivated-users-secret-0123456789-abcdef'
PASSWORD = 'correct horse battery'


class Person(BaseUser):
    pass


async def person_for_key(key: str) -> Person | None:
    """What a user's ``authenticate`` typically does: the key names a user, returned without more checks."""
    return await Person.find_one(id=key.removeprefix('key-'))


class HeaderKey(APIKeyHeader):
    param_name = 'X-API-Key'

    async def authenticate(self, request, key):
        return await person_for_key(key)


class QueryKey(APIKeyQuery):
    param_name = 'api_key'

    async def authenticate(self, request, key):
        return await person_for_key(key)


class CookieKey(APIKeyCookie):
    param_name = 'api_key'

    async def authenticate(self, request, key):
        return await person_for_key(key)


@dataclass
class KeyRow:
    """A stored API key: the principal holds its user, as many projects' key rows do."""

    name: str
    user: Person


class KeyRowHeader(APIKeyHeader):
    param_name = 'X-Key-Row'

    async def authenticate(self, request, key):
        user = await person_for_key(key)
        return None if user is None else KeyRow('ci', user)


@dataclass
class Machine:
    name: str
    revoked: bool


class MachineKey(APIKeyHeader):
    """A principal that is no user: its own `check_principal` decides."""

    param_name = 'X-Machine'

    def authenticate(self, request, key):
        return Machine(key, revoked=key.startswith('revoked'))

    def check_principal(self, request, principal):
        super().check_principal(request, principal)
        if principal.revoked:
            raise AuthenticationAPIError('This machine key was revoked')


class Basic(HttpBasicAuth):
    async def authenticate(self, request, username, password):
        user = await Person.find_by_username(username)
        return user if user is not None and await user.verify_password(password) else None


async def person_from_header(request):
    """A plain callable ``auth=``: returns the user the header names."""
    key = request.headers.get('x-callable')
    return None if key is None else await person_for_key(key)


def whoami(auth: Any) -> Any:
    @API(auth=auth, methods=['GET'])
    async def endpoint(request: Request):
        principal = request.user
        return {'who': getattr(principal, 'username', None) or getattr(principal, 'name', None)}

    return endpoint


@API(auth=Basic(throttle=False), methods=['POST'])
async def start_session(request: Request):
    response = Response({'detail': 'Logged in'})
    await login_session(response, request.user, secure=False)
    return response


class KeySocket(GenericWebsocket):
    auth = QueryKey()

    async def connect(self):
        await self.accept()
        await self.send({'hello': self.user.username})


class JWTSocket(GenericWebsocket):
    auth = True

    async def connect(self):
        await self.accept()
        await self.send({'hello': self.user.username})


URLS = {
    'auth/': accounts_urls,
    'jwt/header': whoami(True),
    'jwt/query': whoami('panther_like.authentications.QueryParamJWTAuthentication'),
    'jwt/cookie': whoami('panther_like.authentications.CookieJWTAuthentication'),
    'session/login': start_session,
    'session/me': whoami(SessionAuth()),
    'basic/me': whoami(Basic(throttle=False)),
    'key/header': whoami(HeaderKey()),
    'key/query': whoami(QueryKey()),
    'key/cookie': whoami(CookieKey()),
    'key/row': whoami(KeyRowHeader()),
    'key/machine': whoami(MachineKey()),
    'callable/me': whoami(person_from_header),
    'ws/key': KeySocket,
    'ws/jwt': JWTSocket,
}


@pytest.fixture(params=['embedded', 'mongodb', 'redis'])
def store(request: pytest.FixtureRequest, tmp_path) -> dict[str, Any]:
    """DATABASE and REDIS: the embedded store, MongoDB, and the embedded store with Redis."""
    if request.param == 'mongodb':
        from tests.servers import fresh_database_url

        return {'DATABASE': {'url': fresh_database_url(request.getfixturevalue('mongodb_url'))}}
    settings: dict[str, Any] = {'DATABASE': {'path': str(tmp_path / 'deactivated.sqlite3')}}
    if request.param == 'redis':
        import redis

        url = request.getfixturevalue('redis_url')
        redis.Redis.from_url(url).flushdb()
        settings['REDIS'] = {'url': url}
    return settings


def build(store: dict[str, Any]) -> Panther:
    settings = settings_module(
        SECRET_KEY=KEY,
        USER_MODEL=Person,
        AUTHENTICATION='panther_like.authentications.JWTAuthentication',
        WS_AUTHENTICATION='panther_like.authentications.QueryParamJWTAuthentication',
        ACCOUNTS={'cookies': True},
        **store,
    )
    return Panther(settings, urls=URLS)


@pytest_asyncio.fixture
async def client(store) -> AsyncIterator[TestClient]:
    async with TestClient(build(store)) as client:
        yield client


@pytest_asyncio.fixture
async def other_worker(store, client) -> AsyncIterator[TestClient]:
    async with TestClient(build(store)) as other:
        yield other


@pytest_asyncio.fixture
async def person(client) -> Person:
    return await Person.insert_one(username='ann', password=PASSWORD)


async def deactivate(person: Person) -> None:
    """As an admin tool does it: read the user, ``update(is_active=False)``."""
    stored = await Person.find_one(id=person.id)
    assert stored is not None
    await stored.update(is_active=False)


def basic(username: str, password: str) -> dict[str, str]:
    return {'Authorization': 'Basic ' + base64.b64encode(f'{username}:{password}'.encode()).decode()}


async def used_then_refused(client: TestClient, person: Person, url: str, **request: Any) -> None:
    """`url` admits `person` with `request`, then refuses it (401, disabled) once `person` is deactivated."""
    before = await client.get(url, **request)
    assert before.status_code == 200, before.text
    await deactivate(person)
    after = await client.get(url, **request)
    assert after.status_code == 401, after.text
    assert after.json()['detail'] == 'User account is disabled'


# -- in the worker that made the change: at once -----------------------------------------------


async def test_a_bearer_jwt_of_a_deactivated_user_is_refused(client, person):
    token = (await person.login())['access_token']
    await used_then_refused(client, person, '/jwt/header', headers={'Authorization': f'Bearer {token}'})


async def test_a_query_jwt_of_a_deactivated_user_is_refused(client, person):
    token = (await person.login())['access_token']
    await used_then_refused(client, person, '/jwt/query', params={'authorization': token})


async def test_a_cookie_jwt_of_a_deactivated_user_is_refused(client, person):
    token = (await person.login())['access_token']
    await used_then_refused(client, person, '/jwt/cookie', headers={'Cookie': f'access_token={token}'})


async def test_a_refresh_token_of_a_deactivated_user_gets_no_new_pair(client, person):
    refresh = (await person.login())['refresh_token']
    await deactivate(person)
    response = await client.post('/auth/refresh', json={'refresh_token': refresh})
    assert response.status_code == 401, response.text


async def test_a_session_of_a_deactivated_user_is_refused(client, person):
    login = await client.post('/session/login', headers=basic('ann', PASSWORD))
    assert login.status_code == 200, login.text
    cookie = {'Cookie': f'sessionid={login.cookies["sessionid"]}'}
    await used_then_refused(client, person, '/session/me', headers=cookie)


async def test_a_session_of_a_reactivated_user_works_again(client, person):
    login = await client.post('/session/login', headers=basic('ann', PASSWORD))
    cookie = {'Cookie': f'sessionid={login.cookies["sessionid"]}'}
    await deactivate(person)
    await (await Person.find_one(id=person.id)).update(is_active=True)
    assert (await client.get('/session/me', headers=cookie)).status_code == 200


async def test_basic_credentials_of_a_deactivated_user_are_refused(client, person):
    await used_then_refused(client, person, '/basic/me', headers=basic('ann', PASSWORD))


async def test_a_header_api_key_of_a_deactivated_user_is_refused(client, person):
    await used_then_refused(client, person, '/key/header', headers={'X-API-Key': f'key-{person.id}'})


async def test_a_query_api_key_of_a_deactivated_user_is_refused(client, person):
    await used_then_refused(client, person, '/key/query', params={'api_key': f'key-{person.id}'})


async def test_a_cookie_api_key_of_a_deactivated_user_is_refused(client, person):
    await used_then_refused(client, person, '/key/cookie', headers={'Cookie': f'api_key=key-{person.id}'})


async def test_an_api_key_whose_principal_holds_a_deactivated_user_is_refused(client, person):
    await used_then_refused(client, person, '/key/row', headers={'X-Key-Row': f'key-{person.id}'})


async def test_an_auth_callable_returning_a_deactivated_user_is_refused(client, person):
    await used_then_refused(client, person, '/callable/me', headers={'X-Callable': f'key-{person.id}'})


async def test_check_principal_refuses_a_principal_that_is_no_user(client):
    assert (await client.get('/key/machine', headers={'X-Machine': 'builder'})).status_code == 200
    refused = await client.get('/key/machine', headers={'X-Machine': 'revoked-builder'})
    assert refused.status_code == 401
    assert refused.json()['detail'] == 'This machine key was revoked'
    assert refused.headers['www-authenticate'] == 'APIKey'


async def test_a_websocket_handshake_with_an_api_key_of_a_deactivated_user_is_refused(client, person):
    async with client.websocket('/ws/key', params={'api_key': f'key-{person.id}'}) as ws:
        assert await ws.receive_json() == {'hello': 'ann'}
    await deactivate(person)
    with pytest.raises(WebsocketRefused) as refused:
        async with client.websocket('/ws/key', params={'api_key': f'key-{person.id}'}):
            pass
    assert refused.value.code == 1008


async def test_a_websocket_handshake_with_a_jwt_of_a_deactivated_user_is_refused(client, person):
    token = (await person.login())['access_token']
    async with client.websocket('/ws/jwt', params={'authorization': token}) as ws:
        assert await ws.receive_json() == {'hello': 'ann'}
    await deactivate(person)
    with pytest.raises(WebsocketRefused) as refused:
        async with client.websocket('/ws/jwt', params={'authorization': token}):
            pass
    assert refused.value.code == 1008


# -- in another worker ----------------------------------------------------------------------------


async def test_a_session_is_refused_at_once_by_another_worker(client, other_worker, person):
    login = await client.post('/session/login', headers=basic('ann', PASSWORD))
    cookie = {'Cookie': f'sessionid={login.cookies["sessionid"]}'}
    assert (await other_worker.get('/session/me', headers=cookie)).status_code == 200
    await deactivate(person)  # through this worker: the other one has no cached copy to forget
    assert (await other_worker.get('/session/me', headers=cookie)).status_code == 401


async def test_an_api_key_is_refused_at_once_by_another_worker(client, other_worker, person):
    key = {'X-API-Key': f'key-{person.id}'}
    assert (await other_worker.get('/key/header', headers=key)).status_code == 200
    await deactivate(person)
    assert (await other_worker.get('/key/header', headers=key)).status_code == 401
