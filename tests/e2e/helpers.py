"""What the end-to-end tests share: launching per store layout, making users, crafting tokens, checking a 401."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
import pytest

from tests.e2e.server import ExampleServer, launch
from tests.servers import fresh_database_url


def launch_per_store_layout(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    name: str,
    **options: Any,
) -> Iterator[ExampleServer]:
    """Body of a fixture parametrized ``['embedded', 'mongodb-redis']``: the example project on that layout.

    ``embedded`` is the SQLite file alone; ``mongodb-redis`` a fresh MongoDB database with the session's
    Redis. `options` go to `launch`.
    """
    mongodb_url = redis_url = None
    if request.param == 'mongodb-redis':
        mongodb_url = fresh_database_url(request.getfixturevalue('mongodb_url'))
        redis_url = request.getfixturevalue('redis_url')
    yield from launch(
        tmp_path_factory, f'{name}_{request.param}', mongodb_url=mongodb_url, redis_url=redis_url, **options
    )


@dataclass
class User:
    id: str
    username: str
    password: str
    access_token: str
    refresh_token: str

    @property
    def bearer(self) -> dict[str, str]:
        return {'Authorization': f'Bearer {self.access_token}'}

    @property
    def credential_version(self) -> str:
        """The ``cv`` claim of the user's tokens: what a token forged for this user must carry to be accepted."""
        cv: str = jwt.decode(self.access_token, options={'verify_signature': False})['cv']
        return cv


def unique_username(prefix: str = 'user') -> str:
    return f'{prefix}_{uuid.uuid4().hex[:12]}'


def signup(client: httpx.Client, prefix: str = 'user') -> tuple[str, str, dict[str, Any]]:
    username, password = unique_username(prefix), f'pw-{uuid.uuid4().hex}'
    response = client.post('/auth/signup', json={'username': username, 'password': password})
    assert response.status_code == 201, response.text
    return username, password, response.json()


def login(client: httpx.Client, username: str, password: str) -> dict[str, str]:
    response = client.post('/auth/login', json={'username': username, 'password': password})
    assert response.status_code == 200, response.text
    return response.json()


def new_user(client: httpx.Client, prefix: str = 'user') -> User:
    """Sign up a user with a unique name and log in once."""
    username, password, body = signup(client, prefix)
    tokens = login(client, username, password)
    return User(body['id'], username, password, tokens['access_token'], tokens['refresh_token'])


def basic(username: str, password: str) -> dict[str, str]:
    """An ``Authorization: Basic`` header (RFC 7617, UTF-8)."""
    return {'Authorization': 'Basic ' + base64.b64encode(f'{username}:{password}'.encode()).decode()}


def claims_for(user_id: str | None, **overrides: Any) -> dict[str, Any]:
    """The claims the framework puts in an access token, valid for an hour unless overridden."""
    now = int(time.time())
    claims: dict[str, Any] = {
        'user_id': user_id,
        'token_type': 'access',
        'iat': now,
        'exp': now + 3600,
        'jti': uuid.uuid4().hex,
        'sid': uuid.uuid4().hex,
    }
    claims.update(overrides)
    return {key: value for key, value in claims.items() if value is not None}


def sign(claims: dict[str, Any], key: str, algorithm: str = 'HS256') -> str:
    return jwt.encode(claims, key, algorithm=algorithm)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b'=').decode()


def b64url_json(value: Any) -> str:
    return b64url(json.dumps(value, separators=(',', ':')).encode())


def b64url_decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + '=' * (-len(segment) % 4))


def unsigned_token(claims: dict[str, Any]) -> str:
    """``alg: none``: header and payload, empty signature."""
    return f'{b64url_json({"alg": "none", "typ": "JWT"})}.{b64url_json(claims)}.'


def with_payload(token: str, **changes: Any) -> str:
    """`token` with its payload edited and its original signature kept."""
    header, payload, signature = token.split('.')
    claims = json.loads(b64url_decode(payload))
    claims.update(changes)
    return f'{header}.{b64url_json(claims)}.{signature}'


def assert_refused(response: httpx.Response, *, credential: str | None = None, challenge: bool = True) -> str:
    """A 401 whose body is only a JSON ``detail`` (the handler did not run); returns the detail."""
    assert response.status_code == 401, (response.status_code, response.text)
    assert response.headers['content-type'].split(';')[0].strip() == 'application/json'
    body = response.json()
    assert isinstance(body, dict) and set(body) == {'detail'}, body
    assert isinstance(body['detail'], str) and body['detail'], body
    if challenge:
        assert response.headers.get('www-authenticate', '').startswith('Bearer'), response.headers
    if credential:
        assert credential not in response.text
        assert credential not in response.headers.get('www-authenticate', '')
    return body['detail']


@contextmanager
def served_by(server: ExampleServer, path: str = '/', *, pid: int, attempts: int = 200) -> Iterator[httpx.Client]:
    """A fresh client whose kept-alive connection is served by worker `pid` (checked with GET `path`)."""
    for _ in range(attempts):
        with server.client() as client:
            response = client.get(path)
            assert response.status_code == 200, response.text
            if server.serving_pid(response) == pid:
                yield client
                return
    raise AssertionError(f'no fresh connection reached worker {pid} in {attempts} attempts')
