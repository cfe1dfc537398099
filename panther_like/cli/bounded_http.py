"""`BoundedHttpToolsProtocol`: uvicorn's httptools protocol with the bounds of `ServerLimits` (see `.limits`)."""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from panther_like.cli.limits import ServerLimits

_REASONS = {408: b'Request Timeout', 431: b'Request Header Fields Too Large'}


class _HeadTooLarge(Exception):
    """Raised from a parser callback to stop parsing a head that is over a limit."""


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, bounded by `ServerLimits` (read from the environment once per worker)."""

    limits: ServerLimits | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if BoundedHttpToolsProtocol.limits is None:
            BoundedHttpToolsProtocol.limits = ServerLimits.from_env()
        self._limits: ServerLimits = BoundedHttpToolsProtocol.limits
        self._in_head = True
        self._head_bytes = 0  # complete lines, counted by the parser callbacks
        self._raw_head_bytes = 0  # reads that began and ended inside the head
        self._header_count = 0
        self._begun = False  # a byte of the current request has arrived
        self._head_timer: asyncio.TimerHandle | None = None
        self._body_timer: asyncio.TimerHandle | None = None

    # -- the connection --------------------------------------------------------------------------

    # uvicorn narrows BaseProtocol's transport to asyncio.Transport, and so does its override we extend.
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_timers()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        was_in_head = self._in_head
        super().data_received(data)  # a callback's _HeadTooLarge reaches send_400_response, which answers 431
        if self.parser is None or self.transport.is_closing():
            return
        if self._in_head and was_in_head:
            # The head began before this read and is still not over: every byte of it is head, including
            # a header line still arriving, which on_header has not counted yet.
            self._raw_head_bytes += len(data)
            if self._raw_head_bytes > self._limits.max_head_bytes:
                self._refuse(431)

    def send_400_response(self, msg: str) -> None:
        if self._over_limit:
            self._refuse(431)
            return
        super().send_400_response(msg)

    # -- parser callbacks ------------------------------------------------------------------------

    _over_limit = False

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._begun = True
        self._in_head = True
        self._head_bytes = self._raw_head_bytes = self._header_count = 0
        if self._head_timer is None:
            self._arm_head_timer()

    def on_url(self, url: bytes) -> None:
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_count += 1
        if self._header_count > self._limits.max_headers:
            self._over_limit = True
            raise _HeadTooLarge
        self._count(len(name) + len(value) + 4)
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._head_bytes = self._raw_head_bytes = 0
        self._cancel_head_timer()
        super().on_headers_complete()
        if self._has_body() and self.cycle is not None and not self.transport.is_closing():
            self._arm_body_timer()

    def on_body(self, body: bytes) -> None:
        super().on_body(body)
        if self._body_timer is not None:
            self._arm_body_timer()

    def on_message_complete(self) -> None:
        self._cancel_body_timer()
        super().on_message_complete()
        self._begun = False
        self._in_head = True  # what the client sends next is the next request's head
        self._head_bytes = self._raw_head_bytes = self._header_count = 0

    # -- the bounds ------------------------------------------------------------------------------

    def _count(self, size: int) -> None:
        self._head_bytes += size
        if self._head_bytes > self._limits.max_head_bytes:
            self._over_limit = True
            raise _HeadTooLarge

    def _has_body(self) -> bool:
        for name, value in self.headers or ():
            if name == b'content-length':
                return value.strip() not in (b'0', b'')
            if name == b'transfer-encoding':
                return True
        return False

    def _arm_head_timer(self) -> None:
        self._cancel_head_timer()
        if self._limits.head_timeout > 0:
            self._head_timer = self.loop.call_later(self._limits.head_timeout, self._head_timed_out)

    def _arm_body_timer(self) -> None:
        self._cancel_body_timer()
        if self._limits.body_timeout > 0:
            self._body_timer = self.loop.call_later(self._limits.body_timeout, self._body_timed_out)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _cancel_body_timer(self) -> None:
        if self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None

    def _cancel_timers(self) -> None:
        self._cancel_head_timer()
        self._cancel_body_timer()

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if not self._in_head or self.transport.is_closing():
            return
        if not self._begun:  # a connection opened and never used (a browser's preconnect): just close it
            self.transport.close()
            return
        self.logger.warning('Request head not received within %s s; connection closed.', self._limits.head_timeout)
        self._refuse(408)

    def _body_timed_out(self) -> None:
        self._body_timer = None
        if self.transport.is_closing():
            return
        if self.flow is not None and self.flow.read_paused:  # the app is not reading: not the client's delay
            self._arm_body_timer()
            return
        self.logger.warning('Request body stalled for %s s; connection closed.', self._limits.body_timeout)
        self.transport.close()

    def _refuse(self, status: int) -> None:
        """Answer `status` with a one-line text body and close (the request never reaches the app)."""
        self._cancel_timers()
        if self.transport.is_closing():
            return
        reason = _REASONS[status]
        body = reason
        head = [b'HTTP/1.1 %d %s\r\n' % (status, reason)]
        for name, value in self.server_state.default_headers:
            head.append(name + b': ' + value + b'\r\n')
        head.append(
            b'content-type: text/plain; charset=utf-8\r\ncontent-length: %d\r\nconnection: close\r\n\r\n' % len(body)
        )
        self.transport.write(b''.join(head) + body)
        self.transport.close()
