"""What a handler reads: `Request` for HTTP, the `HTTPConnection` base it shares with websockets.

Everything is parsed lazily and once: a route that never looks at cookies
never pays for parsing them. Parsing never raises on hostile input (odd
bytes in headers, broken cookies, repeated query keys); only `Request.data`
raises, a 400, because a body that does not parse is the client's mistake.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import Any
from urllib.parse import parse_qsl

import orjson

from panther_like.exceptions import BadRequestAPIError, PayloadTooLargeAPIError
from panther_like.http.asgi import Receive, Scope

DEFAULT_MAX_BODY_SIZE = 1024 * 1024
#: The path parameters of a route that has none: one shared, read-only mapping instead of a dict per request.
NO_PATH_PARAMS: Mapping[str, str] = MappingProxyType({})
FORM_CONTENT_TYPE = 'application/x-www-form-urlencoded'
MAX_FORM_FIELDS = 100


class Headers(Mapping[str, str]):
    """Case-insensitive, read-only view of ASGI headers; `getlist` keeps repeats.

    ASGI servers deliver header names lower-cased (the ASGI spec requires
    it), so only the name asked for is lower-cased, never the raw list. The
    name -> value map is built on first use: an authentication class that
    only needs one header scans the raw list instead.
    """

    __slots__ = ('_map', '_raw')

    def __init__(self, raw: list[tuple[bytes, bytes]]) -> None:
        self._raw = raw
        self._map: dict[str, str] | None = None

    def _mapping(self) -> dict[str, str]:
        if self._map is None:
            self._map = {}
            for name, value in self._raw:
                self._map.setdefault(name.decode('latin-1'), value.decode('latin-1'))
        return self._map

    def __getitem__(self, name: str) -> str:
        return self._mapping()[name.lower()]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._mapping()

    def __iter__(self) -> Iterator[str]:
        return iter(self._mapping())

    def __len__(self) -> int:
        return len(self._mapping())

    def getlist(self, name: str) -> list[str]:
        wanted = name.lower().encode('latin-1')
        return [value.decode('latin-1') for key, value in self._raw if key == wanted]

    def __getattr__(self, name: str) -> str | None:
        """``headers.content_type``: the header ``content-type``, or None when it was not sent (as in Panther)."""
        if name.startswith('_'):
            raise AttributeError(name)
        return self.get(name.replace('_', '-'))

    def __repr__(self) -> str:
        # Never print credentials when a request is logged or shown in a debugger.
        hidden = {'authorization', 'cookie', 'proxy-authorization'}
        return f'Headers({ {k: ("***" if k in hidden else v) for k, v in self._mapping().items()} })'


class QueryParams(Mapping[str, str]):
    """The query string as a mapping (the first value of each key); `getlist` keeps repeats."""

    __slots__ = ('_items', '_map')

    def __init__(self, query_string: bytes) -> None:
        self._items = parse_qsl(query_string.decode('latin-1'), keep_blank_values=True)
        self._map: dict[str, str] = {}
        for key, value in self._items:
            self._map.setdefault(key, value)

    def __getitem__(self, key: str) -> str:
        return self._map[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._map)

    def __len__(self) -> int:
        return len(self._map)

    def getlist(self, key: str) -> list[str]:
        return [value for name, value in self._items if name == key]


def parse_cookies(header: str) -> dict[str, str]:
    """Lenient ``Cookie:`` parsing: one malformed pair never hides the others.

    The standard library's ``SimpleCookie`` drops every cookie when one is
    malformed, which turns junk from one site into a logout on another.
    """
    cookies: dict[str, str] = {}
    for chunk in header.split(';'):
        name, separator, value = chunk.partition('=')
        name, value = name.strip(' \t'), value.strip(' \t')  # not control characters or Unicode spaces
        if not separator or not name:
            continue
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        cookies.setdefault(name, value)
    return cookies


class HTTPConnection:
    """What HTTP requests and websockets share: the scope and what is parsed from it.

    ``state`` is a dict for whatever a permission, an authenticator or a
    handler wants to hand on within one request.
    """

    __slots__ = ('_cookies', '_headers', '_query_params', '_state', 'auth', 'path_params', 'scope', 'user')

    def __init__(self, scope: Scope, path_params: Mapping[str, str] = NO_PATH_PARAMS) -> None:
        self.scope = scope
        self.path_params = path_params
        self.user: Any = None
        self.auth: Any = None
        self._headers: Headers | None = None
        self._query_params: QueryParams | None = None
        self._cookies: dict[str, str] | None = None
        self._state: dict[str, Any] | None = None

    @property
    def state(self) -> dict[str, Any]:
        if self._state is None:
            self._state = {}
        return self._state

    @property
    def app(self) -> Any:
        """The `Panther` app serving this connection (``scope['app']``): its store, tokens and settings."""
        return self.scope['app']

    @property
    def path(self) -> str:
        path: str = self.scope['path']
        return path

    @property
    def headers(self) -> Headers:
        if self._headers is None:
            self._headers = Headers(self.scope.get('headers') or [])
        return self._headers

    @property
    def query_params(self) -> QueryParams:
        if self._query_params is None:
            self._query_params = QueryParams(self.scope.get('query_string') or b'')
        return self._query_params

    @property
    def cookies(self) -> dict[str, str]:
        if self._cookies is None:
            self._cookies = {}
            for header in self.headers.getlist('cookie'):
                for name, value in parse_cookies(header).items():
                    self._cookies.setdefault(name, value)
        return self._cookies

    @property
    def client(self) -> tuple[str, int] | None:
        client = self.scope.get('client')
        return tuple(client) if client else None


class Request(HTTPConnection):
    """An HTTP request; the app reads the body once the route's guard has let it through."""

    __slots__ = ('_data', 'body', 'validated')
    _UNPARSED = object()

    def __init__(self, scope: Scope, body: bytes = b'', path_params: Mapping[str, str] = NO_PATH_PARAMS) -> None:
        super().__init__(scope, path_params)
        self.body = body
        self._data: Any = self._UNPARSED
        #: The body checked against the route's input model (``@API(input_model=...)``), else None.
        self.validated: Any = None

    @property
    def validated_data(self) -> Any:
        """Panther's name for `validated`: the body as the route's input model, else None."""
        return self.validated

    @validated_data.setter
    def validated_data(self, value: Any) -> None:
        self.validated = value

    @property
    def method(self) -> str:
        method: str = self.scope['method']
        return method

    @property
    def content_type(self) -> str:
        """The media type of the body, lower-cased, without parameters (``application/json``)."""
        return self.headers.get('content-type', '').partition(';')[0].strip().lower()

    @property
    def form(self) -> dict[str, str]:
        """An ``application/x-www-form-urlencoded`` body as a dict; a field sent twice, or bytes that are
        not UTF-8, are a 400 (which copy would be the real one?)."""
        try:
            text = self.body.decode('utf-8')
            pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS, errors='strict')
        except (UnicodeDecodeError, ValueError):
            raise BadRequestAPIError('Request body is not a valid form (UTF-8, at most 100 fields)') from None
        form: dict[str, str] = {}
        for name, value in pairs:
            if name in form:
                raise BadRequestAPIError(f'Form field {name!r} is sent more than once')
            form[name] = value
        return form

    @property
    def data(self) -> Any:
        """The JSON body, parsed on first access; an empty body is ``None``; invalid JSON is a 400."""
        if self._data is self._UNPARSED:
            if not self.body:
                self._data = None
            else:
                try:
                    self._data = orjson.loads(self.body)
                except orjson.JSONDecodeError:
                    raise BadRequestAPIError('Request body is not valid JSON') from None
        return self._data

    def __repr__(self) -> str:
        return f'<Request {self.method} {self.path}>'


def announces_body(scope: Mapping[str, Any], limit: int = DEFAULT_MAX_BODY_SIZE) -> bool:
    """Whether the request says a body follows; a 400 for a bad Content-Length, a 413 for one over `limit`.

    A request that announces no body (no Content-Length, no Transfer-Encoding,
    the usual GET) is not read at all: the server discards what is left. A
    plain function, so the usual GET costs no coroutine.
    """
    announced = False
    for name, value in scope.get('headers') or ():
        if name == b'content-length':
            if not value.isdigit():
                raise BadRequestAPIError('Content-Length header is not a number')
            if int(value) > limit:
                raise PayloadTooLargeAPIError(f'Request body is larger than {limit} bytes')
            announced = announced or value != b'0'
        elif name == b'transfer-encoding':
            announced = True
    return announced


async def read_body(receive: Receive, limit: int = DEFAULT_MAX_BODY_SIZE) -> bytes:
    """Read the whole body, refusing (413) anything larger than `limit` before buffering it."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message['type'] != 'http.request':  # http.disconnect: the client went away
            break
        chunk = message.get('body', b'')
        size += len(chunk)
        if size > limit:
            raise PayloadTooLargeAPIError(f'Request body is larger than {limit} bytes')
        chunks.append(chunk)
        if not message.get('more_body', False):
            break
    return b''.join(chunks)
