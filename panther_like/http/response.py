"""`Response`: data rendered to JSON with orjson, and sent over ASGI.

Models render through `Model.public_dict()`, so a handler that returns a
user (or a list of them, or a dict holding one) never leaks the password
hash: the one place that turns a model into JSON is here.
"""

from __future__ import annotations

from collections.abc import Mapping
from http.cookies import SimpleCookie
from typing import Any, Literal

import orjson
from pydantic import BaseModel

from panther_like import status

JSON_CONTENT_TYPE = b'application/json'
JSON_CONTENT_TYPE_HEADER = (b'content-type', JSON_CONTENT_TYPE)
_BODYLESS = frozenset({status.HTTP_204_NO_CONTENT, status.HTTP_304_NOT_MODIFIED})


def _default(value: Any) -> Any:
    """orjson calls this for what it cannot render itself."""
    public = getattr(value, 'public_dict', None)
    if public is not None:
        return public()
    if isinstance(value, BaseModel):
        return value.model_dump(mode='json')
    if isinstance(value, set | frozenset):
        return list(value)
    raise TypeError(f'{type(value).__name__} is not JSON serializable')


def render(data: Any) -> bytes:
    return orjson.dumps(data, default=_default, option=orjson.OPT_NON_STR_KEYS)


#: A header value, or several values of one header (``WWW-Authenticate`` challenges, say).
HeaderValue = str | list[str]


class Response:
    """A JSON response. `data` may be a dict, list, str, number, None or a model instance."""

    __slots__ = ('cookies', 'data', 'headers', 'status_code')

    def __init__(
        self,
        data: Any = None,
        status_code: int = status.HTTP_200_OK,
        headers: Mapping[str, HeaderValue] | None = None,
    ) -> None:
        self.data = data
        self.status_code = status_code
        self.headers: dict[str, HeaderValue] = dict(headers) if headers else {}
        #: ``Set-Cookie`` values, one per cookie (see `set_cookie`).
        self.cookies: list[str] = []

    def set_cookie(
        self,
        key: str,
        value: str = '',
        *,
        max_age: int | None = None,
        path: str = '/',
        domain: str | None = None,
        secure: bool = True,
        httponly: bool = True,
        samesite: Literal['lax', 'strict', 'none'] | None = 'lax',
    ) -> None:
        """Add a ``Set-Cookie`` header; the defaults are the safe ones.

        ``Secure`` (never sent over plain http: browsers treat localhost as
        secure, so development works), ``HttpOnly`` (page scripts cannot read
        it) and ``SameSite=Lax`` (other sites' POSTs do not carry it). Turn
        one off only for a reason: a CSRF cookie that the page must read is
        ``httponly=False``. Formatting and quoting are the standard library's
        (`http.cookies`), which refuses a key that is not a valid cookie name.
        """
        cookie: SimpleCookie = SimpleCookie()
        cookie[key] = value
        morsel = cookie[key]
        if not value:
            morsel.set(key, '', '')  # ``key=``, not ``key=""``: an empty value needs no quotes
        morsel['path'] = path
        if max_age is not None:
            morsel['max-age'] = max_age
        if domain is not None:
            morsel['domain'] = domain
        if secure:
            morsel['secure'] = True
        if httponly:
            morsel['httponly'] = True
        if samesite is not None:
            morsel['samesite'] = samesite.capitalize()
        self.cookies.append(morsel.OutputString())

    def delete_cookie(
        self,
        key: str,
        *,
        path: str = '/',
        domain: str | None = None,
        secure: bool = True,
        httponly: bool = True,
        samesite: Literal['lax', 'strict', 'none'] | None = 'lax',
    ) -> None:
        """Tell the browser to drop cookie `key` (same path and domain as when it was set)."""
        self.set_cookie(
            key, '', max_age=0, path=path, domain=domain, secure=secure, httponly=httponly, samesite=samesite
        )

    @property
    def body(self) -> bytes:
        if self.status_code in _BODYLESS:
            return b''
        return render(self.data)

    def json(self) -> Any:
        """The data as a client will see it: rendered and parsed back."""
        body = self.body
        return orjson.loads(body) if body else None

    async def send(
        self,
        send: Any,
        body: bytes,
        content_length: int | None = None,
        headers: Mapping[str, HeaderValue] | None = None,
    ) -> None:
        """Send `body` (already rendered, so a rendering error can still become a 500).

        `headers`, when given, are sent instead of this response's own: the app adds its per-request
        headers (rate limits, CORS) to a copy, since a handler may return one shared `Response`.
        """
        length = str(len(body) if content_length is None else content_length).encode()
        own = self.headers if headers is None else headers
        if not own and not self.cookies:  # the usual case: nothing to merge
            raw_headers = [JSON_CONTENT_TYPE_HEADER, (b'content-length', length)]
        else:
            raw_headers = self._raw_headers(length, own)
        if self.status_code in _BODYLESS:  # no content, so no type of it (RFC 9110 section 8.3)
            raw_headers = [header for header in raw_headers if header[0] != b'content-type']
        await send({'type': 'http.response.start', 'status': self.status_code, 'headers': raw_headers})
        await send({'type': 'http.response.body', 'body': body})

    def _raw_headers(self, length: bytes, headers: Mapping[str, HeaderValue]) -> list[tuple[bytes, bytes]]:
        raw_headers = [JSON_CONTENT_TYPE_HEADER, (b'content-length', length)]
        for name, value in headers.items():
            lowered = name.lower()
            if lowered in ('content-length', 'content-type'):
                if lowered == 'content-type' and value:  # one value: a list's last, as a later header would win
                    chosen = value if isinstance(value, str) else value[-1]
                    raw_headers[0] = (b'content-type', chosen.encode('latin-1'))
                continue
            if isinstance(value, list | tuple):  # several values: WWW-Authenticate challenges
                raw_headers.extend((lowered.encode('latin-1'), item.encode('latin-1')) for item in value)
            else:
                raw_headers.append((lowered.encode('latin-1'), value.encode('latin-1')))
        raw_headers.extend((b'set-cookie', cookie.encode('latin-1')) for cookie in self.cookies)
        return raw_headers

    def __repr__(self) -> str:
        return f'<Response {self.status_code}>'
