"""The attack suite's server, victims, hypothesis profiles and the end-of-run counts.

One example server (tests/e2e/server.py's `launch`) runs under uvicorn at
``--log-level info`` (at debug the websockets library logs its own
handshake-parsing tracebacks) with the example's ``configs/logging.json``, so its
log holds uvicorn's access and handshake lines and the audit trail; the
log tests (marked ``after_attacks``, run last) scan it for credentials.

Hypothesis profiles (``HYPOTHESIS_PROFILE``): ``ci`` (the default) is
derandomized, so CI runs the same examples every time; ``dev`` is random
with the same budget; ``thorough`` is random with ten times the examples.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass

import httpx
import pytest
from hypothesis import HealthCheck, settings

from tests.e2e.helpers import User, new_user
from tests.e2e.server import ExampleServer, launch
from tests.mail_server import SMTPServer
from tests.security.attack import TALLY, Attacker

_COMMON = dict(deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True)
settings.register_profile('ci', max_examples=300, derandomize=True, **_COMMON)
settings.register_profile('dev', max_examples=300, **_COMMON)
settings.register_profile('thorough', max_examples=3000, **_COMMON)
settings.load_profile(os.environ.get('HYPOTHESIS_PROFILE', 'ci'))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line('markers', 'after_attacks: runs after every attack (scans what the attacks left)')


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that inspect what the attacks left run after all of them, whatever their file names."""
    items.sort(key=lambda item: item.get_closest_marker('after_attacks') is not None)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if TALLY.total:
        terminalreporter.section('hostile-input suite')
        for line in TALLY.summary_lines():
            terminalreporter.write_line(line)


@dataclass
class Victims:
    """Users whose valid tokens the attacks try to misuse; they stay logged in for the whole run."""

    alice: User
    bob: User
    refresh_target: User  # a session whose refresh token the refresh attacks may spend


@pytest.fixture(scope='session')
def hostile_server(tmp_path_factory: pytest.TempPathFactory, smtp_server: SMTPServer) -> Iterator[ExampleServer]:
    """Mail (reset and verification links) goes to the test SMTP server, where the attacks read their tokens."""
    yield from launch(
        tmp_path_factory,
        'hostile',
        log_level='info',
        uvicorn_args=('--log-config', 'configs/logging.json'),
        extra_env=smtp_server.example_env(),
    )


@pytest.fixture(scope='session')
def victims(hostile_server: ExampleServer) -> Victims:
    with hostile_server.client() as client:
        return Victims(new_user(client, 'alice'), new_user(client, 'bob'), new_user(client, 'refresh'))


@pytest.fixture(scope='session')
def attacker(hostile_server: ExampleServer) -> Iterator[Attacker]:
    with closing(Attacker(hostile_server.url, hostile_server.port)) as attacker:
        yield attacker


@pytest.fixture(scope='session')
def secret_key(hostile_server: ExampleServer) -> str:
    return hostile_server.secret_key


@pytest.fixture
def control(hostile_server: ExampleServer) -> Iterator[httpx.Client]:
    """A well-behaved client, for the positive controls."""
    with hostile_server.client() as client:
        yield client
