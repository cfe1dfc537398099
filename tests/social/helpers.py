"""Steps the social-login tests share: start a sign-in, follow the provider, read what the app answered."""

from __future__ import annotations

import secrets
from urllib.parse import parse_qs, urlsplit

import httpx

from tests.social.provider import authorize


def unique(prefix: str) -> str:
    """A provider account nobody used yet (the provider knows every name; see oidc_provider.mjs)."""
    return f'{prefix}-{secrets.token_hex(4)}'


def start(app: httpx.Client, provider: str = 'op') -> str:
    """The provider URL a click on the button leads to (the app's state cookie is now in `app`)."""
    response = app.get(f'/auth/providers/{provider}/login')
    assert response.status_code == 302, response.text
    return response.headers['location']


def provider_callback(app: httpx.Client, login: str, provider: str = 'op') -> str:
    """Start a sign-in and sign in at the provider as `login`: the callback URL, not followed yet."""
    return authorize(start(app, provider), login, until=str(app.base_url))


def sign_in(app: httpx.Client, login: str, provider: str = 'op') -> httpx.Response:
    """The whole flow; the app's answer to the callback."""
    return app.get(provider_callback(app, login, provider))


def fragment_of(response: httpx.Response) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(response.headers['location']).fragment).items()}


def query_of(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def tokens_for(app: httpx.Client, login: str, provider: str = 'op') -> dict[str, str]:
    """Token mode: sign in and exchange the fragment's code; the pair."""
    answer = sign_in(app, login, provider)
    assert answer.status_code == 302, answer.text
    pair = app.post('/auth/providers/exchange', json={'code': fragment_of(answer)['code']})
    assert pair.status_code == 200, pair.text
    return pair.json()


def local_account(app: httpx.Client, **fields: object) -> dict[str, str]:
    """An account made here (``setup/user``), logged in with its password: its id and bearer header."""
    username = unique('local')
    made = app.post('/setup/user', json={'username': username, 'password': 'a long local password', **fields})
    assert made.status_code == 200, made.text
    login = app.post('/auth/login', json={'username': username, 'password': 'a long local password'})
    assert login.status_code == 200, login.text
    return {'id': made.json()['id'], 'Authorization': f'Bearer {login.json()["access_token"]}'}
