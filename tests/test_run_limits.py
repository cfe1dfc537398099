"""``panther-like run`` bounds what one client can make a worker hold: head size, header count, slow heads and bodies.

A real ``panther-like run`` of the example project, driven over raw TCP
(no HTTP client would send these). Each test ends by checking that the
server still answers a well-formed request.
"""

from __future__ import annotations

import contextlib
import socket
import time

import httpx
import pytest

from tests.test_cli_commands import copy_example, stop
from tests.test_run_shutdown import serve

pytestmark = pytest.mark.server


@pytest.fixture(scope='module')
def project(tmp_path_factory):
    return copy_example(tmp_path_factory.mktemp('limits'))


@pytest.fixture(scope='module')
def server(project):
    """Short timeouts so the slow-client tests take a second each."""
    process, url = serve(project, '--header-timeout', '1', '--body-timeout', '1')
    try:
        yield url
    finally:
        stop(process)


def _port(url: str) -> int:
    return int(url.rsplit(':', 1)[1])


def exchange(url: str, data: bytes, timeout: float = 10.0) -> tuple[bytes, float]:
    """Send `data`, return what the server answered before closing (b'' if nothing) and how long it took."""
    started = time.monotonic()
    with socket.create_connection(('127.0.0.1', _port(url)), timeout=timeout) as sock:
        with contextlib.suppress(OSError):  # the server may close while a huge head is still being sent
            sock.sendall(data)
        answer = b''
        try:
            while chunk := sock.recv(65536):
                answer += chunk
                if b'\r\n\r\n' in answer and b'connection: close' not in answer.lower():
                    break
        except ConnectionResetError:
            pass
    return answer, time.monotonic() - started


def still_serving(url: str) -> None:
    assert httpx.get(url + '/', timeout=5).status_code == 200


def test_a_one_megabyte_header_gets_431(server):
    answer, _ = exchange(server, b'GET / HTTP/1.1\r\nHost: x\r\nX-Big: ' + b'a' * 1_000_000 + b'\r\n\r\n')
    assert answer.startswith(b'HTTP/1.1 431 ')
    still_serving(server)


def test_five_thousand_headers_get_431(server):
    headers = b''.join(b'X-H%d: v\r\n' % i for i in range(5000))
    answer, _ = exchange(server, b'GET / HTTP/1.1\r\nHost: x\r\n' + headers + b'\r\n')
    assert answer.startswith(b'HTTP/1.1 431 ')
    still_serving(server)


def test_a_request_line_of_100_kib_gets_431(server):
    answer, _ = exchange(server, b'GET /?q=' + b'a' * 100_000 + b' HTTP/1.1\r\nHost: x\r\n\r\n')
    assert answer.startswith(b'HTTP/1.1 431 ')


def test_an_ordinary_head_with_big_cookies_and_fifty_headers_is_served(server):
    headers = {f'X-H{i}': 'v' for i in range(50)}
    headers['Cookie'] = '; '.join(f'c{i}={"x" * 3000}' for i in range(8))  # 24 KB of cookies
    assert httpx.get(server + '/', headers=headers, timeout=5).status_code == 200


def test_a_head_sent_too_slowly_gets_408_after_the_header_timeout(server):
    answer, took = exchange(server, b'GET / HTTP/1.1\r\nHost: x\r\nX-Slow: a')
    assert answer.startswith(b'HTTP/1.1 408 ')
    assert 0.9 <= took < 5
    still_serving(server)


def test_a_connection_that_sends_nothing_is_closed_after_the_header_timeout(server):
    answer, took = exchange(server, b'')
    assert answer == b''
    assert 0.9 <= took < 5


def test_a_stalled_body_closes_the_connection_after_the_body_timeout(server):
    head = b'POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n'
    answer, took = exchange(server, head + b'{"user')
    assert not answer.startswith(b'HTTP/1.1 2')
    assert took < 5
    still_serving(server)


def test_beyond_limit_concurrency_new_requests_get_503(project):
    process, url = serve(project, '--limit-concurrency', '3')
    idle = []
    try:
        for _ in range(3):
            idle.append(socket.create_connection(('127.0.0.1', _port(url)), timeout=5))
        time.sleep(0.2)
        answer, _ = exchange(url, b'GET / HTTP/1.1\r\nHost: x\r\n\r\n')
        assert answer.startswith(b'HTTP/1.1 503 ')
    finally:
        for sock in idle:
            sock.close()
        stop(process)
