"""The security-objects test app under a real uvicorn: embedded store, and MongoDB for the session tests."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.security_objects.server import UvicornServer, serve
from tests.servers import fresh_database_url

SECRET_KEY = 'secobj-test-secret-key-0123456789abcdef'
APP = 'tests.security_objects.testapp:app'


@pytest.fixture(scope='session')
def secured_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UvicornServer]:
    directory = tmp_path_factory.mktemp('secobj_embedded')
    yield from serve(APP, directory, {'SECOBJ_SECRET_KEY': SECRET_KEY, 'SECOBJ_DB_PATH': str(directory / 'db.sqlite3')})


@pytest.fixture(scope='session', params=['embedded', 'mongodb'])
def session_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, secured_server: UvicornServer
) -> Iterator[UvicornServer]:
    """Sessions in each store: the embedded one is the shared server, MongoDB gets its own."""
    if request.param == 'embedded':
        yield secured_server
        return
    directory = tmp_path_factory.mktemp('secobj_mongodb')
    url = fresh_database_url(request.getfixturevalue('mongodb_url'))
    yield from serve(APP, directory, {'SECOBJ_SECRET_KEY': SECRET_KEY, 'SECOBJ_MONGODB_URL': url})


@pytest.fixture
def client(secured_server: UvicornServer) -> Iterator[httpx.Client]:
    with secured_server.client() as http:
        yield http


@pytest.fixture(scope='session')
def default_auth_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UvicornServer]:
    """The same app with ``DEFAULT_AUTH`` set to its header key."""
    directory = tmp_path_factory.mktemp('secobj_default_auth')
    yield from serve(
        APP,
        directory,
        {'SECOBJ_SECRET_KEY': SECRET_KEY, 'SECOBJ_DEFAULT_AUTH': '1', 'SECOBJ_DB_PATH': str(directory / 'db.sqlite3')},
    )


from tests.e2e.conftest import example_server  # noqa: E402, F401  (the example project under uvicorn)
