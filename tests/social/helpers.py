"""Steps the social-login tests share: start a sign-in, follow the provider, read what the app answered."""

from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from panther_like.accounts.providers import s256
from tests.social.provider import CLIENT_SECRET, authorize

#: The page a test's software authenticator says it signed for: the one origin the test app's passkeys allow.
PASSKEY_ORIGIN = 'http://localhost:8000'


def unique(prefix: str) -> str:
    """A provider account nobody used yet (the provider knows every name; see oidc_provider.mjs)."""
    return f'{prefix}-{secrets.token_hex(4)}'


#: The secret a token-mode page keeps for ``providers/exchange``; its S256 digest goes to ``login``.
VERIFIER = 'a-page-secret-' + 'x' * 40


def exchange(app: httpx.Client, code: str, verifier: str = VERIFIER) -> httpx.Response:
    return app.post('/auth/providers/exchange', json={'code': code, 'code_verifier': verifier})


def start(app: httpx.Client, provider: str = 'op') -> str:
    """The provider URL a click on the button leads to (the app's state cookie is now in `app`).

    The ``code_challenge`` a token-mode page sends is always sent; cookie mode does not need it.
    """
    response = app.get(f'/auth/providers/{provider}/login', params={'code_challenge': s256(VERIFIER)})
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
    pair = exchange(app, fragment_of(answer)['code'])
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


def provider_tokens(issuer: str, client_id: str, redirect_uri: str, login: str, *, scope: str = 'openid email') -> dict:
    """A client's own code flow at the provider (PKCE, no app in between): the provider's token response."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b'=').decode()
    query = {
        'response_type': 'code',
        'client_id': client_id,
        'redirect_uri': redirect_uri,
        'scope': scope,
        'state': secrets.token_urlsafe(16),
        'nonce': secrets.token_urlsafe(16),
        'code_challenge': challenge,
        'code_challenge_method': 'S256',
    }
    back = authorize(f'{issuer}/auth?{urlencode(query)}', login, until=redirect_uri)
    form = {'grant_type': 'authorization_code', 'code': query_of(back)['code'], 'redirect_uri': redirect_uri}
    answer = httpx.post(f'{issuer}/token', data={**form, 'code_verifier': verifier}, auth=(client_id, CLIENT_SECRET))
    assert answer.status_code == 200, answer.text
    return {**answer.json(), 'nonce': query['nonce']}
