"""Fixtures shared by the whole suite; server plumbing lives in tests/servers.py."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from panther_like.crypto.passwords import use_fast_hashes_for_tests
from tests.mail_server import SMTPServer, start_smtp
from tests.servers import (
    ServerHandle,
    ServerUnavailable,
    fresh_database_url,
    serve,
    start_mongo_wire,
    start_redis,
    unavailable,
)

pytest_plugins = ['tests.tiers']  # plain pytest runs the in-process tier; --all-tiers runs every tier

# Cheap argon2 parameters: the suite creates many users (see panther_like.crypto.passwords). The variable
# asks the servers the tests start for them too (tests/fast_hash_uvicorn.py); the framework never reads it.
use_fast_hashes_for_tests()
os.environ['PANTHER_LIKE_FAST_PASSWORD_HASH'] = '1'


@pytest.fixture(scope='session')
def mongodb_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerHandle | None]:
    """The nx-27017 server started for this session, or None when MONGODB_URL points elsewhere."""
    yield from serve('MONGODB_URL', start_mongo_wire, tmp_path_factory.mktemp('mongodb'))


@pytest.fixture(scope='session')
def mongodb_url(mongodb_server: ServerHandle | None) -> str:
    return mongodb_server.url if mongodb_server else os.environ['MONGODB_URL']


@pytest.fixture(scope='session')
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerHandle | None]:
    """The redis-server started for this session, or None when REDIS_URL points elsewhere."""
    yield from serve('REDIS_URL', start_redis, tmp_path_factory.mktemp('redis'))


@pytest.fixture(scope='session')
def redis_url(redis_server: ServerHandle | None) -> str:
    return redis_server.url if redis_server else os.environ['REDIS_URL']


@pytest.fixture(params=['embedded', 'mongodb'])
def database_setting(request: pytest.FixtureRequest, tmp_path) -> dict:
    """The DATABASE setting for each backend: an embedded file, or a fresh MongoDB database."""
    if request.param == 'embedded':
        return {'path': str(tmp_path / 'store.sqlite3')}
    return {'url': fresh_database_url(request.getfixturevalue('mongodb_url'))}


@pytest.fixture(scope='session')
def smtp_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SMTPServer]:
    """aiosmtpd in its own process on a free 127.0.0.1 port; what it receives is in `messages()`."""
    try:
        server = start_smtp(tmp_path_factory.mktemp('smtp'))
    except (ServerUnavailable, OSError) as exc:
        unavailable(f'the test SMTP server could not be started: {exc}')
    try:
        yield server
    finally:
        server.stop()
