"""SessionAuth on both stores: cookies, hashed ids at rest, expiry, logout, CSRF, staff and superuser."""

from __future__ import annotations

import asyncio
import hashlib
import time
import uuid

import pytest

from panther_like.db.connection import open_database
from panther_like.security.session import SESSION_COLLECTION

pytestmark = pytest.mark.server


def make_user(http, **flags) -> str:
    username = f'sess_{uuid.uuid4().hex[:10]}'
    http.post('/setup/user', json={'username': username, **flags}).raise_for_status()
    return username


def login(http, username: str, max_age: int = 3600) -> tuple[dict[str, str], list[str]]:
    response = http.post('/setup/session-login', json={'username': username, 'max_age': max_age})
    assert response.status_code == 200, response.text
    set_cookies = response.headers.get_list('set-cookie')
    cookies = dict(item.split(';', 1)[0].split('=', 1) for item in set_cookies)
    return cookies, set_cookies


def cookie_header(cookies: dict[str, str]) -> dict[str, str]:
    return {'Cookie': '; '.join(f'{k}={v}' for k, v in cookies.items())}


@pytest.fixture
def http(session_server):
    with session_server.client() as client:
        yield client


def test_login_sets_an_httponly_secure_samesite_session_cookie(http):
    _, set_cookies = login(http, make_user(http))
    session = next(c for c in set_cookies if c.startswith('sessionid='))
    assert {'HttpOnly', 'Secure', 'SameSite=Lax', 'Path=/'} <= {part.strip() for part in session.split(';')}
    csrf = next(c for c in set_cookies if c.startswith('csrftoken='))
    assert 'HttpOnly' not in csrf  # the page must read it to echo it


def test_session_cookie_authenticates_as_the_user(http):
    username = make_user(http)
    cookies, _ = login(http, username)
    assert http.get('/session', headers=cookie_header(cookies)).json() == {'auth': {'user': username}}


def test_unknown_session_is_401(http):
    assert http.get('/session', headers={'Cookie': 'sessionid=' + 'A' * 43}).status_code == 401


def test_session_ids_are_stored_hashed(http, session_server):
    cookies, _ = login(http, make_user(http))
    session_id = cookies['sessionid']

    async def stored_ids() -> set[str]:
        env = session_server.env
        database = open_database({'url': env.get('SECOBJ_MONGODB_URL'), 'path': env.get('SECOBJ_DB_PATH')})
        await database.connect()
        try:
            return {doc['_id'] for doc in await database.collection(SESSION_COLLECTION).find({})}
        finally:
            await database.close()

    ids = asyncio.run(stored_ids())
    assert session_id not in ids
    assert hashlib.sha256(session_id.encode()).hexdigest() in ids


def test_expired_session_is_401(http):
    cookies, _ = login(http, make_user(http), max_age=1)
    assert http.get('/session', headers=cookie_header(cookies)).status_code == 200
    time.sleep(1.2)
    assert http.get('/session', headers=cookie_header(cookies)).status_code == 401


def test_logout_ends_the_session_and_clears_the_cookies(http):
    cookies, _ = login(http, make_user(http))
    headers = {**cookie_header(cookies), 'X-CSRFToken': cookies['csrftoken']}
    response = http.post('/setup/session-logout', headers=headers)
    assert response.status_code == 200
    assert any(c.startswith('sessionid=;') and 'Max-Age=0' in c for c in response.headers.get_list('set-cookie'))
    assert http.get('/session', headers=cookie_header(cookies)).status_code == 401


def test_unsafe_method_with_a_session_needs_the_csrf_token(http):
    cookies, _ = login(http, make_user(http))
    assert http.post('/session', headers=cookie_header(cookies)).status_code == 403
    headers = {**cookie_header(cookies), 'X-CSRFToken': cookies['csrftoken']}
    assert http.post('/session', headers=headers).status_code == 200


def test_staff_route_refuses_a_plain_user_with_403(http):
    cookies, _ = login(http, make_user(http))
    assert http.get('/staff', headers=cookie_header(cookies)).status_code == 403


def test_staff_route_admits_staff_and_superusers(http):
    for flags in ({'is_staff': True}, {'is_superuser': True}):
        cookies, _ = login(http, make_user(http, **flags))
        assert http.get('/staff', headers=cookie_header(cookies)).status_code == 200, flags


def test_superuser_route_refuses_staff_and_admits_superusers(http):
    staff, _ = login(http, make_user(http, is_staff=True))
    assert http.get('/superuser', headers=cookie_header(staff)).status_code == 403
    superuser, _ = login(http, make_user(http, is_superuser=True))
    assert http.get('/superuser', headers=cookie_header(superuser)).status_code == 200


def test_staff_route_without_a_session_is_401(http):
    assert http.get('/staff').status_code == 401
