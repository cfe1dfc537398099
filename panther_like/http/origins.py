"""Is a browser request's ``Origin`` this site, or one the settings trust (``TRUSTED_ORIGINS``)?

Why it matters: a browser attaches a site's cookies to requests that any
other page makes it send, and for a websocket handshake (which CORS does
not cover) or a form POST it says where the page came from only in
``Origin``. A cookie-authenticated request from a foreign origin is
therefore refused (see `panther_like.security.apikey`).

What counts as this site: the origin the browser addressed, i.e. the
request's scheme (``https`` when a trusted proxy says so in
``X-Forwarded-Proto``, see `panther_like.http.client_address`) with the
``Host`` header, default ports made explicit. ``Origin: null`` (a
sandboxed frame, a ``data:`` page, some redirects) is never this site. A
request without ``Origin`` is not judged here: non-browser clients do not
send one, and every browser sends one on the requests that matter
(websocket handshakes and cross-origin unsafe methods).

``TRUSTED_ORIGINS`` adds origins such as ``'https://app.example.com'``
(exact scheme, host and port) or ``'https://*.example.com'`` (any
subdomain, not the bare domain): a front end served from another host, or
a public host name a proxy rewrites away from ``Host``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from panther_like.exceptions import ConfigError

if TYPE_CHECKING:
    from panther_like.http.request import HTTPConnection

DEFAULT_PORTS = {'http': 80, 'https': 443}
_BROWSER_SCHEMES = {'http': 'http', 'https': 'https', 'ws': 'http', 'wss': 'https'}
MAX_ORIGIN_LENGTH = 2048

#: (scheme, host, port)
Origin = tuple[str, str, int]


def parse_origin(value: str) -> Origin | None:
    """``https://Example.com`` -> ``('https', 'example.com', 443)``; None for anything a browser would not send."""
    if not value or len(value) > MAX_ORIGIN_LENGTH:
        return None
    scheme, sep, rest = value.strip().partition('://')
    scheme = scheme.lower()
    if not sep or scheme not in DEFAULT_PORTS or not rest or any(c in rest for c in '/?#@\\ \t'):
        return None
    return _host_port(rest, scheme)


def _host_port(authority: str, scheme: str) -> Origin | None:
    """``host``, ``host:port``, ``[v6]`` or ``[v6]:port`` for `scheme`; None when malformed."""
    authority = authority.lower()
    if authority.startswith('['):
        host, bracket, rest = authority.partition(']')
        host += bracket
        if not bracket or (rest and not rest.startswith(':')):
            return None
        port_text = rest[1:]
    else:
        host, _, port_text = authority.partition(':')
        if ':' in port_text:
            return None
    if not host or not host.isascii():
        return None
    if port_text == '' and authority.endswith(':'):
        return None
    if port_text:
        if not port_text.isdigit() or len(port_text) > 5 or not 0 < int(port_text) < 65536:
            return None
        port = int(port_text)
    else:
        port = DEFAULT_PORTS[scheme]
    return scheme, host, port


def request_origin(scope: Mapping[str, Any], host_header: str | None) -> Origin | None:
    """The origin a browser addressed to make this request (HTTP or websocket `scope`)."""
    scheme = _BROWSER_SCHEMES.get(str(scope.get('scheme') or 'http').lower(), 'http')
    if not host_header:
        return None
    return _host_port(host_header.strip(), scheme)


class TrustedOrigins:
    """``TRUSTED_ORIGINS``: exact origins and ``scheme://*.domain[:port]`` patterns, checked at build time."""

    __slots__ = ('_exact', '_suffixes', 'entries')

    def __init__(self, entries: Iterable[str] = ()) -> None:
        self.entries: tuple[str, ...] = tuple(entries)
        self._exact: set[Origin] = set()
        self._suffixes: list[tuple[str, str, int]] = []  # (scheme, '.example.com', port)
        for entry in self.entries:
            wildcard = '://*.' in entry
            parsed = parse_origin(entry.replace('://*.', '://', 1) if wildcard else entry)
            if parsed is None:
                raise ValueError(f'{entry!r} is not an origin such as https://app.example.com or https://*.example.com')
            if wildcard:
                self._suffixes.append((parsed[0], '.' + parsed[1], parsed[2]))
            else:
                self._exact.add(parsed)

    def __bool__(self) -> bool:
        return bool(self.entries)

    def __repr__(self) -> str:
        return f'TrustedOrigins({list(self.entries)!r})'

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TrustedOrigins) and other.entries == self.entries

    def __hash__(self) -> int:
        return hash(self.entries)

    def trusts(self, origin: Origin) -> bool:
        if origin in self._exact:
            return True
        scheme, host, port = origin
        return any(scheme == s and port == p and host.endswith(suffix) for s, suffix, p in self._suffixes)


def trusted_origins_setting(value: Any) -> TrustedOrigins:
    """``TRUSTED_ORIGINS``: a list of origins, or one comma-separated string; absent: none."""
    if value is None:
        return TrustedOrigins()
    if isinstance(value, str):
        entries = [entry.strip() for entry in value.split(',') if entry.strip()]
    elif isinstance(value, list | tuple | set | frozenset) and all(isinstance(entry, str) for entry in value):
        entries = [entry.strip() for entry in value]
    else:
        raise ConfigError('TRUSTED_ORIGINS', value, "must be a list such as ['https://app.example.com']")
    try:
        return TrustedOrigins(entries)
    except ValueError as exc:
        raise ConfigError('TRUSTED_ORIGINS', value, str(exc)) from None


def origin_allowed(connection: HTTPConnection, trusted: TrustedOrigins | None = None) -> bool:
    """True when `connection` sends no ``Origin``, or exactly one naming this site or a trusted origin."""
    origins = connection.headers.getlist('origin')
    if not origins:
        return True
    if len(origins) != 1:
        return False
    origin = parse_origin(origins[0])
    if origin is None:  # 'null', or something no browser sends
        return False
    hosts = connection.headers.getlist('host')
    if len(hosts) == 1 and origin == request_origin(connection.scope, hosts[0]):
        return True
    if trusted is None:
        config = getattr(getattr(connection.scope.get('app'), 'config', None), 'trusted_origins', None)
        trusted = config if isinstance(config, TrustedOrigins) else None
    return trusted is not None and trusted.trusts(origin)
