"""The audit trail: one JSON line per authentication decision, with reason and user id, never a secret.

Run in-process on the example's routes (panther_like.testing), capturing the
``panther_like.audit`` logger. The server-log scan in test_server_log.py
checks the same lines as uvicorn writes them.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator

import pytest

from core.urls import url_routing
from panther_like import Panther
from panther_like.audit import RedactCredentials, redact, register_credential_param
from panther_like.testing import TestClient
from tests.settings import settings_module

SECRET = 'audit-test-secret-key-0123456789-abcdefghijklmnop'


@pytest.fixture
async def client(tmp_path) -> AsyncIterator[TestClient]:
    app = Panther(
        settings_module(
            SECRET_KEY=SECRET,
            URLS=url_routing,
            USER_MODEL='example_app.models.User',
            AUTHENTICATION='panther_like.authentications.JWTAuthentication',
            WS_AUTHENTICATION='panther_like.authentications.QueryParamJWTAuthentication',
            DATABASE={'path': str(tmp_path / 'audit.sqlite3')},
        )
    )
    async with TestClient(app) as http:
        yield http


@pytest.fixture
def audit(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO, logger='panther_like.audit')
    return caplog


def events(caplog: pytest.LogCaptureFixture) -> list[dict]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == 'panther_like.audit']


async def signed_up(client: TestClient, username: str = 'ann', password: str = 'correct horse') -> dict:
    response = await client.post('/auth/signup', json={'username': username, 'password': password})
    assert response.status_code == 201
    return response.json()


async def logged_in(client: TestClient, username: str = 'ann', password: str = 'correct horse') -> dict:
    response = await client.post('/auth/login', json={'username': username, 'password': password})
    assert response.status_code == 200
    return response.json()


async def test_a_login_writes_one_line_with_the_user_id(client, audit) -> None:
    user = await signed_up(client)
    await logged_in(client)
    [line] = [e for e in events(audit) if e['event'] == 'login']
    assert line['user_id'] == user['id']
    assert line['client'] and line['path'] == '/auth/login' and line['method'] == 'POST'


async def test_a_wrong_password_writes_a_login_failure_with_the_user_id(client, audit) -> None:
    user = await signed_up(client)
    await client.post('/auth/login', json={'username': 'ann', 'password': 'wrong'})
    [line] = [e for e in events(audit) if e['event'] == 'login.failure']
    assert line['user_id'] == user['id'] and line['reason']


async def test_an_unknown_username_writes_a_login_failure_without_the_username(client, audit) -> None:
    await client.post('/auth/login', json={'username': 'who-is-this', 'password': 'wrong'})
    [line] = [e for e in events(audit) if e['event'] == 'login.failure']
    assert line['user_id'] is None
    assert 'who-is-this' not in json.dumps(line)


async def test_a_throttled_login_writes_a_throttle_line(client, audit) -> None:
    for _ in range(6):
        await client.post('/auth/login', json={'username': 'ann', 'password': 'wrong'})
    [line] = [e for e in events(audit) if e['event'] == 'login.throttled']
    assert line['retry_after'] >= 1


async def test_a_bad_token_writes_an_authentication_failure_with_its_reason(client, audit) -> None:
    await client.get('/me', headers={'Authorization': 'Bearer not.a.token'})
    [line] = [e for e in events(audit) if e['event'] == 'auth.failure']
    assert line['reason'] == 'Token is malformed'
    assert line['scheme'] == 'JWTAuthentication' and line['path'] == '/me'


async def test_a_revoked_token_failure_names_the_user(client, audit) -> None:
    user = await signed_up(client)
    tokens = await logged_in(client)
    bearer = {'Authorization': f'Bearer {tokens["access_token"]}'}
    assert (await client.post('/auth/logout', headers=bearer)).status_code == 200
    assert (await client.get('/me', headers=bearer)).status_code == 401
    [line] = [e for e in events(audit) if e['event'] == 'auth.failure']
    assert line['user_id'] == user['id'] and 'revoked' in line['reason']


async def test_a_logout_writes_one_line_with_the_user_and_session(client, audit) -> None:
    user = await signed_up(client)
    tokens = await logged_in(client)
    await client.post('/auth/logout', headers={'Authorization': f'Bearer {tokens["access_token"]}'})
    login, logout = [e for e in events(audit) if e['event'] in ('login', 'logout')]
    assert logout['event'] == 'logout' and logout['user_id'] == user['id']
    assert logout['session'] == login['session']


async def test_a_refresh_writes_one_line(client, audit) -> None:
    user = await signed_up(client)
    tokens = await logged_in(client)
    assert (await client.post('/auth/refresh', json={'refresh_token': tokens['refresh_token']})).status_code == 200
    [line] = [e for e in events(audit) if e['event'] == 'refresh']
    assert line['user_id'] == user['id']


async def test_a_reused_refresh_token_writes_a_refresh_failure(client, audit) -> None:
    await signed_up(client)
    tokens = await logged_in(client)
    successor = (await client.post('/auth/refresh', json={'refresh_token': tokens['refresh_token']})).json()
    await client.post('/auth/refresh', json={'refresh_token': successor['refresh_token']})
    await client.post('/auth/refresh', json={'refresh_token': tokens['refresh_token']})
    [line] = [e for e in events(audit) if e['event'] == 'refresh.failure']
    assert 'already used' in line['reason']


async def test_a_refresh_token_presented_again_within_the_window_writes_a_refresh_repeat(client, audit) -> None:
    await signed_up(client)
    tokens = await logged_in(client)
    for _ in range(2):
        await client.post('/auth/refresh', json={'refresh_token': tokens['refresh_token']})
    [line] = [e for e in events(audit) if e['event'] == 'refresh.repeat']
    assert line['session'] and not [e for e in events(audit) if e['event'] == 'refresh.failure']


async def test_no_audit_line_holds_a_token_a_password_or_a_hash(client, audit) -> None:
    await signed_up(client)
    await client.post('/auth/login', json={'username': 'ann', 'password': 'wrong-guess'})
    tokens = await logged_in(client)
    bearer = {'Authorization': f'Bearer {tokens["access_token"]}'}
    pair = (await client.post('/auth/refresh', json={'refresh_token': tokens['refresh_token']})).json()
    await client.get('/me', headers=bearer)
    await client.post('/auth/logout', headers={'Authorization': f'Bearer {pair["access_token"]}'})
    await client.get('/me', headers=bearer)  # the session is over: an authentication failure naming the user
    text = '\n'.join(r.getMessage() for r in audit.records)
    assert len(events(audit)) >= 5
    secrets = [issued[name] for issued in (tokens, pair) for name in ('access_token', 'refresh_token')]
    for secret in (*secrets, 'correct horse', 'wrong-guess', '$argon2'):
        assert secret not in text


async def test_audit_lines_are_one_json_object_each(client, audit) -> None:
    await client.get('/me', headers={'Authorization': 'Bearer "\n{"event": "login"}'})
    for record in audit.records:
        message = record.getMessage()
        assert '\n' not in message
        assert isinstance(json.loads(message), dict)


def test_redaction_masks_credential_query_values() -> None:
    line = '127.0.0.1:1 - "WebSocket /ws/echo?x=1&authorization=abc.def.ghi&y=2" 403'
    assert redact(line) == '127.0.0.1:1 - "WebSocket /ws/echo?x=1&authorization=***&y=2" 403'


@pytest.mark.parametrize(
    'name',
    ['accessToken', 'refreshToken', 'reset_token', 'verification_token', 'otp', 'pwd', 'pass', 'access_key',
     'bearer', 'private_key', 'new_password', 'current_password', 'X-API-Key', 'api%5Fkey', 'idToken', 'SessionId'],
)  # fmt: skip
def test_redaction_masks_every_parameter_named_like_a_credential(name: str) -> None:
    assert redact(f'GET /x?a=1&{name}=s3cr3t&b=2 HTTP/1.1') == f'GET /x?a=1&{name}=***&b=2 HTTP/1.1'


@pytest.mark.parametrize('name', ['page', 'keyword', 'monkey', 'passage', 'q', 'sort_by', 'user_id'])
def test_redaction_keeps_parameters_whose_names_only_resemble_a_credential(name: str) -> None:
    assert redact(f'GET /x?{name}=visible HTTP/1.1') == f'GET /x?{name}=visible HTTP/1.1'


def test_redaction_masks_a_parameter_name_a_project_registers() -> None:
    register_credential_param('X-Tenant-Seal')
    assert redact('GET /x?x_tenant_seal=v HTTP/1.1') == 'GET /x?x_tenant_seal=*** HTTP/1.1'


def test_redaction_masks_anything_shaped_like_a_jwt() -> None:
    assert redact('GET /users/eyJhbGciOi.eyJzdWIi.c2lnbmF0dXJl/ HTTP/1.1') == 'GET /users/***/ HTTP/1.1'


def test_redaction_keeps_uvicorn_access_lines_formatted() -> None:
    from uvicorn.logging import AccessFormatter

    record = logging.LogRecord(
        'uvicorn.access',
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ('127.0.0.1:5', 'GET', '/me?token=eyJa.eyJb.c', '1.1', 401),
        None,
    )
    RedactCredentials().filter(record)
    line = AccessFormatter('%(client_addr)s - "%(request_line)s" %(status_code)s', use_colors=False).format(record)
    assert line == '127.0.0.1:5 - "GET /me?token=*** HTTP/1.1" 401 Unauthorized'
