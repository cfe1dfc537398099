"""A store that is down costs a request a bounded wait and a 503, never a hang or a 500."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from panther_like.db import open_database
from panther_like.db.embedded import EmbeddedDatabase
from panther_like.db.mongo import MongoDatabase
from panther_like.exceptions import StoreUnavailableError
from tests.servers import ServerUnavailable, free_port, start_mongo_wire, unavailable


async def test_mongodb_down_raises_store_unavailable_quickly_without_the_password() -> None:
    database = MongoDatabase(f'mongodb://admin:hunter2@127.0.0.1:{free_port()}/app')
    assert 'hunter2' not in repr(database)
    started = time.monotonic()
    with pytest.raises(StoreUnavailableError) as caught:
        await database.ping()
    with pytest.raises(StoreUnavailableError) as caught_insert:
        await database.collection('c').insert_one({'_id': 'x'})
    assert time.monotonic() - started < 10
    for error in (caught.value, caught_insert.value):
        assert error.store == 'MongoDB'
        assert 'MongoDB' in error.detail
        assert 'hunter2' not in error.detail and 'admin' not in error.detail
    await database.close()


def test_invalid_mongodb_url_is_a_value_error_without_the_password() -> None:
    with pytest.raises(ValueError) as caught:
        open_database({'url': 'mongodb://user:hunter2@127.0.0.1:notaport/db'})
    assert 'hunter2' not in str(caught.value)


def test_one_mongo_database_object_serves_successive_event_loops(mongodb_url: str) -> None:
    database = MongoDatabase(mongodb_url)

    async def roundtrip(key: str) -> dict | None:
        await database.collection('loops').insert_one({'_id': key})
        return await database.collection('loops').find_one({'_id': key})

    first, second = f'a{time.time_ns()}', f'b{time.time_ns()}'
    assert asyncio.run(roundtrip(first)) == {'_id': first}
    assert asyncio.run(roundtrip(second)) == {'_id': second}


@pytest.mark.server
async def test_mongodb_killed_mid_run_then_restarted_on_the_same_port(tmp_path: Path) -> None:
    try:
        server = start_mongo_wire(tmp_path / 'nx')
    except ServerUnavailable as exc:
        unavailable(str(exc))
    database = MongoDatabase(server.url)
    try:
        things = database.collection('things')
        await things.insert_one({'_id': 'before'})
        server.kill()
        with pytest.raises(StoreUnavailableError):
            await things.find_one({'_id': 'before'})
        server.start()
        assert await things.find_one({'_id': 'before'}) == {'_id': 'before'}
        await things.insert_one({'_id': 'after'})
        assert await things.count({}) == 2
    finally:
        await database.close()
        server.stop()


async def test_embedded_store_that_cannot_open_raises_store_unavailable(tmp_path: Path) -> None:
    (tmp_path / 'not-a-directory').write_text('')
    database = EmbeddedDatabase(tmp_path / 'not-a-directory' / 'store.sqlite3')
    with pytest.raises(StoreUnavailableError) as caught:
        await database.collection('c').find_one({'_id': 'x'})
    assert caught.value.store == 'embedded store'
    assert 'embedded store' in caught.value.detail
    await database.close()


def test_default_embedded_path_is_in_the_working_directory(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    for setting in (None, {}, {'url': None}, {'url': ''}):
        database = open_database(setting)
        assert isinstance(database, EmbeddedDatabase)
        assert database.path == str(tmp_path / 'panther_like.sqlite3')
    assert open_database({'path': str(tmp_path / 'x.db')}).path == str(tmp_path / 'x.db')
    assert isinstance(open_database({'url': 'mongodb://127.0.0.1:1/x'}), MongoDatabase)


async def test_a_model_used_before_any_app_is_built_is_a_clear_error() -> None:
    from panther_like.db import BaseUser
    from panther_like.db.model import bind_models

    bind_models(None)
    with pytest.raises(RuntimeError, match='build Panther'):
        await BaseUser.find_one(username='anyone')
