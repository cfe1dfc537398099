"""After every attack: the server's own log (uvicorn at debug level, plus the audit trail) holds no secret.

These run last (marker ``after_attacks``). The log file is uvicorn's
stdout and stderr; it saw every hostile request line, every websocket
handshake (with its ``?authorization=`` query) and every audit event.
"""

from __future__ import annotations

import re
import sqlite3

import pytest

from tests.e2e.server import ExampleServer
from tests.security.attack import TALLY
from tests.security.conftest import Victims

pytestmark = [pytest.mark.server, pytest.mark.after_attacks]
MIN_HOSTILE_REQUESTS = 5000
JWT_SHAPED = re.compile(r'eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.')


def stored_password_hashes(server: ExampleServer) -> list[str]:
    with sqlite3.connect(server.directory / 'example.sqlite3') as db:
        rows = db.execute("SELECT name FROM sqlite_master WHERE type='table'").fetchall()
        hashes = []
        for (table,) in rows:
            if 'user' not in table.lower():
                continue
            hashes += [
                row[0] for row in db.execute(f'SELECT json_extract(data, \'$.password\') FROM "{table}"') if row[0]
            ]
    return hashes


def test_the_run_sent_at_least_5000_hostile_requests() -> None:
    assert TALLY.total >= MIN_HOSTILE_REQUESTS, TALLY.summary_lines()


def test_the_log_saw_the_attacks(hostile_server: ExampleServer) -> None:
    """Control: the log is verbose enough for the scans below to mean something."""
    log = hostile_server.log()
    assert '"WebSocket /ws/echo?authorization=' in log
    assert '"event":"auth.failure"' in log
    assert 'GET /me HTTP/1.1" 401' in log


def test_no_jwt_appears_in_the_log(hostile_server: ExampleServer, victims: Victims) -> None:
    log = hostile_server.log()
    for user in (victims.alice, victims.bob, victims.refresh_target):
        for token in (user.access_token, user.refresh_token):
            assert token not in log
            assert token.split('.')[2] not in log  # not even the signature
    leaked = JWT_SHAPED.findall(log)
    assert not leaked, leaked[:5]


def test_no_password_or_password_hash_appears_in_the_log(hostile_server: ExampleServer, victims: Victims) -> None:
    log = hostile_server.log()
    hashes = stored_password_hashes(hostile_server)
    assert len(hashes) >= 3
    for value in hashes:
        assert value not in log
    assert '$argon2' not in log
    for user in (victims.alice, victims.bob, victims.refresh_target):
        assert user.password not in log


def test_no_traceback_appears_in_the_log(hostile_server: ExampleServer) -> None:
    log = hostile_server.log()
    assert 'Traceback' not in log, log[log.index('Traceback') - 500 :][:3000]
