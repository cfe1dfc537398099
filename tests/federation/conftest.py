"""Fixtures of the federation tests: a real store of either kind, bound as an app binds it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from urllib.parse import urlsplit, urlunsplit

import pytest

from panther_like.db import Database, open_database
from panther_like.db.model import bind_models
from tests.federation.provider import Provider


@pytest.fixture(params=['embedded', 'mongodb'])
async def database(request: pytest.FixtureRequest, tmp_path) -> AsyncIterator[Database]:
    if request.param == 'embedded':
        db = open_database({'path': str(tmp_path / 'store.sqlite3')})
    else:
        parts = urlsplit(request.getfixturevalue('mongodb_url'))
        url = urlunsplit((parts.scheme, parts.netloc, f'/t_{uuid.uuid4().hex}', parts.query, parts.fragment))
        db = open_database({'url': url})
    await db.connect()
    bind_models(db)
    try:
        yield db
    finally:
        bind_models(None)
        await db.close()


@pytest.fixture(scope='session')
def provider() -> Iterator[Provider]:
    """The stand-in OpenID provider (tests/federation/provider.py), served once for the session."""
    served = Provider()
    served.start()
    try:
        yield served
    finally:
        served.stop()
