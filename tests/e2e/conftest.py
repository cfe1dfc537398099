"""Session-scoped example servers: one per backend, and two with ``--workers 2``."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.server import ExampleServer, launch


@pytest.fixture(scope='session', params=['embedded', 'mongodb'])
def example_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ExampleServer]:
    """The example project with one worker, on the embedded store or on MongoDB."""
    mongodb_url = request.getfixturevalue('mongodb_url') if request.param == 'mongodb' else None
    yield from launch(tmp_path_factory, request.param, mongodb_url=mongodb_url)


@pytest.fixture(scope='session', params=['embedded', 'redis'])
def multiworker_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ExampleServer]:
    """The example project with ``--workers 2`` on the embedded store; revocation in the store or in Redis."""
    redis_url = request.getfixturevalue('redis_url') if request.param == 'redis' else None
    yield from launch(tmp_path_factory, f'workers2_{request.param}', redis_url=redis_url, workers=2)


@pytest.fixture
def client(example_server: ExampleServer) -> Iterator[httpx.Client]:
    with example_server.client() as http:
        yield http


@pytest.fixture(scope='session', params=['embedded', 'mongodb', 'redis', 'workers2'])
def mailing_server(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    smtp_server,
) -> Iterator[ExampleServer]:
    """The example project mailing through the test SMTP server: on each store, with Redis, and with two
    workers sharing the embedded store."""
    mongodb_url = request.getfixturevalue('mongodb_url') if request.param == 'mongodb' else None
    redis_url = request.getfixturevalue('redis_url') if request.param == 'redis' else None
    workers = 2 if request.param == 'workers2' else 1
    yield from launch(
        tmp_path_factory,
        f'mail_{request.param}',
        mongodb_url=mongodb_url,
        redis_url=redis_url,
        workers=workers,
        extra_env=smtp_server.example_env(),
    )
