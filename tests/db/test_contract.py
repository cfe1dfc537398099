"""One behavioural contract, run against both backends over their real transports.

Whatever passes here on the embedded store must pass on MongoDB and the
other way round: the model layer and the token store depend on nothing else.
"""

from __future__ import annotations

import asyncio
import math
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from panther_like.db import BaseUser, Database, Model, Operators, open_database
from panther_like.db.backend import Collection
from panther_like.db.model import bind_models
from panther_like.db.usernames import InvalidUsername
from panther_like.exceptions import DuplicateKeyError, ValidationAPIError


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

    # Models find their store through their binding; these tests exercise the model layer alone,
    # so it holds only the real database (no login sessions to tell about changes).
    bind_models(db)
    try:
        yield db
    finally:
        bind_models(None)
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
    document = {
        '_id': _id(),
        'name': 'a',
        'n': 1,
        'f': 1.5,
        'ok': True,
        'none': None,
        'tags': ['x', 'y'],
        'nested': {'k': [1, 2]},
    }
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


async def test_duplicate_username_raises_duplicate_key_for_username(database: Database) -> None:
    await BaseUser.insert_one(username='carol', password='pw')
    with pytest.raises(DuplicateKeyError) as caught:
        await BaseUser.insert_one(username='carol', password='other')
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
    await User.insert_one(username='lee', email='c@example.com')  # an address is one account's: unique
    assert await User.count(is_verified=False) == 2
    assert {u.username for u in await User.find(is_verified=False)} == {'kim', 'lee'}
    await first.update(email='b@example.com')
    assert first.email == 'b@example.com'
    reloaded = await User.find_one(id=first.id)
    assert reloaded is not None and reloaded.email == 'b@example.com'
    await first.delete()
    assert await User.find_one(id=first.id) is None
    assert await User.count() == 1


# -- exact round trips --------------------------------------------------------------------------


class Kinds(Model):
    """One field of every kind a model may store."""

    text: str = ''
    number: int = 0
    real: float = 0.0
    flag: bool = False
    nothing: None = None
    maybe: str | None = None
    when: datetime | None = None
    day: date | None = None
    amount: Decimal | None = None
    ident: uuid.UUID | None = None
    items: list[Any] = []
    tree: dict[str, Any] = {}


EVERY_KIND = {
    'text': 'ünïcødé ✓ \U0001d518 — \u05d0',
    'number': 2**63 - 1,
    'real': 0.12345678901234567,
    'flag': True,
    'nothing': None,
    'maybe': None,
    'when': datetime(2024, 5, 6, 7, 8, 9, 123457, tzinfo=UTC),
    'day': date(2024, 2, 29),
    'amount': Decimal('12345678901234567890.123456789'),
    'ident': uuid.UUID('12345678-1234-5678-1234-567812345678'),
    'items': [1, 0.1 + 0.2, 'two', None, True, [3, {'deep': -0.0}]],
    'tree': {'a': {'b': {'c': [1e308, 5e-324, -(2**63)]}}, 'é': 'x'},
}
AWKWARD_FLOATS = [0.12345678901234567, -0.0, 1e308, -1e308, 5e-324, 0.1 + 0.2, 1 / 3, 2.0**53 + 2, 1714979289.1234567]
AWKWARD_DATETIMES = [
    datetime(2024, 5, 6, 7, 8, 9, 123457, tzinfo=UTC),
    datetime(1970, 1, 1, tzinfo=UTC),
    datetime(2099, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    datetime(1950, 6, 1, 0, 0, 0, 1, tzinfo=UTC),
]


def _assert_identical(found: Model, expected: dict[str, Any]) -> None:
    for name, value in expected.items():
        got = getattr(found, name)
        assert got == value and type(got) is type(value), (name, got, value)
        if isinstance(value, float):
            assert math.copysign(1, got) == math.copysign(1, value), name


async def test_every_field_kind_round_trips_exactly_through_insert_one(database: Database) -> None:
    stored = await Kinds.insert_one(**EVERY_KIND)
    found = await Kinds.find_one(id=stored.id)
    assert found is not None
    _assert_identical(found, EVERY_KIND)
    assert found.items[5][1]['deep'] == 0.0 and math.copysign(1, found.items[5][1]['deep']) == -1


async def test_every_field_kind_round_trips_exactly_through_update(database: Database) -> None:
    stored = await Kinds.insert_one()
    await stored.update(**EVERY_KIND)
    found = await Kinds.find_one(id=stored.id)
    assert found is not None
    _assert_identical(found, EVERY_KIND)


@pytest.mark.parametrize('value', AWKWARD_FLOATS, ids=repr)
async def test_a_float_written_by_update_is_the_float_written_by_insert_one(database: Database, value: float) -> None:
    inserted = await Kinds.insert_one(real=value)
    updated = await Kinds.insert_one()
    await updated.update(real=value)
    for document in (inserted, updated):
        found = await Kinds.find_one(id=document.id)
        assert found is not None
        assert found.real == value and math.copysign(1, found.real) == math.copysign(1, value)


@pytest.mark.parametrize('value', AWKWARD_DATETIMES, ids=str)
async def test_a_datetime_written_by_update_is_the_datetime_written_by_insert_one(
    database: Database, value: datetime
) -> None:
    inserted = await Kinds.insert_one(when=value)
    updated = await Kinds.insert_one()
    await updated.update(when=value)
    assert [(await Kinds.find_one(id=d.id)).when for d in (inserted, updated)] == [value, value]


async def test_a_naive_datetime_is_taken_as_utc(database: Database) -> None:
    stored = await Kinds.insert_one(when=datetime(2024, 1, 2, 3, 4, 5, 6))
    found = await Kinds.find_one(id=stored.id)
    assert found is not None and found.when == datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=UTC)


async def test_a_datetime_the_stores_cannot_keep_to_the_microsecond_is_refused(database: Database) -> None:
    with pytest.raises(ValidationAPIError) as caught:
        await Kinds.insert_one(when=datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC))
    assert caught.value.errors[0]['loc'] == ['when']
    assert await Kinds.count() == 0


async def test_backend_update_one_keeps_floats_exactly(things: Collection) -> None:
    await things.insert_one({'_id': 'f', 'x': 1.0, 'kept': {'k': [1, 'two']}, 'name': 'f'})
    for value in AWKWARD_FLOATS:
        await things.update_one({'_id': 'f'}, {'x': value, 'nested': {'x': value}})
        found = await things.find_one({'_id': 'f'})
        assert found is not None and found['x'] == value and found['nested']['x'] == value
        assert math.copysign(1, found['x']) == math.copysign(1, value)
        assert found['kept'] == {'k': [1, 'two']} and found['name'] == 'f'


async def test_backend_update_one_by_another_field_keeps_floats_exactly(things: Collection) -> None:
    await things.insert_one({'_id': 'g', 'name': 'g', 'x': 1.0})
    assert await things.update_one({'name': 'g'}, {'x': 0.1 + 0.2}) is True
    assert await things.find_one({'_id': 'g'}) == {'_id': 'g', 'name': 'g', 'x': 0.1 + 0.2}
    assert await things.update_one({'name': 'absent'}, {'x': 0.1 + 0.2}) is False


async def test_backend_update_one_keeps_unique_indexes(things: Collection) -> None:
    await things.create_unique_index('slug')
    await things.insert_one({'_id': 'a', 'slug': 'one'})
    await things.insert_one({'_id': 'b', 'slug': 'two'})
    with pytest.raises(DuplicateKeyError) as caught:
        await things.update_one({'_id': 'b'}, {'slug': 'one'})
    assert caught.value.field == 'slug'
    assert await things.find_one({'_id': 'b'}) == {'_id': 'b', 'slug': 'two'}


@pytest.mark.parametrize('value', [2**63, -(2**63) - 1, 10**30, float('inf'), float('-inf'), float('nan')], ids=repr)
async def test_numbers_no_store_keeps_exactly_are_refused_alike(things: Collection, value: Any) -> None:
    for write in (things.insert_one({'_id': 'n', 'x': value}), things.insert_one({'_id': 'n', 'x': [{'y': value}]})):
        with pytest.raises(ValidationAPIError) as caught:
            await write
        assert caught.value.status_code == 422
    await things.insert_one({'_id': 'n', 'x': 1})
    with pytest.raises(ValidationAPIError):
        await things.update_one({'_id': 'n'}, {'x': value})
    assert await things.find_one({'_id': 'n'}) == {'_id': 'n', 'x': 1}


# -- model validation and unknown fields ---------------------------------------------------------


async def test_insert_one_with_a_wrong_type_is_a_422_naming_the_field(database: Database) -> None:
    with pytest.raises(ValidationAPIError) as caught:
        await User.insert_one(username='typed', email=123)
    assert caught.value.status_code == 422
    assert caught.value.detail.startswith('Invalid fields of User: email: ')
    assert [error['loc'] for error in caught.value.errors] == [['email']]
    assert await User.count() == 0


async def test_update_with_a_wrong_type_is_a_422_and_changes_nothing(database: Database) -> None:
    user = await User.insert_one(username='typed2', email='a@example.com')
    with pytest.raises(ValidationAPIError) as caught:
        await user.update(email={'no': 'way'})
    assert [error['loc'] for error in caught.value.errors] == [['email']]
    assert user.email == 'a@example.com'
    assert (await User.find_one(id=user.id)).email == 'a@example.com'


async def test_set_password_still_works_after_validation_was_added(database: Database) -> None:
    user = await User.insert_one(username='setpw', password='first one')
    await user.set_password('second one')
    assert (await User.find_one(id=user.id)).check_password('second one')


async def test_insert_one_with_an_unknown_field_is_a_422_listing_the_fields(database: Database) -> None:
    with pytest.raises(ValidationAPIError) as caught:
        await User.insert_one(username='emial', emial='e@example.com')
    assert caught.value.status_code == 422
    assert 'emial' in caught.value.detail and 'email' in caught.value.detail
    assert caught.value.errors[0]['loc'] == ['emial'] and caught.value.errors[0]['type'] == 'extra_forbidden'
    assert await User.count() == 0


async def test_update_with_an_unknown_field_is_a_422(database: Database) -> None:
    user = await User.insert_one(username='emial2')
    with pytest.raises(ValidationAPIError) as caught:
        await user.update(nickname='d')
    assert 'nickname' in caught.value.detail
    assert 'nickname' not in (await database.collection('User').find_one({'_id': user.id}))


async def test_a_filter_on_an_unknown_field_is_refused(database: Database) -> None:
    with pytest.raises(ValidationAPIError) as caught:
        await User.find_one(emial='e@example.com')
    assert 'emial' in caught.value.detail


# -- NUL and control characters ------------------------------------------------------------------

NUL_VALUES = [
    'root\x00pwned',
    '\x00',
    'a\x00',
    {'k': 'v\x00'},
    {'k\x00': 'v'},
    ['ok', 'n\x00'],
    {'deep': [{'deeper': {'x': '\x00'}}]},
]


@pytest.mark.parametrize('value', NUL_VALUES, ids=repr)
async def test_a_nul_anywhere_in_a_document_is_refused_alike(things: Collection, value: Any) -> None:
    with pytest.raises(ValidationAPIError) as caught:
        await things.insert_one({'_id': _id(), 'x': value})
    assert caught.value.errors[0]['loc'][0] == 'x'
    assert '\x00' not in caught.value.detail
    await things.insert_one({'_id': 'kept', 'x': 'clean'})
    with pytest.raises(ValidationAPIError):
        await things.update_one({'_id': 'kept'}, {'x': value})
    assert await things.find({}) == [{'_id': 'kept', 'x': 'clean'}]


async def test_a_nul_in_a_key_of_a_document_is_refused(things: Collection) -> None:
    with pytest.raises(ValidationAPIError):
        await things.insert_one({'_id': 'k', 'a\x00b': 1})
    with pytest.raises(ValidationAPIError):
        await things.insert_one({'_id': 'k\x00'})


@pytest.mark.parametrize('value', ['root', 'root\x00', 'root\x00pwned', {'$gt': 'r\x00'}], ids=repr)
async def test_a_nul_in_a_filter_is_refused_by_every_operation(things: Collection, value: Any) -> None:
    await things.insert_one({'_id': 'r', 'name': 'root'})
    if value == 'root':  # the control: a clean filter finds it
        assert await things.count({'name': value}) == 1
        return
    for operation in (things.find_one, things.find, things.count, things.delete_one, things.delete_many):
        with pytest.raises(ValidationAPIError):
            await operation({'name': value})
    with pytest.raises(ValidationAPIError):
        await things.update_one({'name': value}, {'name': 'changed'})
    with pytest.raises(ValidationAPIError):
        await things.count({'na\x00me': 'root'})
    assert await things.find({}) == [{'_id': 'r', 'name': 'root'}]


async def test_a_username_with_a_nul_cannot_take_the_name_before_it(database: Database) -> None:
    with pytest.raises(InvalidUsername):
        await BaseUser.insert_one(username='root\x00pwned', password='first password')
    root = await BaseUser.insert_one(username='root', password='second password')
    assert (await BaseUser.find_by_username('root')).id == root.id


@pytest.mark.parametrize('value', ['a\x00@example.com', 'a@example.com\x00'], ids=repr)
async def test_a_nul_in_any_user_field_is_refused_on_insert_update_and_lookup(database: Database, value: str) -> None:
    with pytest.raises(ValidationAPIError) as caught:
        await User.insert_one(username='nul1', email=value)
    assert caught.value.errors == [{'loc': ['email'], 'msg': 'must not contain a NUL character', 'type': 'string_nul'}]
    user = await User.insert_one(username='nul2', email='a@example.com')
    with pytest.raises(ValidationAPIError) as caught:
        await user.update(email=value)
    assert caught.value.detail == 'Invalid fields of User: email: must not contain a NUL character'
    with pytest.raises(ValidationAPIError):
        await User.find_one(email=value)
    assert (await User.find_one(id=user.id)).email == 'a@example.com'


async def test_a_nul_in_a_model_filter_names_the_models_field(database: Database) -> None:
    for lookup in (User.find_one(id='a\x00'), User.count(username='root\x00'), User.find(email='x\x00')):
        with pytest.raises(ValidationAPIError) as caught:
            await lookup
        assert caught.value.detail.startswith('Invalid filter of User: ')
        assert caught.value.errors[0]['type'] == 'string_nul' and caught.value.errors[0]['loc'][0] != '_id'


@pytest.mark.parametrize(
    'character',
    ['\x01', '\x1b', '\x7f', '\x85', '\u202e', '\u200b', '\ufeff', '\u2028'],
    ids=lambda c: f'U+{ord(c):04X}',
)
async def test_a_control_or_invisible_character_in_a_name_field_is_refused(database: Database, character: str) -> None:
    with pytest.raises(ValidationAPIError) as caught:
        await User.insert_one(username='ctl', email=f'a{character}@example.com')
    assert caught.value.errors[0]['loc'] == ['email']
    assert character not in caught.value.detail
    with pytest.raises(ValidationAPIError):
        await User.find_one(email=f'a{character}@example.com')
    stored = await Kinds.insert_one(text=f'free text may hold {character}')  # not a name field
    assert (await Kinds.find_one(id=stored.id)).text == f'free text may hold {character}'


# -- operator-shaped values ----------------------------------------------------------------------

OPERATOR_SHAPED = [
    {'$ne': None},
    {'$gt': ''},
    {'$regex': '.*'},
    ['root', 'admin'],
    {'$in': ['root']},
    {},
    {'nested': {'$ne': 1}},
    ('root',),
    {'root'},
]


@pytest.mark.parametrize('value', OPERATOR_SHAPED, ids=repr)
async def test_an_operator_shaped_equality_value_is_refused(database: Database, value: Any) -> None:
    await User.insert_one(username='target', email='t@example.com')
    for lookup in (User.find_one, User.find, User.count):
        with pytest.raises(ValidationAPIError) as caught:
            await lookup(email=value)
        assert caught.value.errors[0]['loc'] == ['email']
        assert 'Operators' in caught.value.detail


async def test_operators_are_used_when_asked_for_explicitly(database: Database) -> None:
    for number in range(6):
        await Kinds.insert_one(number=number, when=datetime(2024, 1, 1 + number, tzinfo=UTC))
    assert await Kinds.count(number=Operators({'$gte': 2, '$lt': 5})) == 3
    assert await Kinds.count(when=Operators({'$lt': datetime(2024, 1, 3, tzinfo=UTC)})) == 2
    assert [k.number for k in await Kinds.find(number=Operators({'$gt': 4}))] == [5]
    assert (await Kinds.find_one(number=Operators({'$lte': 0}))).number == 0


@pytest.mark.parametrize('value', [b'bytes', object(), Kinds], ids=['bytes', 'object', 'class'])
async def test_a_filter_value_no_store_can_compare_is_refused(database: Database, value: Any) -> None:
    with pytest.raises(ValidationAPIError) as caught:
        await Kinds.find_one(text=value)
    assert caught.value.errors[0]['loc'] == ['text'] and caught.value.errors[0]['type'] == 'unsupported_type'


@pytest.mark.parametrize(
    'spec', [{'$ne': 1}, {'$where': 'x'}, {'gt': 1}, {}, {'$gt': {'$ne': 1}}, {'$lt': [1]}], ids=repr
)
async def test_operators_outside_the_supported_set_are_refused(database: Database, spec: dict) -> None:
    with pytest.raises((ValueError, TypeError)):
        await Kinds.count(number=Operators(spec))


async def test_concurrent_float_updates_of_different_fields_all_survive(things: Collection) -> None:
    fields = 'abcdef'
    await things.insert_one({'_id': 'race', **dict.fromkeys(fields, 0.0)})
    for round_ in range(20):
        values = {field: round_ + index / 10 + 0.01 for index, field in enumerate(fields)}
        await asyncio.gather(*(things.update_one({'_id': 'race'}, {field: value}) for field, value in values.items()))
        assert await things.find_one({'_id': 'race'}) == {'_id': 'race', **values}
