"""A password change ends every session opened with the credential version it replaced.

Through a real uvicorn with two workers, on the embedded store and on MongoDB with Redis. The
password is changed from another process (`tests.e2e.admin`), with ``user.update(password=...)``
and no account service in sight: the only thing that ends the sessions is the user's credential
version, which that write replaces.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from panther_like.crypto.passwords import hash_password
from panther_like.settings.config import MAX_REVOCATION_TTL
from tests.e2e.admin import ExampleUser, as_admin
from tests.e2e.helpers import assert_refused, launch_per_store_layout, new_user
from tests.e2e.server import ExampleServer
from tests.e2e.test_workers import me_on_fresh_connections

pytestmark = pytest.mark.server

RACING_LOGINS = 16
#: What the change may take to reach every worker, and then some.
SETTLED = 2.0


@pytest.fixture(scope='module', params=['embedded', 'mongodb-redis'])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ExampleServer]:
    yield from launch_per_store_layout(request, tmp_path_factory, 'credversion', workers=2)


def refresh(server: ExampleServer, refresh_token: str) -> httpx.Response:
    with server.client() as client:
        return client.post('/auth/refresh', json={'refresh_token': refresh_token})


def test_a_session_opened_with_the_old_credential_version_is_refused_after_an_update_elsewhere(
    server: ExampleServer,
) -> None:
    with server.client() as client:
        user = new_user(client, 'cvold')

    async def open_a_stale_session_then_change(user_model: type[ExampleUser]) -> dict[str, str]:
        stale = await user_model.find_one(id=user.id)  # read before the change: the old credential version
        changed = await user_model.find_one(id=user.id)
        await changed.update(password=hash_password('a new password 7'))
        assert changed.credential_version != stale.credential_version
        return await stale.login()  # a session written after the change, with the version it replaced

    late = as_admin(server, open_a_stale_session_then_change)
    time.sleep(MAX_REVOCATION_TTL)
    for token in (user.access_token, late['access_token']):
        me_on_fresh_connections(server, token, expected=401)
    for token in (user.refresh_token, late['refresh_token']):
        assert_refused(refresh(server, token), credential=token, challenge=False)


def test_no_login_racing_a_password_change_survives_it(server: ExampleServer) -> None:
    with server.client() as client:
        user = new_user(client, 'cvrace')
    won: list[dict[str, str]] = []
    start = threading.Barrier(RACING_LOGINS + 1)

    def log_in_with_the_old_password() -> None:
        start.wait()
        with server.client() as client:
            response = client.post('/auth/login', json={'username': user.username, 'password': user.password})
        if response.status_code == 200:
            won.append(response.json())

    async def change(user_model: type[ExampleUser]) -> None:
        await (await user_model.find_one(id=user.id)).update(password=hash_password('a new password 8'))

    racers = [threading.Thread(target=log_in_with_the_old_password) for _ in range(RACING_LOGINS)]
    for racer in racers:
        racer.start()
    start.wait()
    as_admin(server, change)
    for racer in racers:
        racer.join()
    time.sleep(SETTLED)
    for pair in [*won, {'access_token': user.access_token, 'refresh_token': user.refresh_token}]:
        with server.client() as client:
            response = client.get('/me', headers={'Authorization': f'Bearer {pair["access_token"]}'})
        assert_refused(response, credential=pair['access_token'])
        assert_refused(refresh(server, pair['refresh_token']), credential=pair['refresh_token'], challenge=False)


def test_a_login_with_the_new_password_right_after_the_change_works(server: ExampleServer) -> None:
    with server.client() as client:
        user = new_user(client, 'cvafter')

    async def change(user_model: type[ExampleUser]) -> None:
        await (await user_model.find_one(id=user.id)).update(password=hash_password('a new password 9'))

    as_admin(server, change)
    with server.client() as client:
        response = client.post('/auth/login', json={'username': user.username, 'password': 'a new password 9'})
        assert response.status_code == 200, response.text
    me_on_fresh_connections(server, response.json()['access_token'], expected=200)
