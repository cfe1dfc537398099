"""Password reset and address verification through a real uvicorn, with the links read from real mail."""

from __future__ import annotations

import re
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.e2e.helpers import assert_refused
from tests.e2e.server import ExampleServer
from tests.mail_server import SMTPServer

pytestmark = pytest.mark.server

LINK = re.compile(r'https://app\.example\.com/(reset|verify)#token=([A-Za-z0-9_-]{43})')


def signup_with_address(client: httpx.Client) -> tuple[str, str, str]:
    username, password = f'mail_{uuid.uuid4().hex[:12]}', f'pw-{uuid.uuid4().hex}'
    email = f'{username}@example.com'
    response = client.post('/auth/signup', json={'username': username, 'password': password, 'email': email})
    assert response.status_code == 201, response.text
    return username, password, email


def login(client: httpx.Client, username: str, password: str) -> httpx.Response:
    return client.post('/auth/login', json={'username': username, 'password': password})


def token_from_mail(smtp_server: SMTPServer, to: str, kind: str, count: int = 1) -> str:
    message = smtp_server.wait_for(to, count=count)[count - 1]
    found = LINK.search(message.get_content())
    assert found is not None and found.group(1) == kind, message.get_content()
    return found.group(2)


def test_a_forgotten_password_is_reset_with_the_link_from_the_mail(
    mailing_server: ExampleServer,
    smtp_server: SMTPServer,
) -> None:
    with mailing_server.client() as client:
        username, password, email = signup_with_address(client)
        old_session = login(client, username, password).json()
        response = client.post('/auth/password/forgot', json={'username': username})
        assert response.status_code == 202, response.text
        token = token_from_mail(smtp_server, email, 'reset')

        reset = client.post('/auth/password/reset', json={'token': token, 'new_password': 'brand-new-password-1'})
        assert reset.status_code == 204, reset.text
        assert login(client, username, 'brand-new-password-1').status_code == 200
        assert login(client, username, password).status_code == 401
        assert_refused(client.get('/me', headers={'Authorization': f'Bearer {old_session["access_token"]}'}))
        again = client.post('/auth/password/reset', json={'token': token, 'new_password': 'another-password-2'})
        assert again.status_code == 400


def test_an_unknown_user_gets_the_same_answer_and_no_mail(
    mailing_server: ExampleServer,
    smtp_server: SMTPServer,
) -> None:
    with mailing_server.client() as client:
        username, _, email = signup_with_address(client)
        known = client.post('/auth/password/forgot', json={'username': username})
        unknown = client.post('/auth/password/forgot', json={'username': f'ghost_{uuid.uuid4().hex[:12]}'})
    assert (known.status_code, known.content) == (unknown.status_code, unknown.content) == (202, known.content)
    assert len(smtp_server.wait_for(email)) == 1


def test_an_address_is_verified_with_the_link_from_the_mail(
    mailing_server: ExampleServer,
    smtp_server: SMTPServer,
) -> None:
    with mailing_server.client() as client:
        username, password, email = signup_with_address(client)
        bearer = {'Authorization': f'Bearer {login(client, username, password).json()["access_token"]}'}
        assert client.post('/auth/verify/request').status_code == 401
        assert client.post('/auth/verify/request', headers=bearer).status_code == 202
        token = token_from_mail(smtp_server, email, 'verify')
        assert client.post('/auth/verify', json={'token': token}, headers=bearer).status_code == 204
        assert client.post('/auth/verify', json={'token': token}, headers=bearer).status_code == 400
        assert client.post('/auth/verify/request', headers=bearer).status_code == 400  # already verified


def test_concurrent_resets_with_one_token_succeed_once(mailing_server: ExampleServer, smtp_server: SMTPServer) -> None:
    with mailing_server.client() as client:
        username, _, email = signup_with_address(client)
        assert client.post('/auth/password/forgot', json={'username': username}).status_code == 202
    token = token_from_mail(smtp_server, email, 'reset')

    def use(index: int) -> int:
        with mailing_server.client() as own:  # one connection each: truly concurrent requests
            body = {'token': token, 'new_password': f'racing-password-{index}'}
            return own.post('/auth/password/reset', json=body).status_code

    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = sorted(pool.map(use, range(6)))
    assert statuses == [204, 400, 400, 400, 400, 400]
