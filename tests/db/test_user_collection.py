"""A renamed user model does not silently hide the users, and the user collection is the users' alone.

The first start records the user model and its collection; a later start
whose collection is empty while the recorded one holds users is refused,
naming both ways out (``collection_name``, or ``panther-like
migrate-user-collection``). On the embedded store and on MongoDB.
"""

from __future__ import annotations

import pytest

from panther_like import BaseUser, Panther
from panther_like.cli import main as cli_main
from panther_like.db.user_collection import META_COLLECTION, RECORD, move_users
from panther_like.exceptions import ConfigError
from tests.settings import settings_module

SECRET_KEY = 'user-collection-secret-0123456789-abcdefghij'
PASSWORD = 'correct horse battery'


class User(BaseUser):
    """The model of an earlier version of the project."""


class Member(BaseUser):
    """The same users after the class was renamed."""


class MemberInOldCollection(BaseUser):
    collection_name = 'User'


class SessionsUser(BaseUser):
    collection_name = 'panther_like_login_sessions'


@pytest.fixture(params=['embedded', 'mongodb'])
def database(request: pytest.FixtureRequest, tmp_path) -> dict:
    if request.param == 'mongodb':
        from tests.servers import fresh_database_url

        return {'url': fresh_database_url(request.getfixturevalue('mongodb_url'))}
    return {'path': str(tmp_path / 'users.sqlite3')}


def build(database: dict, model: type[BaseUser]) -> Panther:
    return Panther(settings_module(SECRET_KEY=SECRET_KEY, URLS={}, USER_MODEL=model, DATABASE=database))


async def start_with_a_user(database: dict, model: type[BaseUser] = User) -> None:
    app = build(database, model)
    await app.startup()
    try:
        await model.insert_one(username='ann', password=PASSWORD)
    finally:
        await app.shutdown()


async def refusal(database: dict, model: type[BaseUser]) -> ConfigError:
    app = build(database, model)
    try:
        with pytest.raises(ConfigError) as info:
            await app.startup()
    finally:
        await app.shutdown()
    return info.value


async def test_a_renamed_user_model_is_refused_at_start_while_the_old_collection_holds_users(database):
    await start_with_a_user(database)
    error = await refusal(database, Member)
    assert error.setting == 'USER_MODEL' and "'User'" in error.reason and "'Member'" in error.reason


async def test_the_refusal_names_both_ways_to_migrate(database):
    await start_with_a_user(database)
    error = await refusal(database, Member)
    assert "collection_name = 'User'" in error.reason
    assert 'panther-like migrate-user-collection' in error.reason


async def test_naming_the_old_collection_finds_the_users_again(database):
    await start_with_a_user(database)
    app = build(database, MemberInOldCollection)
    await app.startup()
    try:
        assert (await MemberInOldCollection.find_one(username='ann')) is not None
    finally:
        await app.shutdown()


async def test_a_renamed_model_starts_when_the_old_collection_is_empty(database):
    app = build(database, User)
    await app.startup()
    await app.shutdown()
    app = build(database, Member)
    await app.startup()
    await app.shutdown()


async def test_the_same_model_starts_again_on_its_own_users(database):
    await start_with_a_user(database)
    app = build(database, User)
    await app.startup()
    await app.shutdown()


async def test_the_first_start_records_the_user_model_and_its_collection(database):
    app = build(database, User)
    await app.startup()
    try:
        document = await app.database.collection(META_COLLECTION).find_one({'_id': RECORD})
    finally:
        await app.shutdown()
    assert document['collection'] == 'User' and document['model'].endswith('test_user_collection.User')


async def test_moving_the_users_lets_the_renamed_model_start_and_find_them(database):
    await start_with_a_user(database)
    app = build(database, Member)
    await app.database.connect()
    try:
        earlier, moved = await move_users(app.database, Member)
    finally:
        await app.shutdown()
    assert (earlier.collection, moved) == ('User', 1)
    app = build(database, Member)
    await app.startup()
    try:
        ann = await Member.find_one(username='ann')
        assert ann is not None and await ann.verify_password(PASSWORD)
        assert await app.database.collection('User').count({}) == 0
    finally:
        await app.shutdown()


async def test_moving_refuses_to_merge_into_a_collection_that_holds_users(database):
    await start_with_a_user(database)
    app = build(database, Member)
    await app.database.connect()
    try:
        await app.database.collection('Member').insert_one({'_id': 'x', 'username': 'bob'})
        with pytest.raises(ConfigError):
            await move_users(app.database, Member)
        assert await app.database.collection('User').count({}) == 1
    finally:
        await app.shutdown()


def test_a_user_model_in_a_collection_of_the_framework_is_refused_when_the_app_is_built(tmp_path):
    with pytest.raises(ConfigError) as info:
        build({'path': str(tmp_path / 'db.sqlite3')}, SessionsUser)
    assert 'panther_like_login_sessions' in str(info.value) and 'collection_name' in info.value.reason


def test_the_migrate_user_collection_command_moves_the_users(database, capsys):
    import asyncio
    import sys

    asyncio.run(start_with_a_user(database))
    settings = settings_module(SECRET_KEY=SECRET_KEY, URLS={}, USER_MODEL=Member, DATABASE=database)
    sys.modules[settings.__name__] = settings
    try:
        status = cli_main(['migrate-user-collection', '--configs', settings.__name__])
    finally:
        del sys.modules[settings.__name__]
    assert status == 0 and "moved 1 user(s) from 'User' to 'Member'" in capsys.readouterr().out
