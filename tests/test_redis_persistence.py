"""A Redis that keeps nothing on disk is refused at start-up: restarted, it would forget every logout.

Each case is a real redis-server started here with the persistence it
names; the app's start-up (`Panther.startup`, what the lifespan runs) reads
``CONFIG GET appendonly`` and ``CONFIG GET save``. The same refusal through
a real uvicorn is in tests/e2e/test_redis_persistence.py.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from panther_like import Panther
from panther_like.exceptions import ConfigError
from tests.servers import ServerHandle, own_redis
from tests.settings import settings_module


@pytest.fixture(scope='module')
def forgetful_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerHandle]:
    """``--save '' --appendonly no``: nothing on disk."""
    yield from own_redis(tmp_path_factory.mktemp('forgetful'), persistence=False)


@pytest.fixture(scope='module')
def snapshot_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerHandle]:
    yield from own_redis(tmp_path_factory.mktemp('snapshots'), persistence=False, extra_args=('--save', '60 1'))


@pytest.fixture(scope='module')
def secretive_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerHandle]:
    """Nothing on disk, and CONFIG renamed away, as managed services do."""
    yield from own_redis(
        tmp_path_factory.mktemp('secretive'), persistence=False, extra_args=('--rename-command', 'CONFIG', '')
    )


def app_on(url: str, tmp_path: Path, **redis: object) -> Panther:
    settings = settings_module(
        SECRET_KEY='k' * 32 + '0123456789abcdefghijklmnopqrstuv',
        DATABASE={'path': str(tmp_path / 'db.sqlite3')},
        REDIS={'url': url, **redis},
    )
    return Panther(settings, urls={})


async def start(app: Panther) -> None:
    try:
        await app.startup()
    finally:
        await app.shutdown()


async def test_an_app_refuses_to_start_on_a_redis_without_aof_or_snapshots(forgetful_redis, tmp_path) -> None:
    with pytest.raises(ConfigError) as refused:
        await start(app_on(forgetful_redis.url, tmp_path))
    message = str(refused.value)
    assert "'REDIS'" in message and 'appendonly' in message and 'save' in message
    assert 'allow_no_persistence' in message


async def test_allow_no_persistence_starts_with_a_warning(forgetful_redis, tmp_path, caplog) -> None:
    with caplog.at_level(logging.WARNING, logger='panther_like'):
        await start(app_on(forgetful_redis.url, tmp_path, allow_no_persistence=True))
    assert any('keeps nothing on disk' in record.getMessage() for record in caplog.records)


async def test_an_app_starts_on_a_redis_with_an_append_only_file(redis_url, tmp_path, caplog) -> None:
    with caplog.at_level(logging.WARNING, logger='panther_like'):
        await start(app_on(redis_url, tmp_path))
    assert not [record for record in caplog.records if 'Redis' in record.getMessage()]


async def test_an_app_starts_on_a_redis_with_snapshots_only(snapshot_redis, tmp_path) -> None:
    await start(app_on(snapshot_redis.url, tmp_path))


async def test_a_redis_that_hides_its_configuration_gets_a_warning_not_a_refusal(
    secretive_redis,
    tmp_path,
    caplog,
) -> None:
    with caplog.at_level(logging.WARNING, logger='panther_like'):
        await start(app_on(secretive_redis.url, tmp_path))
    assert any('could not read the persistence settings' in record.getMessage() for record in caplog.records)


@pytest.mark.parametrize('value', ['yes', 1, None])
def test_allow_no_persistence_must_be_a_bool(value, tmp_path) -> None:
    with pytest.raises(ConfigError, match='allow_no_persistence'):
        app_on('redis://127.0.0.1:1/0', tmp_path, allow_no_persistence=value)
