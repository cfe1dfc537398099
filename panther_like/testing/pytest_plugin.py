"""pytest fixtures for a panther_like project; enable with one line in the project's ``conftest.py``::

    pytest_plugins = ['panther_like.testing.pytest_plugin']

Fixtures (async ones need pytest-asyncio; ``asyncio_mode = "auto"`` is simplest):

* ``panther_settings``: the settings module name; default ``$PANTHER_LIKE_CONFIGS``, else
  ``configs``. Override it in your conftest to test another module.
* ``panther_app``: the app built from those settings, but with its own empty embedded
  store in ``tmp_path`` (and no Redis), started, and shut down after the test: tests never
  touch your development or production data, and never see each other's users.
* ``client``: a `TestClient` on ``panther_app``.
* ``user``: a ``USER_MODEL`` user ``testuser`` with password ``test-password``, and the fields of
  ``user_fields``.
* ``user_fields``: the other fields of that user, ``{}`` by default. Override it when your user
  model has required fields of its own::

      @pytest.fixture
      def user_fields():
          return {'email': 'test@example.com'}

Loading the plugin switches the test process to cheap password hashes
(`panther_like.crypto.passwords.use_fast_hashes_for_tests`), so tests that create users hash
passwords in microseconds instead of ~50 ms. It also sets ``PANTHER_LIKE_FAST_PASSWORD_HASH=1``
(unless already set) for the processes the tests start: the framework never reads that
variable, but a server started by a test can honour it with `use_fast_hashes_if_asked`.
``PANTHER_LIKE_FAST_PASSWORD_HASH=0`` keeps the real parameters, for a test that measures them.

``--panther-like-store=mongodb://127.0.0.1:27017`` (or the ini option ``panther_like_store``) runs
``panther_app`` on that MongoDB(-wire) server instead, each test in a database of its own, so the
tests also prove what the production store does; ``embedded`` (the default) keeps the file store.
"""

from __future__ import annotations

import importlib
import os
import types
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pydantic
import pytest
import pytest_asyncio

from panther_like.app import Panther
from panther_like.crypto.passwords import use_fast_hashes_for_tests
from panther_like.exceptions import ValidationAPIError
from panther_like.http.validation import summary
from panther_like.settings.config import CONFIGS_ENV_VAR
from panther_like.testing.client import TestClient

TEST_USERNAME = 'testuser'
TEST_PASSWORD = 'test-password'
#: How a test run tells the processes it starts to use cheap password hashes ('1') or real ones ('0').
FAST_HASH_ENV = 'PANTHER_LIKE_FAST_PASSWORD_HASH'
#: The command-line option (``--panther-like-store``) and ini option that choose the tests' store.
STORE_OPTION = 'panther_like_store'


def use_fast_hashes_if_asked() -> bool:
    """Cheap password hashes in this process if ``PANTHER_LIKE_FAST_PASSWORD_HASH`` is ``1``; True if switched.

    For test code only: a server a test starts in another process (its settings module, or the script
    that starts it) calls this, since the framework itself never looks at the variable.
    """
    if os.environ.get(FAST_HASH_ENV) != '1':
        return False
    use_fast_hashes_for_tests()
    return True


def pytest_addoption(parser: pytest.Parser) -> None:
    help_text = 'the store panther_app runs on: embedded (default) or a mongodb:// URL (a database per test)'
    parser.addoption('--panther-like-store', dest=STORE_OPTION, default=None, help=help_text)
    parser.addini(STORE_OPTION, help_text, default='embedded')


def store_for_test(config: pytest.Config, tmp_path: Path) -> dict[str, str]:
    """The ``DATABASE`` setting of one test: an embedded file in `tmp_path`, or a fresh database on the server."""
    chosen = str(config.getoption(STORE_OPTION) or config.getini(STORE_OPTION) or 'embedded').strip()
    if chosen == 'embedded':
        return {'path': str(tmp_path / 'test-store.sqlite3')}
    parts = urlsplit(chosen)
    if parts.scheme not in ('mongodb', 'mongodb+srv'):
        raise pytest.UsageError(f'--panther-like-store: expected embedded or a mongodb:// URL, not {chosen!r}')
    name = f'test_{uuid.uuid4().hex}'
    return {'url': urlunsplit((parts.scheme, parts.netloc, f'/{name}', parts.query, parts.fragment))}


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault(FAST_HASH_ENV, '1')
    use_fast_hashes_if_asked()


def isolated_settings(
    configs: str | types.ModuleType, store_path: Path, database: dict[str, str] | None = None
) -> types.ModuleType:
    """A copy of the settings module whose store is `database` (else an embedded file at `store_path`), no Redis."""
    module = importlib.import_module(configs) if isinstance(configs, str) else configs
    copy = types.ModuleType(f'{module.__name__}')
    for name in dir(module):
        if not name.startswith('_'):
            setattr(copy, name, getattr(module, name))
    vars(copy).update(DATABASE=database or {'path': str(store_path)}, REDIS=None)
    return copy


@pytest.fixture
def panther_settings() -> str:
    return os.environ.get(CONFIGS_ENV_VAR) or 'configs'


@pytest_asyncio.fixture
async def panther_app(panther_settings: str, tmp_path: Path, pytestconfig: pytest.Config) -> AsyncIterator[Panther]:
    database = store_for_test(pytestconfig, tmp_path)
    app = Panther(configs=isolated_settings(panther_settings, tmp_path / 'test-store.sqlite3', database))
    await app.startup()
    try:
        yield app
    finally:
        await app.shutdown()


@pytest_asyncio.fixture
async def client(panther_app: Panther) -> AsyncIterator[TestClient]:
    async with TestClient(panther_app, lifespan=False) as test_client:
        yield test_client


@pytest.fixture
def user_fields() -> dict[str, Any]:
    return {}


@pytest_asyncio.fixture
async def user(panther_app: Panther, user_fields: dict[str, Any]) -> Any:
    model = panther_app.config.user_model
    try:
        return await model.insert_one(username=TEST_USERNAME, password=TEST_PASSWORD, **user_fields)
    except (pydantic.ValidationError, ValidationAPIError) as exc:
        problems = summary(_errors(exc), limit=None, whole='')
    # Failed outside the except block, so that the raw error (its input holds the password hash) is not shown.
    pytest.fail(
        f'the user fixture could not create a {model.__module__}.{model.__qualname__} ({problems}). '
        'Give the fields your user model requires by overriding the user_fields fixture in your conftest.py:\n\n'
        "    @pytest.fixture\n    def user_fields():\n        return {'email': 'test@example.com'}",
        pytrace=False,
    )


def _errors(exc: Exception) -> list[dict[str, Any]]:
    if isinstance(exc, pydantic.ValidationError):
        return [dict(error) for error in exc.errors(include_input=False, include_url=False)]
    return [error for error in getattr(exc, 'errors', []) if isinstance(error, dict) and 'loc' in error]
