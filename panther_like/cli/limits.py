"""What one client may make a ``panther-like run`` worker hold: the HTTP protocol with bounds uvicorn lacks.

uvicorn's default HTTP parser (httptools) accepts a request head of any
size and any number of header lines, and neither of its parsers has a
deadline for the head or the body: a client that sends a 1 MB header,
5,000 headers, or its headers one byte at a time (slowloris) holds memory
and a connection slot for as long as it likes. `BoundedHttpToolsProtocol`
(`panther_like.cli.bounded_http`) is uvicorn's httptools protocol with
four bounds (`ServerLimits`):

- ``max_head_bytes``: the request line and headers together; past it the
  answer is ``431 Request Header Fields Too Large`` and the connection
  closes. It is enforced on every complete header line and, for a line
  still arriving, on each read (so at most one socket read beyond it).
- ``max_headers``: header lines per request; past it, 431.
- ``head_timeout``: seconds from a connection's opening (or a request's
  first byte) to the end of its head; past it, ``408 Request Timeout``
  and the connection closes (a connection that sent nothing is closed
  without an answer). uvicorn's own ``timeout_keep_alive`` covers the idle
  time between requests.
- ``body_timeout``: the longest silence while the body arrives (reset by
  every chunk, paused while the app itself is not reading); past it the
  connection closes and the app sees a disconnect.

``panther-like run`` passes its options to every worker through the
environment (`LIMITS_ENV_VAR`), as it does the APP argument. Without
httptools (uvicorn installed without its ``standard`` extra) it falls
back to uvicorn's h11 parser, which bounds the head size only.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass

import orjson

LIMITS_ENV_VAR = 'PANTHER_LIKE_SERVER_LIMITS'
#: What ``panther-like run`` gives uvicorn as ``http`` (imported by each worker).
PROTOCOL = 'panther_like.cli.bounded_http:BoundedHttpToolsProtocol'


@dataclass(frozen=True)
class ServerLimits:
    """The defaults hold any browser and API client; see docs/deployment.md for what each bounds."""

    max_head_bytes: int = 64 * 1024
    max_headers: int = 100
    head_timeout: float = 10.0
    body_timeout: float = 30.0

    def to_env(self) -> str:
        return orjson.dumps(asdict(self)).decode()

    @classmethod
    def from_env(cls) -> ServerLimits:
        text = os.environ.get(LIMITS_ENV_VAR)
        return cls(**orjson.loads(text)) if text else cls()


DEFAULT_LIMITS = ServerLimits()
