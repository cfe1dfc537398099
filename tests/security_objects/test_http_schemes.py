"""HttpBearer and HttpBasicAuth through uvicorn: strict parsing, challenges, sync and async authenticate."""

from __future__ import annotations

import base64
import socket

import pytest

from tests.security_objects.testapp import SECRET

pytestmark = pytest.mark.server


def basic(raw: bytes) -> dict[str, str]:
    return {'Authorization': 'Basic ' + base64.b64encode(raw).decode()}


def test_bearer_with_the_right_token_is_the_principal(client):
    response = client.get('/bearer', headers={'Authorization': f'Bearer {SECRET}'})
    assert response.status_code == 200
    assert response.json() == {'auth': 'bearer-client'}


def test_bearer_scheme_is_case_insensitive(client):
    assert client.get('/bearer', headers={'Authorization': f'bEaReR {SECRET}'}).status_code == 200


def test_bearer_without_header_is_401_with_a_bare_challenge(client):
    response = client.get('/bearer')
    assert response.status_code == 401
    assert response.headers['content-type'] == 'application/json'
    assert response.headers['www-authenticate'] == 'Bearer realm="api"'
    assert 'detail' in response.json()


def test_bearer_with_a_wrong_token_is_401_invalid_token(client):
    response = client.get('/bearer', headers={'Authorization': 'Bearer nope'})
    assert response.status_code == 401
    assert response.headers['www-authenticate'].startswith('Bearer realm="api", error="invalid_token"')


def raw_status(port: int, path: str, header: bytes) -> int:
    """The status for a request httpx refuses to send (a header value with trailing space)."""
    with socket.create_connection(('127.0.0.1', port), timeout=5) as sock:
        sock.sendall(b'GET ' + path.encode() + b' HTTP/1.1\r\nHost: t\r\n' + header + b'\r\nConnection: close\r\n\r\n')
        return int(sock.recv(1024).split(b' ', 2)[1])


def test_bearer_with_an_empty_token_fails_without_calling_authenticate(client, secured_server):
    before = client.get('/setup/calls').json()['bearer']
    assert raw_status(secured_server.port, '/bearer', b'Authorization: Bearer ') == 401
    assert client.get('/bearer', headers={'Authorization': 'Bearer'}).status_code == 401
    assert client.get('/setup/calls').json()['bearer'] == before


def test_bearer_sent_twice_is_401(client):
    headers = [('Authorization', f'Bearer {SECRET}'), ('Authorization', f'Bearer {SECRET}')]
    assert client.get('/bearer', headers=headers).status_code == 401


def test_a_security_object_class_works_like_its_instance(client):
    assert client.get('/bearer-class', headers={'Authorization': f'Bearer {SECRET}'}).status_code == 200


def test_async_authenticate_is_awaited(client):
    response = client.get('/async-bearer', headers={'Authorization': 'Bearer async-secret'})
    assert response.json() == {'auth': {'token': 'async-secret'}}


def test_basic_accepts_utf8_credentials_with_a_colon_in_the_password(client):
    response = client.get('/basic', headers=basic('admin:pa:ss wörd'.encode()))
    assert response.status_code == 200
    assert response.json() == {'auth': 'admin'}


def test_basic_without_header_challenges_with_its_realm(client):
    response = client.get('/basic')
    assert response.status_code == 401
    assert response.headers['www-authenticate'].startswith('Basic realm="api"')


def test_basic_realm_is_configurable(client):
    assert client.get('/basic-realm').headers['www-authenticate'].startswith('Basic realm="admin area"')


def test_basic_with_wrong_password_is_401(client):
    assert client.get('/basic', headers=basic(b'admin:wrong')).status_code == 401


def test_basic_rejects_base64_that_is_not_strict(client):
    token = base64.b64encode('admin:pa:ss wörd'.encode()).decode()
    for bad in (token.rstrip('='), token[:4] + '!' + token[4:], token + '=='):
        response = client.get('/basic', headers={'Authorization': f'Basic {bad}'})
        assert response.status_code == 401, bad


def test_basic_rejects_credentials_that_are_not_utf8(client):
    assert client.get('/basic', headers=basic(b'admin:\xff\xfe')).status_code == 401


def test_basic_rejects_credentials_without_a_colon(client):
    assert client.get('/basic', headers=basic(b'adminpassword')).status_code == 401


def test_basic_rejects_non_ascii_header_bytes_without_a_500(client):
    response = client.get('/basic', headers={'Authorization': 'Basic \xe9\xe9'.encode('latin-1')})
    assert response.status_code == 401
