"""Cross-origin resource sharing: which other sites' pages may read this API's responses.

A browser lets a page read a response from another origin only when the
response says so (``Access-Control-Allow-Origin``), and before an
"unsafe" cross-origin request (a JSON body, an ``Authorization`` header,
a PUT) it first asks with a preflight: ``OPTIONS`` carrying
``Access-Control-Request-Method``. The policy here answers both, from the
``CORS`` setting (checked in `panther_like.settings.cors`): a preflight is
answered before routing and authentication (it carries no credentials, so
a protected route would otherwise refuse the very question), and every
other response to a request with an allowed ``Origin`` (errors too, so a
page can read why it was refused) carries the allow headers.

CORS is not a protection for the server: a request a browser refuses to
show to the page has still been served. What keeps another site from
acting with a user's cookies is the CSRF check of the cookie credentials.
"""

from __future__ import annotations

from collections.abc import Iterable, MutableMapping
from dataclasses import dataclass

from panther_like import status
from panther_like.http.origins import TrustedOrigins, parse_origin

ANY = '*'
DEFAULT_METHODS = ('GET', 'POST', 'PUT', 'PATCH', 'DELETE')
DEFAULT_MAX_AGE = 600
#: The header names a preflight may ask about are tokens (RFC 9110 section 5.1); anything else is refused.
_TOKEN_CHARS = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyz")


@dataclass(frozen=True, slots=True)
class CORSPolicy:
    """Who may read responses across origins. Built by `panther_like.settings.cors` from ``CORS``.

    `origins`: exact origins and ``https://*.example.com`` patterns; `any_origin`: ``'*'`` was
    listed (never together with `credentials`). `methods` and `headers` are upper- and lower-case;
    `any_header`: ``'*'``, every requested header is allowed.
    """

    origins: TrustedOrigins
    any_origin: bool = False
    credentials: bool = False
    methods: frozenset[str] = frozenset(DEFAULT_METHODS)
    headers: frozenset[str] = frozenset()
    any_header: bool = False
    expose_headers: tuple[str, ...] = ()
    max_age: int = DEFAULT_MAX_AGE

    def allows(self, origin: str) -> bool:
        if self.any_origin:
            return True
        parsed = parse_origin(origin)
        return parsed is not None and self.origins.trusts(parsed)

    def _allow_origin(self, origin: str) -> str:
        """``*`` for any origin without credentials (cacheable for all); else the origin itself."""
        return ANY if self.any_origin and not self.credentials else origin

    @property
    def varies(self) -> bool:
        """Whether the answer depends on ``Origin``, so a cache must keep one copy per origin."""
        return not (self.any_origin and not self.credentials)

    def preflight(self, origin: str, method: str, requested_headers: str | None) -> tuple[int, dict[str, str]]:
        """Status and headers of the answer to a preflight: 204 when allowed, 403 otherwise."""
        headers: dict[str, str] = {'Vary': 'Origin'} if self.varies else {}
        if not self.allows(origin) or method.upper() not in self.methods:
            return status.HTTP_403_FORBIDDEN, headers
        asked = [name.strip().lower() for name in (requested_headers or '').split(',') if name.strip()]
        if any(not set(name) <= _TOKEN_CHARS for name in asked):
            return status.HTTP_403_FORBIDDEN, headers
        if not self.any_header and any(name not in self.headers for name in asked):
            return status.HTTP_403_FORBIDDEN, headers
        headers['Access-Control-Allow-Origin'] = self._allow_origin(origin)
        headers['Access-Control-Allow-Methods'] = ', '.join(sorted(self.methods))
        if asked:
            headers['Access-Control-Allow-Headers'] = ', '.join(asked)
        if self.credentials:
            headers['Access-Control-Allow-Credentials'] = 'true'
        headers['Access-Control-Max-Age'] = str(self.max_age)
        return status.HTTP_204_NO_CONTENT, headers

    def decorate(self, headers: MutableMapping[str, str | list[str]], origin: str | None) -> None:
        """Add the allow headers for a request from `origin` to a response's `headers`."""
        if self.varies:
            _add_vary(headers)
        if origin is None or not self.allows(origin):
            return
        headers['Access-Control-Allow-Origin'] = self._allow_origin(origin)
        if self.credentials:
            headers['Access-Control-Allow-Credentials'] = 'true'
        if self.expose_headers:
            headers['Access-Control-Expose-Headers'] = ', '.join(self.expose_headers)


def _add_vary(headers: MutableMapping[str, str | list[str]]) -> None:
    for name in list(headers):
        if name.lower() == 'vary':
            value = headers[name]
            values = value if isinstance(value, list) else [value]
            if not any('origin' in (part.strip().lower() for part in item.split(',')) for item in values):
                headers[name] = [*values, 'Origin']
            return
    headers['Vary'] = 'Origin'


def header_names(names: Iterable[str]) -> frozenset[str]:
    """Header names as a preflight compares them: lower case."""
    return frozenset(name.strip().lower() for name in names)
