"""URL dicts -> a router built once: exact paths in a dict, parameterised ones grouped by length.

Keys look like ``'users/<user_id>/'``: no leading slash, any trailing
slash ignored; a nested dict mounts a group under its key. Parameters
match one non-empty path segment and reach handlers as strings.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from panther_like.exceptions import ConfigError

PARAMETER = re.compile(r'<([A-Za-z_][A-Za-z0-9_]*)>')


def flatten_urls(urls: Mapping[str, Any], prefix: str = '') -> list[tuple[str, Any]]:
    """``{'auth/': {'login': x}}`` -> ``[('auth/login', x)]``, checking every key."""
    if not isinstance(urls, Mapping):
        raise ConfigError('URLS', urls, f'{urls!r} is not a dict of routes')
    routes: list[tuple[str, Any]] = []
    for key, target in urls.items():
        if not isinstance(key, str):
            raise ConfigError('URLS', key, f'route key {key!r} is not a string')
        if key.startswith('/'):
            raise ConfigError('URLS', key, f'route key {key!r} must not start with "/"')
        path = '/'.join(part for part in (prefix, key.strip('/')) if part)
        if isinstance(target, Mapping):
            routes.extend(flatten_urls(target, path))
        else:
            routes.append((path, target))
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
        self.routes = routes
        self._static: dict[str, Any] = {}
        self._dynamic: dict[int, list[tuple[tuple[str | None, ...], tuple[str, ...], Any]]] = {}
        seen: set[tuple[str | None, ...]] = set()
        for path, endpoint in routes:
            segments = _segments(path) if path else ()
            if segments in seen:
                raise ConfigError('URLS', path, f'route {path!r} is defined twice')
            seen.add(segments)
            names = tuple(PARAMETER.findall(path))
            if len(set(names)) != len(names):
                raise ConfigError('URLS', path, f'route {path!r} repeats a parameter name')
            if names:
                self._dynamic.setdefault(len(segments), []).append((segments, names, endpoint))
            else:
                self._static[path] = endpoint

    @classmethod
    def build(cls, urls: Mapping[str, Any], make_endpoint: Callable[[str, Any], Any]) -> Router:
        return cls([(path, make_endpoint(path, target)) for path, target in flatten_urls(urls)])

    def resolve(self, path: str) -> tuple[Any, dict[str, str]] | None:
        path = path.strip('/')
        endpoint = self._static.get(path)
        if endpoint is not None:
            return endpoint, {}
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
