"""Single-use tokens on each store: the embedded one, MongoDB, and the database with its claims in Redis."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import uuid

import pytest

from panther_like import Panther
from panther_like.login_state.one_time_tokens import PASSWORD_RESET, TOKENS_COLLECTION, VERIFY_EMAIL, OneTimeTokens
from panther_like.testing import TestClient
from tests.clock import ManualClock
from tests.servers import fresh_database_url
from tests.settings import settings_module

FIFTEEN_MINUTES = 900.0


def settings_for(param: str, request: pytest.FixtureRequest, tmp_path) -> dict:
    if param == 'mongodb':
        return {'DATABASE': {'url': fresh_database_url(request.getfixturevalue('mongodb_url'))}}
    settings = {'DATABASE': {'path': str(tmp_path / 'one_time.sqlite3')}}
    if param == 'redis':
        settings['REDIS'] = {'url': request.getfixturevalue('redis_url')}
    return settings


@pytest.fixture(params=['embedded', 'mongodb', 'redis'])
def settings(request, tmp_path) -> dict:
    return settings_for(request.param, request, tmp_path)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def app(settings, clock):
    app = Panther(settings_module(**settings), urls={}, clock=clock)
    async with TestClient(app):
        yield app


@pytest.fixture
def store(app) -> OneTimeTokens:
    return app.one_time_tokens


async def test_an_issued_token_grants_its_purpose_to_its_user(store) -> None:
    token = await store.issue('u1', PASSWORD_RESET, binding='hash|ann@example.com', life_time=FIFTEEN_MINUTES)
    grant = await store.find(token, PASSWORD_RESET)
    assert (grant.user_id, grant.purpose) == ('u1', PASSWORD_RESET)
    assert grant.binds('hash|ann@example.com') and not grant.binds('other-hash|ann@example.com')


async def test_the_store_keeps_the_digest_and_never_the_token(app, store) -> None:
    token = await store.issue('u1', VERIFY_EMAIL, binding='ann@example.com', life_time=FIFTEEN_MINUTES)
    [row] = await app.database.collection(TOKENS_COLLECTION).find({'user_id': 'u1'})
    assert row['_id'] == hashlib.sha256(f'{VERIFY_EMAIL}:{token}'.encode()).hexdigest()
    assert token not in repr(row) and 'ann@example.com' not in repr(row)


async def test_a_token_is_43_url_safe_characters_of_256_random_bits(store) -> None:
    tokens = {await store.issue('u1', VERIFY_EMAIL, binding='', life_time=60) for _ in range(5)}
    assert len(tokens) == 5
    assert all(len(token) == 43 and token.replace('-', '').replace('_', '').isalnum() for token in tokens)


async def test_a_spent_token_is_good_once(store) -> None:
    token = await store.issue('u1', PASSWORD_RESET, binding=uuid.uuid4().hex, life_time=FIFTEEN_MINUTES)
    grant = await store.find(token, PASSWORD_RESET)
    assert await store.spend(grant) is True
    assert await store.spend(grant) is False
    assert await store.find(token, PASSWORD_RESET) is None


async def test_of_many_concurrent_spends_exactly_one_wins(store) -> None:
    token = await store.issue('u1', PASSWORD_RESET, binding=uuid.uuid4().hex, life_time=FIFTEEN_MINUTES)
    grant = await store.find(token, PASSWORD_RESET)
    outcomes = await asyncio.gather(*(store.spend(grant) for _ in range(20)))
    assert outcomes.count(True) == 1


async def test_two_apps_on_one_store_spend_a_token_once_between_them(settings, clock, store) -> None:
    """Two workers: their own connections to the same database (and Redis), racing for one token."""
    token = await store.issue('u1', PASSWORD_RESET, binding=uuid.uuid4().hex, life_time=FIFTEEN_MINUTES)
    other = Panther(settings_module(**settings), urls={}, clock=clock)
    async with TestClient(other):
        workers = [store, other.one_time_tokens]
        grants = [await worker.find(token, PASSWORD_RESET) for worker in workers]
        outcomes = await asyncio.gather(
            *(worker.spend(grant) for _ in range(10) for worker, grant in zip(workers, grants, strict=True))
        )
    assert outcomes.count(True) == 1


async def test_of_two_reset_tokens_bound_alike_used_at_once_exactly_one_is_spent(store) -> None:
    """Two links of one user for one password: spending either kills the other in the same atomic claim."""
    user, binding = uuid.uuid4().hex, uuid.uuid4().hex
    tokens = [await store.issue(user, PASSWORD_RESET, binding=binding, life_time=FIFTEEN_MINUTES) for _ in range(2)]
    grants = [await store.find(token, PASSWORD_RESET) for token in tokens]
    outcomes = await asyncio.gather(*(store.spend(grant) for grant in grants for _ in range(5)))
    assert outcomes.count(True) == 1


async def test_reset_tokens_bound_to_different_values_are_spent_independently(store) -> None:
    user = uuid.uuid4().hex
    tokens = [
        await store.issue(user, PASSWORD_RESET, binding=uuid.uuid4().hex, life_time=FIFTEEN_MINUTES) for _ in range(2)
    ]
    grants = [await store.find(token, PASSWORD_RESET) for token in tokens]
    assert [await store.spend(grant) for grant in grants] == [True, True]


async def test_verification_tokens_bound_alike_are_each_good_once(store) -> None:
    user, binding = uuid.uuid4().hex, uuid.uuid4().hex
    tokens = [await store.issue(user, VERIFY_EMAIL, binding=binding, life_time=FIFTEEN_MINUTES) for _ in range(2)]
    grants = [await store.find(token, VERIFY_EMAIL) for token in tokens]
    assert [await store.spend(grant) for grant in grants] == [True, True]


async def test_a_token_expires_after_its_lifetime(store, clock) -> None:
    token = await store.issue('u1', PASSWORD_RESET, binding=uuid.uuid4().hex, life_time=FIFTEEN_MINUTES)
    clock.advance(FIFTEEN_MINUTES - 1)
    assert await store.find(token, PASSWORD_RESET) is not None
    clock.advance(2)
    assert await store.find(token, PASSWORD_RESET) is None


async def test_a_token_of_one_purpose_finds_nothing_for_the_other_and_stays_good(store) -> None:
    token = await store.issue('u1', VERIFY_EMAIL, binding='b', life_time=FIFTEEN_MINUTES)
    assert await store.find(token, PASSWORD_RESET) is None
    assert await store.find(token, VERIFY_EMAIL) is not None


@pytest.mark.parametrize('token', [None, 42, '', 'short', 'x' * 44, 'A' * 42 + '!', 'A' * 42 + '\u00e9', ['a']])
async def test_a_malformed_token_is_refused_before_the_store_is_asked(app, store, token) -> None:
    before = app.database.operations
    assert await store.find(token, PASSWORD_RESET) is None
    assert app.database.operations == before


async def test_a_well_formed_token_that_was_never_issued_finds_nothing(store) -> None:
    assert await store.find(secrets.token_urlsafe(32), PASSWORD_RESET) is None


async def test_issuing_nothing_writes_a_row_that_grants_nothing(app, store) -> None:
    rows = app.database.collection(TOKENS_COLLECTION)
    before = await rows.count({})
    await store.issue_nothing(PASSWORD_RESET, binding='nobody')
    assert await rows.count({}) == before + 1
    assert await rows.count({'until': {'$gt': app.clock.time()}}) == before


async def test_discarding_a_users_tokens_of_one_purpose_leaves_the_rest(store) -> None:
    resets = [await store.issue('u1', PASSWORD_RESET, binding='b', life_time=60) for _ in range(2)]
    verify = await store.issue('u1', VERIFY_EMAIL, binding='b', life_time=60)
    others = await store.issue('u2', PASSWORD_RESET, binding='b', life_time=60)
    assert await store.discard('u1', PASSWORD_RESET) == 2
    assert [await store.find(token, PASSWORD_RESET) for token in resets] == [None, None]
    assert await store.find(verify, VERIFY_EMAIL) is not None
    assert await store.find(others, PASSWORD_RESET) is not None


async def test_an_unknown_purpose_is_a_programming_error(store) -> None:
    with pytest.raises(ValueError, match='purpose'):
        await store.issue('u1', 'login', binding='', life_time=60)
