"""Sign up, log in, use, refresh and log out, against the example project under uvicorn, on both backends."""

from __future__ import annotations

import os

import httpx
import pytest

from tests.e2e.helpers import assert_refused, login, new_user, signup
from tests.e2e.server import ExampleServer

pytestmark = pytest.mark.server


def test_server_runs_the_copied_project(example_server: ExampleServer, client: httpx.Client) -> None:
    new_user(client, 'copy')
    assert os.readlink(f'/proc/{example_server.process.pid}/cwd') == str(example_server.directory)
    store_file = example_server.directory / 'example.sqlite3'
    if example_server.name == 'embedded':
        assert store_file.is_file()
    else:
        assert not store_file.exists()


def test_signup_returns_the_user_without_password(client: httpx.Client) -> None:
    username, password, body = signup(client, 'signup')
    assert body['username'] == username
    assert isinstance(body['id'], str) and body['id']
    assert 'password' not in body
    assert password not in str(body)


def test_login_returns_access_and_refresh_tokens(client: httpx.Client) -> None:
    username, password, _ = signup(client, 'login')
    tokens = login(client, username, password)
    assert set(tokens) >= {'access_token', 'refresh_token'}
    assert tokens['access_token'].count('.') == 2 and tokens['refresh_token'].count('.') == 2
    assert tokens['access_token'] != tokens['refresh_token']


def test_login_with_a_wrong_password_is_401(client: httpx.Client) -> None:
    username, _, _ = signup(client, 'wrongpw')
    response = client.post('/auth/login', json={'username': username, 'password': 'not-the-password'})
    assert response.status_code == 401
    assert set(response.json()) == {'detail'}


def test_me_with_bearer_access_token_returns_the_user(client: httpx.Client) -> None:
    user = new_user(client, 'me')
    response = client.get('/me', headers=user.bearer)
    assert response.status_code == 200, response.text
    assert response.json() == {'id': user.id, 'username': user.username}


def test_bearer_scheme_is_case_insensitive(client: httpx.Client) -> None:
    user = new_user(client, 'scheme')
    response = client.get('/me', headers={'Authorization': f'bEaReR {user.access_token}'})
    assert response.status_code == 200, response.text
    assert response.json()['username'] == user.username


def test_user_detail_has_no_password(client: httpx.Client) -> None:
    user = new_user(client, 'detail')
    response = client.get(f'/users/{user.id}/', headers=user.bearer)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body['id'] == user.id and body['username'] == user.username
    assert 'password' not in body
    assert user.password not in response.text
    assert '$argon2' not in response.text


def test_trailing_slash_does_not_matter(client: httpx.Client) -> None:
    user = new_user(client, 'slash')
    for path in (f'/users/{user.id}', f'/users/{user.id}/'):
        response = client.get(path, headers=user.bearer)
        assert response.status_code == 200, (path, response.text)
        assert response.json()['id'] == user.id
    for path in ('/me', '/me/'):
        response = client.get(path, headers=user.bearer)
        assert response.status_code == 200, (path, response.text)
        assert response.json() == {'id': user.id, 'username': user.username}


def test_unknown_user_detail_is_404_json(client: httpx.Client) -> None:
    user = new_user(client, 'nouser')
    response = client.get('/users/ffffffffffffffffffffffff/', headers=user.bearer)
    assert response.status_code == 404
    assert response.headers['content-type'] == 'application/json'
    assert set(response.json()) == {'detail'}


def test_duplicate_signup_is_409_json(client: httpx.Client) -> None:
    username, _, _ = signup(client, 'dup')
    response = client.post('/auth/signup', json={'username': username, 'password': 'another-password'})
    assert response.status_code == 409, response.text
    assert response.headers['content-type'] == 'application/json'
    body = response.json()
    assert set(body) == {'detail'} and isinstance(body['detail'], str) and body['detail']


def test_logout_revokes_the_access_token(client: httpx.Client) -> None:
    user = new_user(client, 'logout')
    response = client.post('/auth/logout', headers=user.bearer)
    assert response.status_code == 200, response.text
    detail = assert_refused(client.get('/me', headers=user.bearer), credential=user.access_token)
    assert 'revoked' in detail.lower()


def test_logout_revokes_the_refresh_token_of_the_same_login(client: httpx.Client) -> None:
    user = new_user(client, 'logoutrefresh')
    assert client.post('/auth/logout', headers=user.bearer).status_code == 200
    response = client.post('/auth/refresh', json={'refresh_token': user.refresh_token})
    assert_refused(response, credential=user.refresh_token, challenge=False)


def test_logout_leaves_other_logins_alone(client: httpx.Client) -> None:
    user = new_user(client, 'otherlogin')
    other = login(client, user.username, user.password)
    assert client.post('/auth/logout', headers=user.bearer).status_code == 200
    response = client.get('/me', headers={'Authorization': f'Bearer {other["access_token"]}'})
    assert response.status_code == 200, response.text


def test_refresh_returns_a_new_pair_that_works(client: httpx.Client) -> None:
    user = new_user(client, 'refresh')
    response = client.post('/auth/refresh', json={'refresh_token': user.refresh_token})
    assert response.status_code == 200, response.text
    pair = response.json()
    assert pair['access_token'] != user.access_token and pair['refresh_token'] != user.refresh_token
    me = client.get('/me', headers={'Authorization': f'Bearer {pair["access_token"]}'})
    assert me.status_code == 200, me.text
    assert me.json() == {'id': user.id, 'username': user.username}
    again = client.post('/auth/refresh', json={'refresh_token': pair['refresh_token']})
    assert again.status_code == 200, again.text


def test_a_refresh_token_reused_after_its_successor_was_used_is_401_and_revokes_the_session(
    client: httpx.Client,
) -> None:
    user = new_user(client, 'reuse')
    pair = client.post('/auth/refresh', json={'refresh_token': user.refresh_token}).json()
    latest = client.post('/auth/refresh', json={'refresh_token': pair['refresh_token']}).json()
    reuse = client.post('/auth/refresh', json={'refresh_token': user.refresh_token})
    assert_refused(reuse, credential=user.refresh_token, challenge=False)
    assert_refused(
        client.get('/me', headers={'Authorization': f'Bearer {latest["access_token"]}'}),
        credential=latest['access_token'],
    )
    assert_refused(
        client.post('/auth/refresh', json={'refresh_token': latest['refresh_token']}),
        credential=latest['refresh_token'],
        challenge=False,
    )


def test_access_token_given_to_refresh_is_401(client: httpx.Client) -> None:
    user = new_user(client, 'accessrefresh')
    response = client.post('/auth/refresh', json={'refresh_token': user.access_token})
    assert_refused(response, credential=user.access_token, challenge=False)
    # The refusal did not spend anything: the real refresh token still works once.
    assert client.post('/auth/refresh', json={'refresh_token': user.refresh_token}).status_code == 200


def test_whoami_accepts_a_bearer_header(client: httpx.Client) -> None:
    user = new_user(client, 'whoamiheader')
    response = client.get('/whoami', headers=user.bearer)
    assert response.status_code == 200, response.text
    assert response.json() == {'username': user.username}


def test_whoami_accepts_only_an_access_token_cookie(client: httpx.Client) -> None:
    user = new_user(client, 'whoamicookie')
    response = client.get('/whoami', headers={'Cookie': f'access_token={user.access_token}'})
    assert response.status_code == 200, response.text
    assert response.json() == {'username': user.username}


def test_whoami_without_credentials_is_401(client: httpx.Client) -> None:
    response = client.get('/whoami')
    assert response.status_code == 401
    assert response.headers['content-type'] == 'application/json'
    assert set(response.json()) == {'detail'}


def test_whoami_with_only_a_refresh_token_cookie_is_401(client: httpx.Client) -> None:
    user = new_user(client, 'whoamirefresh')
    response = client.get('/whoami', headers={'Cookie': f'refresh_token={user.refresh_token}'})
    assert response.status_code == 401
    assert set(response.json()) == {'detail'}
    assert user.refresh_token not in response.text


def test_body_that_is_not_json_is_400(client: httpx.Client) -> None:
    response = client.post('/auth/signup', content=b'{"username": "x", ', headers={'Content-Type': 'application/json'})
    assert response.status_code == 400, response.text
    assert response.headers['content-type'] == 'application/json'
    body = response.json()
    assert set(body) == {'detail'} and body['detail']


def test_unknown_route_is_404_json(client: httpx.Client) -> None:
    response = client.get('/no/such/route')
    assert response.status_code == 404
    assert response.headers['content-type'] == 'application/json'
    assert set(response.json()) == {'detail'}


def test_wrong_method_is_405_before_authentication(client: httpx.Client) -> None:
    response = client.post('/me')
    assert response.status_code == 405, response.text
    assert response.headers['content-type'] == 'application/json'
    assert set(response.json()) == {'detail'}
