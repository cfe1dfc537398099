"""The warm path: a request whose token this worker verified before is answered from memory, never wrongly.

`LoginSessions.remembered` answers without a coroutine when memory alone
can, and None otherwise; None sends the request the full way
(`LoginSessions.authenticate`), where every refusal is made. So each test
here is one reason memory must not answer, and the last ones check that a
route really takes the warm path and still refuses what it must.
"""

from __future__ import annotations

import gc
import json
import logging

import pytest

from panther_like import API, Panther, Request
from panther_like.auth.authentication_classes import BearerJWT, CookieJWTAuthentication, JWTAuthentication
from panther_like.http.request import HTTPConnection
from panther_like.security.http import authorization_credentials, plain_bearer_token
from panther_like.testing import TestClient
from tests.clock import ManualClock
from tests.settings import settings_module

KEY = 'w' * 32 + '0123456789abcdefghijklmnopqrstuv'
LOOK_INTERVAL = 0.5  # AUTH_CACHE['revocation_ttl'] default
LIFE_TIME = 30  # shorter than AUTH_CACHE['user_ttl'] (60 s): a user cached at login outlives the token


@API(auth=True, methods=['GET'])
async def me(request: Request) -> dict:
    return {'username': request.user.username}


@API(auth=True, methods=['POST'])
async def bye(request: Request) -> dict:
    await request.user.logout()
    return {'bye': True}


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def app(tmp_path, clock):
    module = settings_module(
        SECRET_KEY=KEY,
        AUTHENTICATION='panther_like.authentications.JWTAuthentication',
        JWTConfig={'life_time': LIFE_TIME},
        DATABASE={'path': str(tmp_path / 'warm.sqlite3')},
    )
    app = Panther(module, urls={'me': me, 'bye': bye}, clock=clock)
    async with TestClient(app):
        yield app


@pytest.fixture
async def user(app):
    return await app.config.user_model.insert_one(username='ann', password='pw-123456')


@pytest.fixture
async def token(app, user) -> str:
    token = (await user.login())['access_token']
    await app.tokens.authenticate(token)  # verified once: now memory may answer
    return token


# -- when memory answers, and with what --------------------------------------------------------


async def test_a_token_never_verified_here_is_not_remembered(app, user):
    token = (await user.login())['access_token']
    assert app.tokens.remembered(token) is None


async def test_a_verified_token_is_remembered_as_its_users_copy_carrying_its_claims(app, user, token):
    remembered = app.tokens.remembered(token)
    assert remembered.id == user.id
    assert remembered._token_claims['sid']
    assert remembered is not app.tokens.remembered(token)  # each request gets its own copy


async def test_a_remembered_copy_changed_by_a_handler_leaves_the_next_one_as_it_was(app, token):
    app.tokens.remembered(token).username = 'changed'
    assert app.tokens.remembered(token).username == 'ann'


# -- when memory must not answer ---------------------------------------------------------------


async def test_an_expired_token_is_not_remembered(app, user, clock):
    token = (await user.login())['access_token']
    await app.tokens.authenticate(token)
    clock.advance(LIFE_TIME + 1)
    await app.tokens.cache.ensure_session_live('another session', clock.monotonic())  # the look is done again
    assert app.tokens.cache.cached_user(user.id, clock.monotonic()) is not None  # only the expiry is left to say no
    assert app.tokens.remembered(token) is None


async def test_nothing_is_remembered_once_a_look_at_the_change_feed_is_due(app, token, clock):
    clock.advance(LOOK_INTERVAL / 2)  # the look that keeps memory within the revocation bound is due
    assert app.tokens.remembered(token) is None


async def test_a_token_of_a_session_logged_out_is_not_remembered(app, token):
    await (await app.tokens.authenticate(token)).logout()
    assert app.tokens.remembered(token) is None


async def test_a_token_of_a_deactivated_user_is_not_remembered(app, user, token):
    await user.update(is_active=False)
    assert app.tokens.remembered(token) is None


async def test_a_token_issued_before_a_password_change_is_not_remembered(app, user, token):
    await user.set_password('a-new-password-1')
    assert app.tokens.remembered(token) is None


async def test_a_token_whose_credential_version_is_not_the_cached_users_is_not_remembered(app, token):
    claims, deadline = app.tokens.cache.verified[token]
    app.tokens.cache.verified[token] = ({**claims, 'cv': 'another version'}, deadline)
    assert app.tokens.remembered(token) is None


async def test_a_token_of_a_cached_user_who_may_not_log_in_is_not_remembered(app, user, token, clock):
    cached = app.tokens.cache.cached_user(user.id, clock.monotonic())
    object.__setattr__(cached, 'is_active', False)  # as the cached copy would say after a change it was told of
    assert app.tokens.remembered(token) is None


async def test_a_token_of_a_user_no_longer_cached_is_not_remembered(app, user, token):
    app.tokens.cache.user_changed(user.id)
    assert app.tokens.remembered(token) is None


# -- the route ----------------------------------------------------------------------------------


async def test_a_warm_request_is_answered_without_the_token_service(app, token, monkeypatch):
    client = TestClient(app)
    headers = {'Authorization': f'Bearer {token}'}

    async def must_not_be_asked(*args, **kwargs):
        raise AssertionError('a warm request asked the token service')

    monkeypatch.setattr(app.tokens, 'authenticate', must_not_be_asked)
    response = await client.get('/me', headers=headers)
    assert response.status_code == 200
    assert response.json() == {'username': 'ann'}


async def test_a_logged_out_token_is_refused_by_the_route_after_a_warm_request(app, token):
    client = TestClient(app)
    headers = {'Authorization': f'Bearer {token}'}
    assert (await client.get('/me', headers=headers)).status_code == 200
    await (await app.tokens.authenticate(token)).logout()
    response = await client.get('/me', headers=headers)
    assert response.status_code == 401
    assert response.json() == {'detail': 'Token has been revoked'}


async def test_a_repeated_authorization_header_is_refused_even_with_a_remembered_token(app, token):
    client = TestClient(app)
    bearer = f'Bearer {token}'
    response = await client.get('/me', headers=[('Authorization', bearer), ('Authorization', bearer)])
    assert response.status_code == 401
    assert response.json() == {'detail': 'Send exactly one Authorization header'}


async def asgi_get(app: Panther, path: str, token: str) -> int:
    """One GET straight through the ASGI callable (the test client keeps objects of its own alive)."""
    scope = {
        'type': 'http',
        'method': 'GET',
        'path': path,
        'query_string': b'',
        'headers': [(b'authorization', f'Bearer {token}'.encode())],
        'client': ('203.0.113.7', 50000),
    }
    started: list[int] = []

    async def receive() -> dict:
        return {'type': 'http.request', 'body': b'', 'more_body': False}

    async def send(message: dict) -> None:
        if message['type'] == 'http.response.start':
            started.append(message['status'])

    await app(scope, receive, send)
    return started[0]


async def test_a_warm_request_leaves_nothing_for_the_garbage_collector(app, token):
    """The user's copy keeps the request's scope, not the request (which holds the copy): no cycle."""
    assert await asgi_get(app, '/me', token) == 200
    gc.collect()
    gc.disable()
    try:
        for _ in range(20):
            assert await asgi_get(app, '/me', token) == 200
        assert gc.collect() == 0
    finally:
        gc.enable()


async def test_a_logout_from_a_handler_is_audited_with_the_request_it_came_from(app, token, caplog):
    caplog.set_level(logging.INFO, logger='panther_like.audit')
    response = await TestClient(app).post('/bye', headers={'Authorization': f'Bearer {token}', 'User-Agent': 'ua/1'})
    assert response.status_code == 200
    [line] = [json.loads(r.getMessage()) for r in caplog.records if '"logout"' in r.getMessage()]
    assert line['path'] == '/bye' and line['method'] == 'POST'


def test_the_jwt_class_has_the_warm_path():
    assert JWTAuthentication.credential.warm_path() is not None


def test_a_credential_whose_reading_is_its_own_has_no_warm_path():
    class TeamBearer(BearerJWT):
        def get_credential(self, request):
            if request.headers.get('x-team') != 'blue':
                raise self.invalid('Only the blue team')
            return super().get_credential(request)

    assert TeamBearer().warm_path() is None


def test_a_cookie_credential_has_no_warm_path():
    assert CookieJWTAuthentication.credential.warm_path() is None


async def test_a_check_added_to_the_reading_runs_on_warm_requests_too(tmp_path):
    class TeamBearer(BearerJWT):
        def get_credential(self, request):
            if request.headers.get('x-team') != 'blue':
                raise self.invalid('Only the blue team')
            return super().get_credential(request)

    class TeamAuthentication(JWTAuthentication):
        credential = TeamBearer()

    @API(auth=TeamAuthentication, methods=['GET'])
    async def team(request: Request) -> dict:
        return {'username': request.user.username}

    module = settings_module(SECRET_KEY=KEY, DATABASE={'path': str(tmp_path / 'team.sqlite3')})
    app = Panther(module, urls={'team': team})
    async with TestClient(app) as client:
        user = await app.config.user_model.insert_one(username='ann', password='pw-123456')
        token = (await user.login())['access_token']
        bearer = f'Bearer {token}'
        assert (await client.get('/team', headers={'Authorization': bearer, 'X-Team': 'blue'})).status_code == 200
        refused = await client.get('/team', headers={'Authorization': bearer, 'X-Team': 'red'})
    assert refused.status_code == 401
    assert refused.json() == {'detail': 'Only the blue team'}


# -- reading the header the short way ---------------------------------------------------------


def connection(*values: str) -> HTTPConnection:
    headers = [(b'authorization', value.encode('latin-1')) for value in values]
    return HTTPConnection({'type': 'http', 'headers': headers})


def test_the_short_reading_gives_the_token_of_a_lone_bearer_header():
    assert plain_bearer_token(connection('Bearer abc.def.ghi')) == 'abc.def.ghi'


@pytest.mark.parametrize(
    'values',
    [(), ('Bearer a', 'Bearer a'), ('bearer abc',), ('BEARER abc',), ('Basic abc',), ('Bearer',), (' Bearer abc',)],
    ids=['absent', 'repeated', 'lower-case scheme', 'upper-case scheme', 'other scheme', 'no token', 'leading space'],
)
def test_the_short_reading_leaves_anything_unusual_to_the_full_parser(values):
    assert plain_bearer_token(connection(*values)) is None


@pytest.mark.parametrize(
    'value',
    [
        'Bearer abc',
        'Bearer  abc',
        'Bearer abc ',
        'Bearer abc\t',
        'Bearer \tabc',
        'Bearer a b',
        'Bearer a\tb',
        'Bearer ',
        'Bearer abc\x85',
    ],
)
def test_a_token_the_short_reading_could_find_in_the_cache_is_what_the_full_parser_reads(value):
    """The cache holds only what the full parser read: non-empty, no SP, no trailing SP or HTAB."""
    short = plain_bearer_token(connection(value))
    could_be_cached = bool(short) and ' ' not in short and short[-1] not in ' \t'
    if could_be_cached:
        assert authorization_credentials(connection(value), 'bearer') == short
