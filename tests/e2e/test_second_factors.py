"""Second factors through a real uvicorn: the example project on each store, and two workers with Redis."""

from __future__ import annotations

import time

import httpx
import jwt
import pyotp
import pytest

from tests.e2e.helpers import signup

pytestmark = pytest.mark.server


def enrol(client: httpx.Client) -> tuple[str, str, pyotp.TOTP, dict]:
    """A new user with TOTP confirmed (with the previous step's code); its name, password, authenticator, tokens."""
    username, password, _ = signup(client, 'mfa')
    tokens = client.post('/auth/login', json={'username': username, 'password': password}).json()
    bearer = {'Authorization': f'Bearer {tokens["access_token"]}'}
    totp = pyotp.TOTP(client.post('/auth/mfa/totp', headers=bearer).json()['secret'])
    confirmed = client.post('/auth/mfa/totp/confirm', json={'code': totp.at(time.time() - 30)}, headers=bearer)
    assert confirmed.status_code == 200, confirmed.text
    return username, password, totp, tokens


def mfa_token(client: httpx.Client, username: str, password: str) -> str:
    response = client.post('/auth/login', json={'username': username, 'password': password})
    assert response.status_code == 401 and response.json()['mfa_required'] is True, response.text
    assert 'set-cookie' not in response.headers
    return response.json()['mfa_token']


def test_a_login_with_totp_takes_two_steps(client: httpx.Client) -> None:
    username, password, totp, _ = enrol(client)
    token = mfa_token(client, username, password)
    response = client.post('/auth/login/mfa', json={'mfa_token': token, 'code': totp.now()})
    assert response.status_code == 200, response.text
    me = client.get('/auth/me', headers={'Authorization': f'Bearer {response.json()["access_token"]}'})
    assert me.json()['username'] == username


def test_reauthenticate_renews_auth_time_for_the_same_session(client: httpx.Client) -> None:
    username, password, totp, _ = enrol(client)
    tokens = client.post(
        '/auth/login/mfa', json={'mfa_token': mfa_token(client, username, password), 'code': totp.now()}
    )
    old = jwt.decode(tokens.json()['access_token'], options={'verify_signature': False})
    renewed = client.post(
        '/auth/reauthenticate',
        json={'password': password},
        headers={'Authorization': f'Bearer {tokens.json()["access_token"]}'},
    )
    new = jwt.decode(renewed.json()['access_token'], options={'verify_signature': False})
    assert new['sid'] == old['sid'] and new['amr'] == ['pwd'] and new['auth_time'] >= old['auth_time']


def test_a_code_is_good_once_across_workers(multiworker_server) -> None:
    with multiworker_server.client() as client:
        username, password, totp, _ = enrol(client)
        code = totp.now()
        answers = [
            client.post('/auth/login/mfa', json={'mfa_token': mfa_token(client, username, password), 'code': code})
            for _ in range(4)  # new connections: both workers are asked
        ]
    assert sorted(answer.status_code for answer in answers) == [200, 401, 401, 401]


def test_a_recovery_code_is_good_once_across_workers(multiworker_server) -> None:
    with multiworker_server.client() as client:
        username, password, _, tokens = enrol(client)
        bearer = {'Authorization': f'Bearer {tokens["access_token"]}'}
        code = client.post('/auth/mfa/recovery-codes', headers=bearer).json()['recovery_codes'][0]
        answers = [
            client.post(
                '/auth/login/mfa', json={'mfa_token': mfa_token(client, username, password), 'recovery_code': code}
            )
            for _ in range(3)
        ]
    assert sorted(answer.status_code for answer in answers) == [200, 401, 401]
