"""The account routes of the example project (mounted at /auth/, cookies on) through a real uvicorn.

On the embedded store and MongoDB (`example_server`), and with two workers with revocation in the
store or in Redis (`multiworker_server`): what one worker ends, every worker refuses within the bound.
"""

from __future__ import annotations

import time

import httpx
import pytest

from panther_like.settings.config import MAX_REVOCATION_TTL
from tests.e2e.helpers import assert_refused, new_user, signup, unique_username
from tests.e2e.server import ExampleServer

pytestmark = pytest.mark.server

PASSWORD = 'a long enough passphrase'


def _cookies(response: httpx.Response) -> dict[str, str]:
    return {
        value.split('=', 1)[0]: value.split(';', 1)[0].split('=', 1)[1]
        for value in response.headers.get_list('set-cookie')
    }


def test_lookalike_usernames_are_one_account(client: httpx.Client) -> None:
    name = unique_username('bob')
    assert client.post('/auth/signup', json={'username': name, 'password': PASSWORD}).status_code == 201
    for lookalike in (name.upper(), name.title(), name.replace('b', '\uff42', 1)):
        assert client.post('/auth/signup', json={'username': lookalike, 'password': PASSWORD}).status_code == 409
    for refused in (name + ' ', 'x\u200b' + name, name + '\x00'):
        assert client.post('/auth/signup', json={'username': refused, 'password': PASSWORD}).status_code == 400
    assert client.post('/auth/login', json={'username': name.upper(), 'password': PASSWORD}).status_code == 200


def test_the_oauth2_password_form_logs_in(client: httpx.Client) -> None:
    username, password, _ = signup(client, 'form')
    response = client.post(
        '/auth/login', data={'grant_type': 'password', 'username': username, 'password': password, 'scope': ''}
    )
    assert response.status_code == 200, response.text
    assert response.json()['token_type'] == 'bearer'


def test_a_browser_session_uses_cookies_and_the_csrf_token(client: httpx.Client) -> None:
    username, password, _ = signup(client, 'browser')
    login = client.post('/auth/login', json={'username': username, 'password': password})
    jar = _cookies(login)
    session = f'access_token={jar["access_token"]}; csrftoken={jar["csrftoken"]}'
    assert client.get('/auth/me', headers={'Cookie': session}).json()['username'] == username
    assert client.post('/auth/logout', headers={'Cookie': session}).status_code == 403
    refreshed = client.post(
        '/auth/refresh',
        headers={
            'Cookie': f'refresh_token={jar["refresh_token"]}; csrftoken={jar["csrftoken"]}',
            'X-CSRFToken': jar['csrftoken'],
        },
    )
    assert refreshed.status_code == 200, refreshed.text
    new_session = f'access_token={_cookies(refreshed)["access_token"]}; csrftoken={jar["csrftoken"]}'
    out = client.post('/auth/logout', headers={'Cookie': new_session, 'X-CSRFToken': jar['csrftoken']})
    assert out.status_code == 200 and all(value == '' for value in _cookies(out).values())
    assert client.get('/auth/me', headers={'Cookie': new_session}).status_code == 401


def test_me_and_patch_me(client: httpx.Client) -> None:
    user = new_user(client, 'profile')
    asked = client.patch('/auth/me', headers=user.bearer, json={'email': 'p@example.com'})
    assert asked.status_code == 202, asked.text
    assert asked.json()['pending_email'] == 'p@example.com' and asked.json()['email'] != 'p@example.com'
    refused = client.patch('/auth/me', headers=user.bearer, json={'is_superuser': True})
    assert refused.status_code == 400 and 'is_superuser' in refused.json()['detail']
    assert client.get('/auth/me', headers=user.bearer).json()['is_superuser'] is False


def test_password_change_ends_the_other_sessions(client: httpx.Client) -> None:
    user = new_user(client, 'pwchange')
    other = client.post('/auth/login', json={'username': user.username, 'password': user.password}).json()
    response = client.post(
        '/auth/password/change', headers=user.bearer, json={'current_password': user.password, 'new_password': PASSWORD}
    )
    assert response.status_code == 200 and response.json()['ended'] == 1
    assert client.get('/auth/me', headers=user.bearer).status_code == 200
    assert_refused(client.get('/auth/me', headers={'Authorization': f'Bearer {other["access_token"]}'}))


def test_sessions_list_and_revoke(client: httpx.Client) -> None:
    user = new_user(client, 'devices')
    other = client.post('/auth/login', json={'username': user.username, 'password': user.password}).json()
    listed = client.get('/auth/sessions', headers=user.bearer).json()
    assert [s['current'] for s in listed] == [True, False] and listed[0]['client'] == '127.0.0.1'
    assert client.delete(f'/auth/sessions/{listed[1]["sid"]}', headers=user.bearer).status_code == 204
    assert_refused(client.get('/auth/me', headers={'Authorization': f'Bearer {other["access_token"]}'}))


def test_logout_all_is_honoured_by_every_worker(multiworker_server: ExampleServer) -> None:
    with multiworker_server.client() as client:
        user = new_user(client, 'everywhere')
        second = client.post('/auth/login', json={'username': user.username, 'password': user.password}).json()
        assert client.post('/auth/logout-all', headers=user.bearer).json()['ended'] == 2
    time.sleep(MAX_REVOCATION_TTL)
    for token in (user.access_token, second['access_token']):
        for _ in range(8):  # fresh connections, so both workers answer
            with multiworker_server.client() as client:
                assert_refused(client.get('/me', headers={'Authorization': f'Bearer {token}'}), credential=token)
