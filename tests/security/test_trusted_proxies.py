"""Whose address the login throttle counts, through a real uvicorn: a trusted proxy's client, or a spoofer's own.

Loopback source addresses stand for machines: 127.0.0.2 is the reverse
proxy named in ``TRUSTED_PROXIES``, 127.0.0.3 a client that writes its own
``X-Forwarded-For``. Under plain ``uvicorn`` (which trusts only 127.0.0.1
and ::1 itself) the app applies the setting; under ``panther-like run``
uvicorn is given the same list, which shows when 127.0.0.1, trusted by
uvicorn's default, is left out of it.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.helpers import signup
from tests.e2e.server import ExampleServer, launch
from tests.test_cli_commands import copy_example, free_port, start_run, stop

pytestmark = pytest.mark.server

PROXY, SPOOFER = '127.0.0.2', '127.0.0.3'
MAX_FAILURES = 3
_forged = (f'192.0.2.{n}' for n in itertools.count(1))


@pytest.fixture(scope='module')
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ExampleServer]:
    yield from launch(
        tmp_path_factory,
        'trusted_proxies',
        extra_env={
            'TRUSTED_PROXIES': PROXY,
            'LOGIN_MAX_FAILURES': str(MAX_FAILURES),
        },
    )


def login(url: str, source: str, username: str, password: str, forwarded_for: str | None = None) -> int:
    headers = {'X-Forwarded-For': forwarded_for} if forwarded_for else {}
    with httpx.Client(base_url=url, transport=httpx.HTTPTransport(local_address=source), timeout=10.0) as client:
        return client.post(
            '/auth/login', json={'username': username, 'password': password}, headers=headers
        ).status_code


def account(url: str) -> tuple[str, str]:
    with httpx.Client(base_url=url, timeout=10.0) as client:
        username, password, _ = signup(client, 'proxied')
    return username, password


def test_behind_a_trusted_proxy_the_forwarded_client_is_counted(server: ExampleServer) -> None:
    username, password = account(server.url)
    for _ in range(MAX_FAILURES):
        assert login(server.url, PROXY, username, 'wrong', forwarded_for='198.51.100.7') == 401
    assert login(server.url, PROXY, username, password, forwarded_for='198.51.100.7') == 429
    assert login(server.url, PROXY, username, password, forwarded_for='198.51.100.8') == 200  # the owner


def test_a_spoofed_x_forwarded_for_from_an_untrusted_peer_is_not_counted_as_another_client(
    server: ExampleServer,
) -> None:
    username, password = account(server.url)
    for _ in range(MAX_FAILURES):
        assert login(server.url, SPOOFER, username, 'wrong', forwarded_for=next(_forged)) == 401
    assert login(server.url, SPOOFER, username, password, forwarded_for=next(_forged)) == 429


def test_a_client_cannot_hide_behind_an_address_it_writes_before_the_proxys(server: ExampleServer) -> None:
    username, password = account(server.url)
    for _ in range(MAX_FAILURES):
        hops = f'{next(_forged)}, 198.51.100.9'  # the client wrote the first; the proxy appended the second
        assert login(server.url, PROXY, username, 'wrong', forwarded_for=hops) == 401
    assert login(server.url, PROXY, username, password, forwarded_for=f'{next(_forged)}, 198.51.100.9') == 429


# -- panther-like run ---------------------------------------------------------------------------


def run_failures_until_refused(url: str, source: str, attempts: int) -> list[int]:
    """Wrong passwords for one username from `source`, each claiming a new client: the statuses."""
    username, _ = account(url)
    return [login(url, source, username, 'wrong', forwarded_for=next(_forged)) for _ in range(attempts)]


def test_run_gives_uvicorn_the_trusted_proxies_instead_of_its_default(tmp_path) -> None:
    project = copy_example(tmp_path, TRUSTED_PROXIES=PROXY)
    port = free_port()
    process, lines = start_run(project, '--port', str(port))
    try:
        assert any(
            line.strip() == f'proxies         {PROXY} (TRUSTED_PROXIES: whose X-Forwarded-For is believed)'
            for line in lines
        ), lines
        url = f'http://127.0.0.1:{port}'
        # uvicorn alone would believe 127.0.0.1; here it is an ordinary client, counted as itself.
        assert run_failures_until_refused(url, '127.0.0.1', 6) == [401] * 5 + [429]
        assert run_failures_until_refused(url, PROXY, 6) == [401] * 6  # six different clients behind the proxy
    finally:
        stop(process)


def test_run_with_no_trusted_proxies_believes_no_x_forwarded_for(tmp_path) -> None:
    project = copy_example(tmp_path, TRUSTED_PROXIES='')
    port = free_port()
    process, lines = start_run(project, '--port', str(port))
    try:
        assert any('proxies         none (X-Forwarded-For is ignored)' in line for line in lines), lines
        assert run_failures_until_refused(f'http://127.0.0.1:{port}', '127.0.0.1', 6) == [401] * 5 + [429]
    finally:
        stop(process)
