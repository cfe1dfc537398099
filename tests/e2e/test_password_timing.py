"""A wrong password costs the same for every account, usable password or not, through a real server.

The server hashes with argon2's real parameters here (the other servers of
the suite use cheap ones), so a check costs tens of milliseconds. An
account without a usable password (created by an admin tool with none)
used to be answered in a few milliseconds: a timing probe told such
accounts apart. The medians are compared with a wide margin (the machine
is shared); what matters is an order of magnitude, not the exact ratio.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.admin import ExampleUser, as_admin
from tests.e2e.helpers import signup, unique_username
from tests.e2e.server import ExampleServer, launch

pytestmark = pytest.mark.server

ATTEMPTS = 5  # below the example's 5 failures per username and address
ADDRESS = '127.0.7.3'  # this test's own, so no other test's failures count against it


@pytest.fixture(scope='module', params=['embedded', 'mongodb'])
def real_hash_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ExampleServer]:
    mongodb_url = request.getfixturevalue('mongodb_url') if request.param == 'mongodb' else None
    yield from launch(
        tmp_path_factory,
        f'realhash_{request.param}',
        mongodb_url=mongodb_url,
        process_env={'PANTHER_LIKE_FAST_PASSWORD_HASH': '0'},
    )


def _seconds_per_wrong_login(server: ExampleServer, username: str) -> float:
    transport = httpx.HTTPTransport(local_address=ADDRESS)
    times = []
    with httpx.Client(base_url=server.url, transport=transport, timeout=30.0) as client:
        for _ in range(ATTEMPTS):
            started = time.perf_counter()
            response = client.post('/auth/login', json={'username': username, 'password': 'a wrong guess'})
            times.append(time.perf_counter() - started)
            assert response.status_code == 401, response.text
    return statistics.median(times)


def test_an_account_without_a_usable_password_takes_as_long_to_refuse_as_any_other(
    real_hash_server: ExampleServer,
) -> None:
    with real_hash_server.client() as client:
        with_password, _, _ = signup(client, 'timed')
    without_password = unique_username('nopassword')

    async def create(user_model: type[ExampleUser]) -> None:
        await user_model.insert_one(username=without_password)  # no password: none can match

    as_admin(real_hash_server, create)
    usual = _seconds_per_wrong_login(real_hash_server, with_password)
    unusable = _seconds_per_wrong_login(real_hash_server, without_password)
    assert unusable > usual / 3, f'{unusable * 1000:.1f} ms against {usual * 1000:.1f} ms for a usable password'
