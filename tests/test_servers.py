"""The test servers themselves can be stopped and started again on the same port."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests.servers import ServerUnavailable, start_redis, unavailable

pytestmark = pytest.mark.server


def _redis_ping(port: int) -> bytes:
    with socket.create_connection(('127.0.0.1', port), timeout=2) as sock:
        sock.sendall(b'PING\r\n')
        return sock.recv(64)


def test_redis_stop_and_restart_on_the_same_port(tmp_path: Path) -> None:
    try:
        server = start_redis(tmp_path)
    except ServerUnavailable as exc:
        unavailable(str(exc))
    try:
        assert _redis_ping(server.port) == b'+PONG\r\n'
        server.stop()
        with pytest.raises(OSError):
            _redis_ping(server.port)
        server.start()
        assert _redis_ping(server.port) == b'+PONG\r\n'
        server.kill()
        server.start()
        assert _redis_ping(server.port) == b'+PONG\r\n'
    finally:
        server.stop()
