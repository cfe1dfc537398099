"""A deactivated account tries every credential it held, through the hostile suite's real uvicorn.

Each account signs up, logs in, starts a `SessionAuth` session, creates a personal API token and
checks that all of them work; an admin tool in another process then sets ``is_active=False``
(`tests.e2e.admin`). From then on every credential is refused, again and again, whatever route
takes it: access tokens in the header and in the cookie, the refresh token, the session cookie,
Basic credentials (throttled and not), the API token as ``X-API-Key`` and as Bearer, and the
websocket handshake (403); a new login is 403. No answer is a 5xx, none reaches a handler.
"""

from __future__ import annotations

import time

import pytest

from panther_like.settings.config import MAX_REVOCATION_TTL
from tests.e2e.admin import ExampleUser, as_admin
from tests.e2e.helpers import basic, unique_username
from tests.e2e.server import ExampleServer
from tests.security.attack import Attacker
from tests.security.test_credential_attacks import PASSWORD, _addresses, from_address, login, sending

pytestmark = pytest.mark.server

CATEGORY = 'credentials.deactivated'
ACCOUNTS = 4
ROUNDS = 3  # each credential is tried this many times after the deactivation


def control(attacker: Attacker, method: str, path: str, **kwargs) -> dict:
    response = attacker.http_request(f'control.{CATEGORY}', method, path, **kwargs)
    assert response.status_code in (200, 201), f'{method} {path}: {response.status_code} {response.text}'
    return response.json() if response.headers.get('content-type', '').startswith('application/json') else {}


def deactivate(server: ExampleServer, username: str) -> None:
    async def work(user_model: type[ExampleUser]) -> None:
        user = await user_model.find_by_username(username)
        assert user is not None
        await user.update(is_active=False)

    as_admin(server, work)


def test_every_credential_of_a_deactivated_account_is_refused(attacker: Attacker, hostile_server: ExampleServer):
    with sending(CATEGORY, ACCOUNTS * ROUNDS * 11):
        for _ in range(ACCOUNTS):
            username = unique_username('off')
            control(
                attacker,
                'POST',
                '/auth/signup',
                headers=from_address(next(_addresses)),
                json={'username': username, 'password': PASSWORD},
            )
            tokens = login(attacker, CATEGORY, username)
            bearer = {'Authorization': f'Bearer {tokens["access_token"]}'}
            session = attacker.http_request(
                f'control.{CATEGORY}',
                'POST',
                '/session/login',
                headers=from_address(next(_addresses), **basic(username, PASSWORD)),
            )
            assert session.status_code == 200, session.text
            sessionid = session.cookies['sessionid']
            api_token = control(attacker, 'POST', '/account/api-tokens', headers=bearer, json={'name': 'ci'})[
                'api_token'
            ]
            attempts = [
                ('GET', '/me', {'headers': bearer}),
                ('GET', '/whoami', {'headers': {'Cookie': f'access_token={tokens["access_token"]}'}}),
                ('GET', '/session/me', {'headers': {'Cookie': f'sessionid={sessionid}'}}),
                ('GET', '/machine/me', {'headers': {'X-API-Key': api_token}}),
                ('GET', '/machine/me', {'headers': {'Authorization': f'Bearer {api_token}'}}),
                ('GET', '/reports', {'headers': {'Authorization': f'Bearer {api_token}'}}),
                ('GET', '/basic/unthrottled', {'headers': basic(username, PASSWORD)}),
            ]
            for method, path, kwargs in attempts:  # every credential works before
                control(attacker, method, path, **kwargs)
            deactivate(hostile_server, username)
            time.sleep(MAX_REVOCATION_TTL)  # the bound for the access tokens other workers had cached
            for _ in range(ROUNDS):
                for method, path, kwargs in attempts:
                    response = attacker.protected(CATEGORY, method, path, **kwargs)
                    assert response.status_code == 401, (path, response.text)
                address = next(_addresses)
                attacker.protected(
                    CATEGORY, 'GET', '/basic/me', headers=from_address(address, **basic(username, PASSWORD))
                )
                refresh = attacker.protected(
                    CATEGORY, 'POST', '/auth/refresh', json={'refresh_token': tokens['refresh_token']}
                )
                assert refresh.status_code == 401, refresh.text
                relogin = attacker.http_request(
                    CATEGORY,
                    'POST',
                    '/auth/login',
                    headers=from_address(next(_addresses)),
                    json={'username': username, 'password': PASSWORD},
                )
                assert relogin.status_code == 403, relogin.text
                status = attacker.websocket_handshake(
                    CATEGORY, f'/ws/echo?authorization={tokens["access_token"]}'.encode()
                )
                assert status == 403
