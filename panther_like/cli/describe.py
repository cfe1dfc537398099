"""What the settings produced, in words for people: the route table and the start-up summary of ``run``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from panther_like.app import Panther
    from panther_like.routing.endpoint import HTTPEndpoint

from panther_like.cli.common import dotted


def route_rows(app: Panther) -> list[tuple[str, str, str]]:
    """(path, methods, authentication) for every route, in the order of the URL dict.

    A path whose methods are guarded differently (a public GET, a protected POST) gets a row per guard.
    """
    from panther_like.routing.websocket import WebsocketEndpoint

    rows = []
    for path, endpoint in app.router.routes:
        websocket = isinstance(endpoint, WebsocketEndpoint)
        if websocket:
            groups = [('WEBSOCKET', endpoint.guard, getattr(endpoint.target, 'auth', None))]
        else:
            by_guard: dict[int, list[str]] = {}
            for method, guard in endpoint.guards.items():
                by_guard.setdefault(id(guard), []).append(method)
            groups = [
                (', '.join(methods), endpoint.guards[methods[0]], _declared_auth(endpoint, methods[0]))
                for methods in by_guard.values()
            ]
        for methods, guard, declared in groups:
            authenticator = guard.authenticator
            auth = '-' if authenticator is None else authenticator.describe()
            if declared is True:
                auth += ' (WS_AUTHENTICATION)' if websocket else ' (AUTHENTICATION)'
            rows.append(('/' + path, methods, auth))
    return rows


def _declared_auth(endpoint: HTTPEndpoint, method: str) -> object:
    """What the route's code said for `method`'s ``auth`` (True means the AUTHENTICATION setting)."""
    source = endpoint.operations[method].source
    guard_of = getattr(source, 'guard_of', None)
    return guard_of(method)['auth'] if callable(guard_of) else getattr(source, 'auth', None)


def format_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    lines = [
        '  '.join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in [header, *rows]
    ]
    return '\n'.join(lines)


def describe_url(url: str) -> str:
    """``scheme://host:port/path`` without user or password: safe to print and log."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition('@')[2]
    return f'{parts.scheme}://{host}{parts.path}'


def describe_store(app: Panther) -> str:
    url = app.config.database.get('url')
    if url:
        return f'MongoDB at {describe_url(str(url))}'
    return f'embedded store at {getattr(app.database, "path", "?")}'


def describe_revocations(app: Panther) -> str:
    redis = app.config.redis
    if redis is None:
        return 'in the database'
    if redis.url:
        return f'Redis at {describe_url(redis.url)}'
    return f'Redis: {redis.describe()}'


def summary(app: Panther, *, target: str, url: str, workers: int, problems: Sequence[str]) -> str:
    config = app.config
    lines = [
        f'panther-like: serving {target} on {url} ({workers} worker{"s" if workers != 1 else ""})',
        f'  settings        {config.module_name}',
        f'  store           {describe_store(app)}',
        f'  revocations     {describe_revocations(app)}',
        f'  authentication  HTTP: {dotted(config.authentication) if config.authentication else "not set"}; '
        f'websockets: {dotted(config.ws_authentication) if config.ws_authentication else "not set"}',
        f'  routes          {len(app.router.routes)} (list them with: panther-like routes)',
        f'  proxies         {config.trusted_proxies.describe()} (TRUSTED_PROXIES: whose X-Forwarded-For is believed)',
    ]
    for problem in problems:
        lines.append(f'  WARNING         {problem}; requests that need it get 503 until it answers')
    return '\n'.join(lines)
