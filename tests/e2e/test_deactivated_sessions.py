"""A user deactivated from another process is refused by every worker of a running server.

The example project under uvicorn with two workers, on the embedded store and on MongoDB with
Redis. The user is deactivated the way an admin tool does it, from another process
(`tests.e2e.admin`): ``user.update(is_active=False)``. Within the revocation bound (at most 1 s)
every worker refuses the user's access tokens; the `SessionAuth` session and the API key
(``X-API-Key`` and Bearer), whose user is read from the store on every request, at once. (In the
worker that makes the change every credential is refused at once: tests/test_deactivated_users.py.)
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from panther_like.settings.config import MAX_REVOCATION_TTL
from tests.e2e.admin import ExampleUser, as_admin
from tests.e2e.helpers import User, launch_per_store_layout, new_user
from tests.e2e.server import ExampleServer
from tests.e2e.test_password_change_sessions import session_cookie, session_me
from tests.e2e.test_workers import me_on_fresh_connections

pytestmark = pytest.mark.server

FRESH_CONNECTIONS = 6  # each a new TCP connection: either worker may answer


@pytest.fixture(scope='module', params=['embedded', 'mongodb-redis'])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ExampleServer]:
    yield from launch_per_store_layout(request, tmp_path_factory, 'deactivated', workers=2)


def deactivate_elsewhere(server: ExampleServer, user_id: str) -> None:
    async def deactivate(user_model: type[ExampleUser]) -> None:
        user = await user_model.find_one(id=user_id)
        assert user is not None
        await user.update(is_active=False)

    as_admin(server, deactivate)


def api_token(server: ExampleServer, user: User) -> str:
    with server.client() as client:
        response = client.post('/account/api-tokens', headers=user.bearer, json={'name': 'ci'})
        assert response.status_code == 201, response.text
        token: str = response.json()['api_token']
        return token


def machine_me(server: ExampleServer, headers: dict[str, str]) -> list[int]:
    """The status ``machine/me`` answers on fresh connections."""
    statuses = []
    for _ in range(FRESH_CONNECTIONS):
        with server.client() as client:
            statuses.append(client.get('/machine/me', headers=headers).status_code)
    return statuses


def test_a_session_is_refused_by_every_worker_within_the_bound(server: ExampleServer) -> None:
    with server.client() as client:
        user = new_user(client, 'offsession')
    sessionid = session_cookie(server, user)
    assert session_me(server, sessionid).status_code == 200
    deactivate_elsewhere(server, user.id)
    # No wait at all: a session's user is read from the store on every request, by every worker.
    assert [session_me(server, sessionid).status_code for _ in range(FRESH_CONNECTIONS)] == [401] * FRESH_CONNECTIONS


@pytest.mark.parametrize('scheme', ['X-API-Key', 'Bearer'])
def test_an_api_key_is_refused_by_every_worker_within_the_bound(server: ExampleServer, scheme: str) -> None:
    with server.client() as client:
        user = new_user(client, 'offkey')
    token = api_token(server, user)
    headers = {'X-API-Key': token} if scheme == 'X-API-Key' else {'Authorization': f'Bearer {token}'}
    assert machine_me(server, headers) == [200] * FRESH_CONNECTIONS
    deactivate_elsewhere(server, user.id)
    # No wait at all: the key's user is read from the store on every request, by every worker.
    assert machine_me(server, headers) == [401] * FRESH_CONNECTIONS


def test_the_access_tokens_are_refused_by_every_worker_within_the_bound(server: ExampleServer) -> None:
    with server.client() as client:
        user = new_user(client, 'offjwt')
    me_on_fresh_connections(server, user.access_token, expected=200)
    deactivate_elsewhere(server, user.id)
    time.sleep(MAX_REVOCATION_TTL)
    me_on_fresh_connections(server, user.access_token, expected=401)
