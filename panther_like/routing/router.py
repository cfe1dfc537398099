"""URL dicts -> a router built once: exact paths in a dict, parameterised ones grouped by length.

Keys look like ``'users/<user_id>/'``: no leading slash, any trailing
slash ignored; a nested dict mounts a group under its key, and
``Group(urls, auth=...)`` mounts one with a default ``auth`` for every
route inside it. Parameters match one non-empty path segment and reach
handlers as strings.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from panther_like.common.sentinel import UNSET
from panther_like.exceptions import ConfigError
from panther_like.http.request import NO_PATH_PARAMS

PARAMETER = re.compile(r'<([A-Za-z_][A-Za-z0-9_]*)>')


class Group:
    """``{'admin/': Group(admin_urls, auth=StaffOnly())}``: a URL group with a default ``auth``.

    Every route inside (nested groups included) uses `auth` unless it sets
    its own ``auth=`` (``auth=None`` opts out); a nested ``Group`` sets a new
    default for its own routes, and ``Group(urls, auth=None)`` makes a
    public island inside a protected one. Without ``auth`` a Group is a
    plain nested dict. The default applies to websockets too, so a group
    never leaves one of its routes unprotected by surprise.
    """

    __slots__ = ('auth', 'urls')

    def __init__(self, urls: Mapping[str, Any], *, auth: Any = UNSET) -> None:
        if not isinstance(urls, Mapping):
            raise ConfigError('URLS', urls, f'Group({urls!r}) needs a dict of routes')
        self.urls = urls
        self.auth = auth

    def __repr__(self) -> str:
        return f'Group({len(self.urls)} routes, auth={self.auth!r})'


def flatten_routes(
    urls: Mapping[str, Any] | Group, prefix: str = '', default_auth: Any = UNSET
) -> list[tuple[str, Any, Any]]:
    """``{'auth/': Group({'login': x}, auth=a)}`` -> ``[('auth/login', x, a)]``: path, target, inherited auth."""
    if isinstance(urls, Group):
        default_auth = default_auth if urls.auth is UNSET else urls.auth
        urls = urls.urls
    if not isinstance(urls, Mapping):
        raise ConfigError('URLS', urls, f'{urls!r} is not a dict of routes')
    routes: list[tuple[str, Any, Any]] = []
    for key, target in urls.items():
        if not isinstance(key, str):
            raise ConfigError('URLS', key, f'route key {key!r} is not a string')
        if key.startswith('/'):
            raise ConfigError('URLS', key, f'route key {key!r} must not start with "/"')
        path = '/'.join(part for part in (prefix, key.strip('/')) if part)
        if isinstance(target, Mapping | Group):
            routes.extend(flatten_routes(target, path, default_auth))
        else:
            routes.append((path, target, default_auth))
    return routes


def _segments(path: str) -> tuple[str | None, ...]:
    """Literal segments as text, parameters as None (their names are kept separately)."""
    segments: list[str | None] = []
    for segment in path.split('/'):
        if PARAMETER.fullmatch(segment):
            segments.append(None)
        elif '<' in segment or '>' in segment or not segment:
            raise ConfigError('URLS', path, f'route {path!r} has a malformed segment {segment!r}')
        else:
            segments.append(segment)
    return tuple(segments)


class Router:
    """Resolves a request path to ``(endpoint, path_params)``."""

    def __init__(self, routes: list[tuple[str, Any]]) -> None:
        self.routes: list[tuple[str, Any]] = []
        self._static: dict[str, Any] = {}
        self._dynamic: dict[int, list[tuple[tuple[str | None, ...], tuple[str, ...], Any]]] = {}
        self._seen: set[tuple[str | None, ...]] = set()
        for path, endpoint in routes:
            self.add(path, endpoint)

    def check(self, path: str) -> tuple[tuple[str | None, ...], tuple[str, ...]]:
        """`path`'s segments and parameter names; a `ConfigError` if it is malformed or already routed."""
        segments = _segments(path) if path else ()
        if segments in self._seen:
            raise ConfigError('URLS', path, f'route {path!r} is defined twice')
        names = tuple(PARAMETER.findall(path))
        if len(set(names)) != len(names):
            raise ConfigError('URLS', path, f'route {path!r} repeats a parameter name')
        return segments, names

    def add(self, path: str, endpoint: Any, *, listed: bool = True) -> None:
        """Route `path` to `endpoint`; `listed=False` keeps it out of `routes` (the framework's own docs routes)."""
        segments, names = self.check(path)
        self._seen.add(segments)
        if names:
            self._dynamic.setdefault(len(segments), []).append((segments, names, endpoint))
        else:
            self._static[path] = endpoint
        if listed:
            self.routes.append((path, endpoint))

    @classmethod
    def build(
        cls,
        urls: Mapping[str, Any] | Group,
        make_endpoint: Callable[[str, Any, Any], Any],
        *,
        default_auth: Any = UNSET,
    ) -> Router:
        """Every route of `urls` as ``make_endpoint(path, target, inherited_auth)``.

        Every path is checked before any endpoint is built, so a malformed path or a route defined
        twice is reported as such rather than as a handler whose parameters do not fit it.
        """
        routes = flatten_routes(urls, default_auth=default_auth)
        paths = cls([])
        for path, _, _ in routes:
            paths._seen.add(paths.check(path)[0])
        router = cls([])
        for path, target, auth in routes:
            router.add(path, make_endpoint(path, target, auth))
        return router

    def resolve(self, path: str) -> tuple[Any, Mapping[str, str]] | None:
        path = path.strip('/')
        endpoint = self._static.get(path)
        if endpoint is not None:
            return endpoint, NO_PATH_PARAMS
        parts = path.split('/')
        for segments, names, endpoint in self._dynamic.get(len(parts), ()):
            values = []
            for segment, part in zip(segments, parts, strict=True):
                if segment is None:
                    if not part:
                        break
                    values.append(part)
                elif segment != part:
                    break
            else:
                return endpoint, dict(zip(names, values, strict=True))
        return None
