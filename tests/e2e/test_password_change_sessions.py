"""A password change ends every earlier session of the user, on every worker, however it was made.

Through a real uvicorn: on the embedded store with two workers, on
MongoDB, and with Redis (two workers). The password is changed the way an
admin tool does it, from another process (`tests.e2e.admin`):
``user.set_password(...)`` or ``user.update(password=...)``. Within the
revocation bound (``AUTH_CACHE['revocation_ttl']``, at most 1 s), every
worker refuses the access tokens of earlier logins, refresh tokens of
earlier logins get no new pair, and `SessionAuth` sessions are gone; a
login with the new password works at once. ``POST /auth/password/change``
keeps the caller's session and ends every other one, `SessionAuth` ones
included.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from panther_like.crypto.passwords import hash_password
from panther_like.settings.config import MAX_REVOCATION_TTL
from tests.e2e.admin import ExampleUser, as_admin
from tests.e2e.helpers import User, assert_refused, basic, login, new_user
from tests.e2e.server import ExampleServer, launch
from tests.e2e.test_workers import me_on_fresh_connections

pytestmark = pytest.mark.server


@pytest.fixture(scope='module', params=['embedded', 'mongodb', 'redis'])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ExampleServer]:
    mongodb_url = request.getfixturevalue('mongodb_url') if request.param == 'mongodb' else None
    redis_url = request.getfixturevalue('redis_url') if request.param == 'redis' else None
    workers = 1 if request.param == 'mongodb' else 2
    yield from launch(
        tmp_path_factory, f'pwchange_{request.param}', mongodb_url=mongodb_url, redis_url=redis_url, workers=workers
    )


def set_password_elsewhere(server: ExampleServer, user_id: str, new_password: str, *, through: str) -> None:
    async def change(user_model: type[ExampleUser]) -> None:
        user = await user_model.find_one(id=user_id)
        if through == 'set_password':
            await user.set_password(new_password)
        else:
            await user.update(password=hash_password(new_password))

    as_admin(server, change)


def session_cookie(server: ExampleServer, user: User) -> str:
    """A `SessionAuth` session of `user`, started with Basic credentials."""
    with server.client() as client:
        response = client.post('/session/login', headers=basic(user.username, user.password))
        assert response.status_code == 200, response.text
        return response.cookies['sessionid']


def session_me(server: ExampleServer, sessionid: str) -> httpx.Response:
    with server.client() as client:
        return client.get('/session/me', headers={'Cookie': f'sessionid={sessionid}'})


def refresh(server: ExampleServer, refresh_token: str) -> httpx.Response:
    with server.client() as client:
        return client.post('/auth/refresh', json={'refresh_token': refresh_token})


@pytest.mark.parametrize('through', ['set_password', 'update'])
def test_every_access_token_of_before_the_change_is_refused_by_every_worker(
    server: ExampleServer,
    through: str,
) -> None:
    with server.client() as client:
        user = new_user(client, 'pwchange')
        second = login(client, user.username, user.password)
    for token in (user.access_token, second['access_token']):
        me_on_fresh_connections(server, token, expected=200)
    set_password_elsewhere(server, user.id, 'a new password 1', through=through)
    time.sleep(MAX_REVOCATION_TTL)
    for token in (user.access_token, second['access_token']):
        me_on_fresh_connections(server, token, expected=401)


@pytest.mark.parametrize('through', ['set_password', 'update'])
def test_a_refresh_token_of_before_the_change_gets_no_new_pair(server: ExampleServer, through: str) -> None:
    with server.client() as client:
        user = new_user(client, 'pwrefresh')
    rotated = refresh(server, user.refresh_token)  # one refresh before the change: its pair is of the old session
    assert rotated.status_code == 200, rotated.text
    set_password_elsewhere(server, user.id, 'a new password 2', through=through)
    for token in (rotated.json()['refresh_token'], user.refresh_token):
        assert_refused(refresh(server, token), credential=token, challenge=False)


def test_a_session_auth_session_of_before_the_change_is_refused(server: ExampleServer) -> None:
    with server.client() as client:
        user = new_user(client, 'pwsession')
    sessionid = session_cookie(server, user)
    assert session_me(server, sessionid).status_code == 200
    set_password_elsewhere(server, user.id, 'a new password 3', through='set_password')
    response = session_me(server, sessionid)
    assert response.status_code == 401, response.text


def test_a_cookie_session_of_before_the_change_is_refused(server: ExampleServer) -> None:
    with server.client() as client:
        user = new_user(client, 'pwcookie')
        response = client.post('/auth/login', json={'username': user.username, 'password': user.password})
        cookie = response.cookies['access_token']
    me_on_cookie = {'Cookie': f'access_token={cookie}'}
    with server.client() as client:
        assert client.get('/whoami', headers=me_on_cookie).status_code == 200
    set_password_elsewhere(server, user.id, 'a new password 4', through='set_password')
    time.sleep(MAX_REVOCATION_TTL)
    for _ in range(6):  # fresh connections: either worker
        with server.client() as client:
            assert client.get('/whoami', headers=me_on_cookie).status_code == 401


def test_a_login_right_after_the_change_works_with_the_new_password_only(server: ExampleServer) -> None:
    with server.client() as client:
        user = new_user(client, 'pwafter')
    set_password_elsewhere(server, user.id, 'a new password 5', through='set_password')
    with server.client() as client:
        fresh = login(client, user.username, 'a new password 5')
        assert (
            client.post('/auth/login', json={'username': user.username, 'password': user.password}).status_code == 401
        )
    me_on_fresh_connections(server, fresh['access_token'], expected=200)
    time.sleep(MAX_REVOCATION_TTL)
    me_on_fresh_connections(server, fresh['access_token'], expected=200)
    assert refresh(server, fresh['refresh_token']).status_code == 200


def test_the_change_route_keeps_the_callers_session_and_ends_every_other_one(server: ExampleServer) -> None:
    with server.client() as client:
        user = new_user(client, 'pwroute')
        other = login(client, user.username, user.password)
    sessionid = session_cookie(server, user)
    with server.client() as client:
        response = client.post(
            '/auth/password/change',
            headers=user.bearer,
            json={'current_password': user.password, 'new_password': 'a new password 6'},
        )
        assert response.status_code == 200, response.text
        assert response.json()['ended'] == 1
    assert session_me(server, sessionid).status_code == 401
    time.sleep(MAX_REVOCATION_TTL)
    me_on_fresh_connections(server, user.access_token, expected=200)
    me_on_fresh_connections(server, other['access_token'], expected=401)
    assert_refused(refresh(server, other['refresh_token']), credential=other['refresh_token'], challenge=False)
    assert refresh(server, user.refresh_token).status_code == 200
