"""Bad input and failing stores on the reset and verification routes: a clear 4xx or a 503, never a 500."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from panther_like.exceptions import StoreUnavailableError
from panther_like.login_state.one_time_tokens import OneTimeTokens
from tests.recovery.setup import address, bearer, build_app, client_from_own_address, forgot, mail_settings, new_user
from tests.servers import ServerUnavailable, start_mongo_wire, unavailable

ROUTES = ('/auth/password/forgot', '/auth/password/reset', '/auth/verify')
TOKEN = 'A' * 43

BAD_BODIES: list[tuple[str, bytes]] = [
    ('broken json', b'{"username": '),
    ('not utf-8', b'\xff\xfe{}'),
    ('a list', b'[]'),
    ('a string', b'"ann"'),
    ('a number', b'42'),
    ('null', b'null'),
    ('empty object', b'{}'),
    ('nested operator', b'{"username": {"$ne": null}, "token": {"$gt": ""}}'),
    ('number fields', b'{"username": 42, "token": 42, "new_password": 42}'),
    ('list fields', b'{"username": ["a"], "token": ["a"], "new_password": ["a"]}'),
    (
        'oversized fields',
        b'{"username": "'
        + b'a' * 5000
        + b'", "token": "'
        + b'a' * 5000
        + b'", "new_password": "'
        + b'a' * 5000
        + b'"}',
    ),
    (
        'unknown field',
        b'{"username": "ann", "token": "' + TOKEN.encode() + b'", "new_password": "long-enough-1",'
        b' "is_superuser": true}',
    ),
    ('both names', b'{"username": "ann", "email": "ann@example.com"}'),
    ('a nul byte', b'{"username": "an\\u0000n", "token": "A\\u0000", "new_password": "x\\u0000"}'),
]


@pytest.fixture
def app(tmp_path, smtp_server):
    return build_app(mail_settings(smtp_server, DATABASE={'path': str(tmp_path / 'faults.sqlite3')}))


@pytest.mark.parametrize('route', ROUTES)
@pytest.mark.parametrize(('case', 'body'), BAD_BODIES, ids=[case for case, _ in BAD_BODIES])
async def test_a_bad_body_is_a_4xx_with_a_reason_never_a_500(client, route: str, case: str, body: bytes):
    response = await client.post(route, content=body, headers={'Content-Type': 'application/json'})
    assert 400 <= response.status_code < 500, (response.status_code, response.text)
    detail = response.json()['detail']
    assert isinstance(detail, str) and detail
    assert 'Traceback' not in response.text


@pytest.mark.parametrize('route', ROUTES)
async def test_a_body_over_the_size_limit_is_a_413(client, route: str):
    body = b'{"token": "' + b'a' * (2 * 1024 * 1024) + b'"}'
    response = await client.post(route, content=body, headers={'Content-Type': 'application/json'})
    assert response.status_code == 413


async def test_a_wrong_type_names_the_field_and_never_echoes_the_value(client):
    response = await client.post('/auth/password/reset', json={'token': TOKEN, 'new_password': ['hunter2-secret']})
    assert response.status_code == 422
    assert 'new_password' in response.json()['detail'] and 'hunter2-secret' not in response.text


# -- stores that fail ----------------------------------------------------------------------------------


class TokenWritesFail:
    """A database whose one-time token collection refuses writes, while users and counters still work.

    An in-process stand-in because a real server cannot fail on cue between the user look-up and the
    token write of one request; everything else in the request runs on the real embedded store.
    """

    def __init__(self, database: Any) -> None:
        self._database = database

    def collection(self, name: str) -> Any:
        collection = self._database.collection(name)
        if name != 'panther_like_one_time_tokens':
            return collection
        return _FailingWrites(collection)


class _FailingWrites:
    def __init__(self, collection: Any) -> None:
        self._collection = collection

    async def insert_one(self, document: dict) -> None:
        raise StoreUnavailableError('embedded store', 'disk I/O error')

    def __getattr__(self, name: str) -> Any:
        return getattr(self._collection, name)


async def test_a_token_that_could_not_be_stored_is_a_503_and_never_mailed(app, client, smtp_server):
    user = await new_user(app)
    app.services = dataclasses.replace(
        app.services, one_time_tokens=OneTimeTokens(TokenWritesFail(app.database), app.revocations)
    )
    response = await forgot(client, username=user.username)
    assert response.status_code == 503 and 'unavailable' in response.json()['detail']
    verify = await client.post('/auth/verify/request', headers=bearer(await user.login()))
    assert verify.status_code == 503
    await app.outbox.drain()
    assert smtp_server.messages(user.email) == []


async def test_mongodb_down_is_a_503_and_no_mail_then_it_recovers(tmp_path, smtp_server):
    try:
        mongodb = start_mongo_wire(tmp_path / 'nx')
    except ServerUnavailable as exc:
        unavailable(str(exc))
    try:
        app = build_app(mail_settings(smtp_server, DATABASE={'url': mongodb.url}))
        async with client_from_own_address(app) as client:
            user = await new_user(app, email=address())
            mongodb.stop()
            for route, body in (
                ('/auth/password/forgot', {'username': user.username}),
                ('/auth/password/reset', {'token': TOKEN, 'new_password': 'long-enough-1'}),
                ('/auth/verify', {'token': TOKEN}),
            ):
                response = await client.post(route, json=body)
                assert response.status_code == 503, (route, response.text)
                assert 'MongoDB' in response.json()['detail']
            await app.outbox.drain()
            assert smtp_server.messages(user.email) == []
            mongodb.start()
            assert (await forgot(client, username=user.username)).status_code == 202
            await app.outbox.drain()
            assert len(smtp_server.wait_for(user.email)) == 1
    finally:
        mongodb.stop()
