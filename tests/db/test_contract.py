"""One behavioural contract, run against both backends over their real transports.

Whatever passes here on the embedded store must pass on MongoDB and the
other way round: the model layer and the token store depend on nothing else.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from types import SimpleNamespace
from urllib.parse import urlsplit, urlunsplit

import pytest

from panther_like.context import bind_app
from panther_like.db import BaseUser, Database, open_database
from panther_like.db.backend import Collection
from panther_like.exceptions import DuplicateKeyError


class User(BaseUser):
    email: str | None = None


def _url_with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f'/{name}', parts.query, parts.fragment))


@pytest.fixture(params=['embedded', 'mongodb'])
async def database(request: pytest.FixtureRequest, tmp_path) -> AsyncIterator[Database]:
    if request.param == 'embedded':
        db = open_database({'path': str(tmp_path / 'store.sqlite3')})
    else:
        url = request.getfixturevalue('mongodb_url')
        db = open_database({'url': _url_with_database(url, f't_{uuid.uuid4().hex}')})
    await db.connect()
    # Models find their store through the app this process serves; these tests exercise the model
    # layer alone, so the stand-in app holds only the real database (no tokens to tell about changes,
    # no sessions for a password change to end).
    async def no_sessions_to_end(user_id: str) -> None: ...

    bind_app(SimpleNamespace(config=None, database=db, tokens=None, login_throttle=None,
                             password_changed=no_sessions_to_end))
    try:
        yield db
    finally:
        bind_app(None)
        await db.close()


@pytest.fixture
def things(database: Database) -> Collection:
    return database.collection('things')


def _id() -> str:
    return uuid.uuid4().hex


# -- backend level ------------------------------------------------------------------------------


async def test_backend_name_is_one_of_the_two(database: Database) -> None:
    assert database.name in {'embedded', 'mongodb'}
    await database.ping()


async def test_insert_then_find_by_id_returns_the_same_document(things: Collection) -> None:
    document = {'_id': _id(), 'name': 'a', 'n': 1, 'f': 1.5, 'ok': True, 'none': None,
                'tags': ['x', 'y'], 'nested': {'k': [1, 2]}}
    await things.insert_one(dict(document))
    assert await things.find_one({'_id': document['_id']}) == document


async def test_find_by_a_field(things: Collection) -> None:
    await things.insert_one({'_id': 'one', 'name': 'a'})
    await things.insert_one({'_id': 'two', 'name': 'b'})
    found = await things.find_one({'name': 'b'})
    assert found is not None and found['_id'] == 'two'
    assert [d['_id'] for d in await things.find({'name': 'a'})] == ['one']


async def test_missing_document_is_none(things: Collection) -> None:
    assert await things.find_one({'_id': 'absent'}) is None
    assert await things.find_one({'name': 'absent'}) is None
    assert await things.find({'name': 'absent'}) == []


async def test_unique_index_violation_raises_duplicate_key_naming_the_field(things: Collection) -> None:
    await things.create_unique_index('slug')
    await things.create_unique_index('slug')  # idempotent
    await things.insert_one({'_id': _id(), 'slug': 'same'})
    with pytest.raises(DuplicateKeyError) as caught:
        await things.insert_one({'_id': _id(), 'slug': 'same'})
    assert caught.value.field == 'slug'
    assert caught.value.status_code == 409
    assert await things.count({'slug': 'same'}) == 1


async def test_duplicate_id_raises_duplicate_key(things: Collection) -> None:
    await things.insert_one({'_id': 'fixed'})
    with pytest.raises(DuplicateKeyError) as caught:
        await things.insert_one({'_id': 'fixed'})
    assert caught.value.field == '_id'


async def test_update_one_sets_fields_and_reports_a_match(things: Collection) -> None:
    await things.insert_one({'_id': 'u', 'a': 1, 'b': 'keep'})
    assert await things.update_one({'_id': 'u'}, {'a': 2, 'c': {'x': 1}}) is True
    assert await things.find_one({'_id': 'u'}) == {'_id': 'u', 'a': 2, 'b': 'keep', 'c': {'x': 1}}
    assert await things.update_one({'_id': 'nope'}, {'a': 3}) is False


async def test_delete_one_removes_one_and_reports_it(things: Collection) -> None:
    await things.insert_one({'_id': 'd1', 'k': 1})
    await things.insert_one({'_id': 'd2', 'k': 1})
    assert await things.delete_one({'k': 1}) is True
    assert await things.count({'k': 1}) == 1
    assert await things.delete_one({'_id': 'absent'}) is False


async def test_delete_many_with_lt_purges_expired_rows(things: Collection) -> None:
    now = time.time()
    for i, offset in enumerate([-30, -10, -0.5, 10, 30]):
        await things.insert_one({'_id': f'e{i}', 'expires_at': now + offset})
    assert await things.delete_many({'expires_at': {'$lt': now}}) == 3
    assert sorted(d['_id'] for d in await things.find({})) == ['e3', 'e4']
    assert await things.delete_many({'expires_at': {'$lt': now}}) == 0


async def test_range_operators_on_numbers(things: Collection) -> None:
    for i in range(6):
        await things.insert_one({'_id': f'r{i}', 'n': i})
    assert await things.count({'n': {'$gt': 3}}) == 2
    assert await things.count({'n': {'$gte': 3}}) == 3
    assert await things.count({'n': {'$lte': 1}}) == 2
    assert await things.count({'n': {'$gte': 1, '$lt': 4}}) == 3


async def test_count_with_and_without_filter(things: Collection) -> None:
    assert await things.count({}) == 0
    for i in range(4):
        await things.insert_one({'_id': f'c{i}', 'even': i % 2 == 0})
    assert await things.count({}) == 4
    assert await things.count({'even': True}) == 2


async def test_find_with_sort_and_limit(things: Collection) -> None:
    for i in [3, 1, 4, 0, 2]:
        await things.insert_one({'_id': f's{i}', 'n': i})
    ascending = await things.find({}, sort=[('n', 1)])
    assert [d['n'] for d in ascending] == [0, 1, 2, 3, 4]
    top_two = await things.find({'n': {'$gte': 1}}, sort=[('n', -1)], limit=2)
    assert [d['_id'] for d in top_two] == ['s4', 's3']


# -- model level --------------------------------------------------------------------------------


async def test_insert_user_stores_a_hash_not_the_raw_password(database: Database) -> None:
    user = await BaseUser.insert_one(username='alice', password='s3cret-pass')
    stored = await database.collection('BaseUser').find_one({'_id': user.id})
    assert stored is not None
    assert stored['password'] != 's3cret-pass'
    assert stored['password'].startswith('$argon2id$')
    assert 's3cret-pass' not in repr(stored)
    assert user.check_password('s3cret-pass')


async def test_find_user_by_id_and_by_username(database: Database) -> None:
    user = await BaseUser.insert_one(username='bob', password='pw')
    assert isinstance(user.id, str) and len(user.id) == 24
    by_id = await BaseUser.find_one(id=user.id)
    by_name = await BaseUser.find_one(username='bob')
    assert by_id == user
    assert by_name == user
    assert await BaseUser.find_one(id='0' * 24) is None
    assert await BaseUser.find_one(username='nobody') is None


async def test_duplicate_username_raises_409(database: Database) -> None:
    await BaseUser.insert_one(username='carol', password='pw')
    with pytest.raises(DuplicateKeyError) as caught:
        await BaseUser.insert_one(username='carol', password='other')
    assert caught.value.status_code == 409
    assert caught.value.field == 'username'
    assert caught.value.detail == 'username already exists'
    assert await BaseUser.count(username='carol') == 1


async def test_set_password_and_check_password(database: Database) -> None:
    user = await BaseUser.insert_one(username='dave', password='first')
    await user.set_password('second')
    assert user.check_password('second')
    assert not user.check_password('first')
    reloaded = await BaseUser.find_one(id=user.id)
    assert reloaded is not None
    assert reloaded.check_password('second')
    assert not reloaded.check_password('')
    assert not reloaded.check_password('wrong')


async def test_check_password_is_false_for_garbage_or_empty_stored_hash(database: Database) -> None:
    no_password = await BaseUser.insert_one(username='erin')
    assert no_password.password == ''
    assert not no_password.check_password('')
    assert not no_password.check_password('anything')
    await database.collection('BaseUser').update_one({'_id': no_password.id}, {'password': 'not-a-hash'})
    garbage = await BaseUser.find_one(id=no_password.id)
    assert garbage is not None and garbage.password == 'not-a-hash'
    assert not garbage.check_password('not-a-hash')
    garbage.password = '$argon2id$v=19$m=1024,t=1,p=1$broken'
    assert not garbage.check_password('x')


async def test_datetimes_round_trip_as_aware_utc(database: Database) -> None:
    created = datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
    user = await BaseUser.insert_one(username='frank', date_created=created)
    stored = await database.collection('BaseUser').find_one({'_id': user.id})
    assert stored is not None and isinstance(stored['date_created'], float)
    reloaded = await BaseUser.find_one(id=user.id)
    assert reloaded is not None
    assert reloaded.date_created == created
    assert reloaded.date_created.utcoffset() == timedelta(0)
    assert reloaded.last_login is None

    # Another zone in, UTC out; update() goes through the same conversion.
    plus_two = timezone(timedelta(hours=2))
    await reloaded.update(last_login=datetime(2025, 1, 1, 12, 0, tzinfo=plus_two))
    again = await BaseUser.find_one(id=user.id)
    assert again is not None and again.last_login is not None
    assert again.last_login == datetime(2025, 1, 1, 10, 0, tzinfo=UTC)
    assert again.last_login.tzinfo is not None and again.last_login.utcoffset() == timedelta(0)


async def test_default_date_created_is_now_in_utc(database: Database) -> None:
    before = datetime.now(UTC)
    user = await BaseUser.insert_one(username='gina')
    reloaded = await BaseUser.find_one(id=user.id)
    assert reloaded is not None
    assert before - timedelta(seconds=1) <= reloaded.date_created <= datetime.now(UTC)
    assert reloaded.date_created.utcoffset() == timedelta(0)


async def test_public_dict_excludes_password(database: Database) -> None:
    user = await BaseUser.insert_one(username='hank', password='pw')
    public = user.public_dict()
    assert 'password' not in public
    assert public['username'] == 'hank' and public['id'] == user.id


async def test_repr_and_str_exclude_the_hash(database: Database) -> None:
    user = await BaseUser.insert_one(username='ivy', password='pw')
    assert user.password.startswith('$argon2')
    assert user.password not in repr(user)
    assert user.password not in str(user)
    assert 'password' not in repr(user)


async def test_user_subclass_stores_in_its_own_collection(database: Database) -> None:
    user = await User.insert_one(username='jack', password='pw', email='jack@example.com')
    assert User.collection_name == 'User'
    assert await database.collection('User').count({'_id': user.id}) == 1
    assert await database.collection('BaseUser').count({}) == 0
    found = await User.find_one(username='jack')
    assert found is not None and found.email == 'jack@example.com'
    assert await BaseUser.find_one(username='jack') is None
    # The unique index exists on the subclass's collection too.
    with pytest.raises(DuplicateKeyError):
        await User.insert_one(username='jack')


async def test_model_update_find_count_and_delete(database: Database) -> None:
    first = await User.insert_one(username='kim', email='a@example.com')
    await User.insert_one(username='lee', email='a@example.com')
    assert await User.count(email='a@example.com') == 2
    assert {u.username for u in await User.find(email='a@example.com')} == {'kim', 'lee'}
    await first.update(email='b@example.com')
    assert first.email == 'b@example.com'
    reloaded = await User.find_one(id=first.id)
    assert reloaded is not None and reloaded.email == 'b@example.com'
    await first.delete()
    assert await User.find_one(id=first.id) is None
    assert await User.count() == 1
