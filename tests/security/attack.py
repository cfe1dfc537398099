"""The attacker: sends hostile requests to a real uvicorn and checks every answer against the bar.

Every request of the security suite goes through one `Attacker`, so the
invariants are checked in one place and the counts printed at the end of
the run are the counts of what was really sent:

- no 5xx, ever;
- no traceback (or Python source location) in any body;
- an answer from the app to a refused request is JSON ``{"detail": str}``, and a 422 (a body that
  does not fit its model) adds ``"errors"``: a list of ``{"loc", "msg", "type"}``;
- a protected route answers a hostile request with a refusal status,
  never 200: nothing reaches the handler without a valid access token.

Two transports: an ``httpx.Client`` (kept-alive connections) for anything
HTTP allows, and `RawConnection`, a persistent socket that writes bytes
no well-behaved client would (bad request lines, CR in headers, lying
Content-Length), and websocket handshakes.
"""

from __future__ import annotations

import base64
import collections
import contextlib
import socket
import threading
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson

# What a refused request to a protected route may get (RFC 9110/6585 meanings).
REFUSALS = frozenset({400, 401, 404, 405, 413, 415, 431})
# What a route with an input model may answer a body that does not fit it (422: the field errors).
BODY_REFUSALS = frozenset({400, 413, 422})
FIELD_ERROR_KEYS = frozenset({'loc', 'msg', 'type'})
TRACEBACK_MARKERS = (b'Traceback (most recent call last)', b'File "/', b'.py", line ')


@dataclass
class Tally:
    """What the suite sent and got, printed at the end of the run."""

    by_category: collections.Counter = field(default_factory=collections.Counter)
    by_status: collections.Counter = field(default_factory=collections.Counter)
    server_errors: int = 0
    tracebacks: int = 0
    reached_handler: int = 0
    websocket_accepted_hostile: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def total(self) -> int:
        """Hostile requests only: the positive controls (category ``control...``) are not attacks."""
        return sum(n for name, n in self.by_category.items() if not name.startswith('control'))

    def record(self, category: str, status: int) -> None:
        with self.lock:
            self.by_category[category] += 1
            self.by_status[status] += 1

    def summary_lines(self) -> list[str]:
        lines = [
            f'hostile requests sent: {self.total} (plus {sum(self.by_category.values()) - self.total} controls)',
            f'5xx answers: {self.server_errors}',
            f'tracebacks in bodies: {self.tracebacks}',
            f'hostile requests that reached a protected handler: {self.reached_handler}',
            f'hostile websocket handshakes accepted: {self.websocket_accepted_hostile}',
            'by category: ' + ', '.join(f'{name}={count}' for name, count in sorted(self.by_category.items())),
            'by status: ' + ', '.join(f'{code}={count}' for code, count in sorted(self.by_status.items())),
        ]
        return lines


TALLY = Tally()


@dataclass
class RawResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((value for key, value in self.headers if key == name), None)


class RawConnection:
    """One persistent TCP connection that writes raw bytes and reads one HTTP/1.1 response back."""

    def __init__(self, port: int, timeout: float = 10.0) -> None:
        self.port = port
        self.timeout = timeout
        self._sock: socket.socket | None = None
        self._buffer = b''

    def _connect(self) -> socket.socket:
        if self._sock is None:
            self._sock = socket.create_connection(('127.0.0.1', self.port), timeout=self.timeout)
            self._buffer = b''
        return self._sock

    def close(self) -> None:
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.close()
        self._sock = None

    def _read_until(self, marker: bytes) -> bytes:
        while marker not in self._buffer:
            chunk = self._sock.recv(65536)
            if not chunk:
                raise ConnectionError('server closed the connection')
            self._buffer += chunk
        head, _, self._buffer = self._buffer.partition(marker)
        return head

    def _read_exactly(self, size: int) -> bytes:
        while len(self._buffer) < size:
            chunk = self._sock.recv(65536)
            if not chunk:
                raise ConnectionError('server closed the connection')
            self._buffer += chunk
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data

    def _read_to_close(self) -> bytes:
        while True:
            chunk = self._sock.recv(65536)
            if not chunk:
                data, self._buffer = self._buffer, b''
                return data
            self._buffer += chunk

    def exchange(self, request: bytes, *, head_only: bool = False, retry: bool = True) -> RawResponse:
        """Send `request` and read one response; reconnects once if the kept-alive connection was closed."""
        for attempt in (1, 2) if retry else (2,):
            sock = self._connect()
            try:
                sock.sendall(request)
                head = self._read_until(b'\r\n\r\n')
                break
            except (ConnectionError, OSError):
                self.close()
                if attempt == 2:
                    raise
        status_line, *header_lines = head.decode('latin-1').split('\r\n')
        status = int(status_line.split()[1])
        headers = []
        for line in header_lines:
            name, _, value = line.partition(':')
            headers.append((name.strip().lower(), value.strip()))
        response = RawResponse(status, headers, b'')
        length = response.header('content-length')
        if head_only or status in (101, 204, 304):
            pass
        elif length is not None:
            response.body = self._read_exactly(int(length))
        elif (response.header('transfer-encoding') or '').lower() == 'chunked':
            response.body = self._read_chunked()
        else:
            response.body = self._read_to_close()
        if (response.header('connection') or '').lower() == 'close' or status == 101:
            self.close()
        return response

    def _read_chunked(self) -> bytes:
        body = b''
        while True:
            size = int(self._read_until(b'\r\n').split(b';')[0], 16)
            if size == 0:
                self._read_until(b'\r\n')
                return body
            body += self._read_exactly(size)
            self._read_exactly(2)


def assert_error_shape(status: int, data: dict[str, Any], what: str) -> None:
    """A 422 is ``{"detail", "errors"}`` with each error ``{"loc", "msg", "type"}`` (the input never echoed)."""
    if status != 422:
        return
    assert set(data) == {'detail', 'errors'} and isinstance(data['errors'], list) and data['errors'], (what, data)
    for error in data['errors']:
        assert isinstance(error, dict) and set(error) == FIELD_ERROR_KEYS, (what, error)
        assert isinstance(error['loc'], list) and all(isinstance(part, str | int) for part in error['loc'])
        assert isinstance(error['msg'], str) and isinstance(error['type'], str), (what, error)


class Attacker:
    """Sends one category of hostile request at a time and checks the universal invariants."""

    def __init__(self, base_url: str, port: int, tally: Tally = TALLY) -> None:
        self.base_url = base_url
        self.port = port
        self.tally = tally
        self.http = httpx.Client(base_url=base_url, timeout=15.0)
        self.raw = RawConnection(port)

    def close(self) -> None:
        self.http.close()
        self.raw.close()

    # -- checks ---------------------------------------------------------------------------------

    def _check(self, category: str, status: int, content_type: str, body: bytes, what: str) -> None:
        self.tally.record(category, status)
        if status >= 500:
            self.tally.server_errors += 1
            raise AssertionError(f'{category}: {status} for {what}: {body[:500]!r}')
        if any(marker in body for marker in TRACEBACK_MARKERS):
            self.tally.tracebacks += 1
            raise AssertionError(f'{category}: traceback in body for {what}: {body[:2000]!r}')
        if status >= 400 and content_type.startswith('application/json') and body:
            data = orjson.loads(body)
            assert isinstance(data, dict) and isinstance(data.get('detail'), str) and data['detail'], (what, data)
            assert_error_shape(status, data, what)

    def http_request(self, category: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        response = self.http.request(method, path, **kwargs)
        self._check(
            category,
            response.status_code,
            response.headers.get('content-type', ''),
            response.content,
            f'{method} {path[:200]} {_short(kwargs)}',
        )
        return response

    def raw_request(self, category: str, request: bytes, *, head_only: bool = False) -> RawResponse:
        response = self.raw.exchange(request, head_only=head_only)
        self._check(
            category, response.status, response.header('content-type') or '', response.body, repr(request[:300])
        )
        return response

    def protected(self, category: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """A hostile request to a protected route: refused with a JSON detail, the handler never ran."""
        response = self.http_request(category, method, path, **kwargs)
        self.assert_refused(
            category,
            response.status_code,
            response.headers.get('content-type', ''),
            response.content,
            f'{method} {path[:200]} {_short(kwargs)}',
        )
        return response

    def raw_protected(self, category: str, request: bytes) -> RawResponse:
        response = self.raw_request(category, request)
        self.assert_refused(
            category, response.status, response.header('content-type') or '', response.body, repr(request[:300])
        )
        return response

    def raw_get_protected(self, category: str, path: str, headers: list[tuple[bytes, bytes]]) -> RawResponse:
        """GET `path` with header values written byte for byte (httpx refuses some of them)."""
        lines = [f'GET {path} HTTP/1.1'.encode(), b'Host: 127.0.0.1']
        lines += [name + b': ' + value for name, value in headers]
        return self.raw_protected(category, b'\r\n'.join(lines) + b'\r\n\r\n')

    def assert_refused(self, category: str, status: int, content_type: str, body: bytes, what: str) -> None:
        if status not in REFUSALS:
            self.tally.reached_handler += status == 200
            raise AssertionError(f'{category}: {status} (not a refusal) for {what}: {body[:300]!r}')
        if content_type.startswith('application/json'):
            assert set(orjson.loads(body)) == ({'detail', 'errors'} if status == 422 else {'detail'}), (what, body)
        else:  # only uvicorn itself answers in plain text: a request it could not even parse
            assert status in (400, 431), (status, content_type, what)

    def websocket_handshake(
        self,
        category: str,
        target: bytes,
        headers: list[tuple[bytes, bytes]] | None = None,
        *,
        key: bytes | None = None,
        timeout: float = 10.0,
    ) -> int:
        """A raw websocket handshake on a new connection; returns the HTTP status (101 = accepted)."""
        key = key if key is not None else base64.b64encode(b'0123456789abcdef')
        lines = [
            b'GET ' + target + b' HTTP/1.1',
            f'Host: 127.0.0.1:{self.port}'.encode(),
            b'Upgrade: websocket',
            b'Connection: Upgrade',
            b'Sec-WebSocket-Key: ' + key,
            b'Sec-WebSocket-Version: 13',
        ]
        lines += [name + b': ' + value for name, value in headers or ()]
        connection = RawConnection(self.port, timeout)
        try:
            response = connection.exchange(b'\r\n'.join(lines) + b'\r\n\r\n', head_only=True, retry=False)
            if response.status != 101 and response.header('content-length'):
                response.body = connection._read_exactly(int(response.header('content-length')))
        finally:
            connection.close()
        self._check(category, response.status, response.header('content-type') or '', response.body, repr(target[:300]))
        return response.status


def _short(kwargs: dict[str, Any]) -> str:
    text = repr(kwargs)
    return text if len(text) < 300 else text[:300] + '...'
