"""``panther-like run`` on SIGTERM, as a process manager stops it: readiness off first, then a graceful shutdown.

A real ``panther-like run`` in a copy of the example project, driven over
TCP. A request that is still arriving when the shutdown begins is played
with a raw socket that sends its body in two parts.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import time

import httpx
import pytest

from tests.servers import free_port
from tests.test_cli_commands import copy_example, start_run, stop

pytestmark = pytest.mark.server


@pytest.fixture(scope='module')
def project(tmp_path_factory):
    return copy_example(tmp_path_factory.mktemp('shutdown'))


def serve(project, *args: str) -> tuple[subprocess.Popen[str], str]:
    port = free_port()
    process, lines = start_run(project, '--port', str(port), '--log-level', 'info', *args)
    url = f'http://127.0.0.1:{port}'
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if httpx.get(f'{url}/ready', timeout=1).status_code == 200:
                return process, url
        except httpx.HTTPError:
            time.sleep(0.05)
    stop(process)
    raise AssertionError('the server never became ready:\n' + '\n'.join(lines))


def exit_seconds(process: subprocess.Popen[str], since: float) -> float:
    process.wait(timeout=30)
    return time.monotonic() - since


def test_sigterm_turns_readiness_off_at_once_and_serves_until_the_drain_ends(project):
    process, url = serve(project, '--drain-seconds', '2')
    try:
        terminated = time.monotonic()
        process.send_signal(signal.SIGTERM)
        time.sleep(0.2)
        ready, index = httpx.get(f'{url}/ready'), httpx.get(f'{url}/')
        lasted = exit_seconds(process, terminated)
    finally:
        stop(process)
    assert (ready.status_code, ready.json()) == (503, {'detail': 'shutting down'})
    assert index.status_code == 200
    assert 2.0 <= lasted < 10


def test_without_a_drain_sigterm_shuts_down_at_once(project):
    process, _ = serve(project)
    try:
        terminated = time.monotonic()
        process.send_signal(signal.SIGTERM)
        lasted = exit_seconds(process, terminated)
    finally:
        stop(process)
    assert lasted < 2.0


def test_a_request_still_arriving_when_the_shutdown_begins_is_answered(project):
    process, url = serve(project, '--drain-seconds', '0.5', '--graceful-timeout', '10')
    body = json.dumps({'username': 'late-arrival', 'password': 'a long password'}).encode()
    head = (
        f'POST /auth/signup HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n'
        f'Content-Length: {len(body)}\r\n\r\n'
    ).encode()
    try:
        with socket.create_connection(('127.0.0.1', int(url.rsplit(':', 1)[1])), timeout=10) as connection:
            connection.sendall(head + body[:10])
            time.sleep(0.3)
            process.send_signal(signal.SIGTERM)
            time.sleep(1.5)  # past the drain: the server has stopped accepting and waits for this request
            refused = _connection_refused(url)
            connection.sendall(body[10:])
            answer = connection.recv(65536).decode()
        process.wait(timeout=15)
    finally:
        stop(process)
    assert refused, 'the server still accepted new connections after the drain'
    assert answer.startswith('HTTP/1.1 201'), answer


def _connection_refused(url: str) -> bool:
    try:
        httpx.get(f'{url}/health', timeout=0.5)
    except httpx.ConnectError:
        return True
    except httpx.HTTPError:
        return False
    return False
