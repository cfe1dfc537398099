"""`TestClient`: call a `Panther` app in-process, over HTTP (httpx) and websockets.

Why in-process: a test then needs no port, no server process and no
sleep, and a failing handler's traceback lands in the test's output.
The app's start-up and shut-down run around the client, as uvicorn's
lifespan would run them.

Authentication helpers:

* `TestClient.login_as` logs the user in for real (``user.login()``) and
  sends ``Authorization: Bearer <access token>`` from then on: every part
  of the token path runs, and ``logout`` works.
* `TestClient.force_authenticate` skips credentials altogether: every
  guarded route of *this app object* sees the given user. It installs the
  app's ``auth_override`` (which is None in an app served by uvicorn), and
  the override only answers connections that carry this client's private
  marker in the ASGI scope, which nothing outside this process can set.
  A forced user counts as authenticated just now: the routes that need a
  recent authentication (``fresh=``, `FreshAuthentication`) let it through,
  as they would a user who just logged in.
"""

from __future__ import annotations

import urllib.request
import weakref
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from panther_like.auth.permissions import FORCED_AUTHENTICATION
from panther_like.testing.websocket import WebsocketTestSession

if TYPE_CHECKING:
    import httpx

    from panther_like.app import Panther

SCOPE_KEY = 'panther_like.testing.client'
# App instance -> {client marker: forced user}; the override installed on an app reads it.
_forced: weakref.WeakKeyDictionary[Any, dict[object, Any]] = weakref.WeakKeyDictionary()


def _httpx() -> Any:
    try:
        import httpx
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError(
            "panther_like.testing needs httpx: pip install 'panther-like[testing]' (or pip install httpx)"
        ) from None
    return httpx


def _forced_users(app: Panther) -> dict[object, Any]:
    """The forced users of `app` by client marker, installing its ``auth_override`` (once)."""
    registry = _forced.get(app)
    if registry is None:
        registry = _forced[app] = {}

        def override(connection: Any) -> Any:
            marker = connection.scope.get(SCOPE_KEY)
            user = None if marker is None else registry.get(marker)
            if user is not None:
                connection.scope[FORCED_AUTHENTICATION] = True  # a forced user has just authenticated
            return user

        app.auth_override = override
    return registry


def _marking(app: Any, marker: object) -> Any:
    """The app as this client calls it: every scope carries the client's marker."""

    async def marked(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await app({**scope, SCOPE_KEY: marker}, receive, send)

    return marked


class TestClient:
    """``async with TestClient(app) as client: response = await client.get('/me')``.

    Every httpx request method is available (``get``, ``post(json=...)``,
    ``request``...). ``lifespan=False`` skips start-up/shut-down, for an app
    a fixture has already started.
    """

    __test__ = False  # not a pytest test class, despite the name

    def __init__(
        self,
        app: Panther,
        *,
        base_url: str = 'http://testserver',
        lifespan: bool = True,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.app = app
        self.lifespan = lifespan
        self.access_token: str | None = None
        self.refresh_token: str | None = None
        self._marker = object()
        self._started = False
        client_module = _httpx()
        self.http: httpx.AsyncClient = client_module.AsyncClient(
            transport=client_module.ASGITransport(app=_marking(app, self._marker)),
            base_url=base_url,
            headers=dict(headers or {}),
        )
        self.http.event_hooks['request'].append(self._own_cookies)

    async def __aenter__(self) -> TestClient:
        if self.lifespan:
            await self.app.startup()
            self._started = True
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        self.force_authenticate(None)
        await self.http.aclose()
        if self._started:
            self._started = False
            await self.app.shutdown()

    def __getattr__(self, name: str) -> Any:
        if name == 'http':  # not set yet: __init__ failed
            raise AttributeError(name)
        # get, post, put, patch, delete, head, options, request, stream, headers, cookies...
        return getattr(self.http, name)

    def _cookie_header(self, url: str) -> str | None:
        """The cookies the jar holds for `url`, its Secure ones included: the app is this client's own host."""
        request = urllib.request.Request(url.replace('http://', 'https://', 1))
        self.http.cookies.jar.add_cookie_header(request)
        return request.get_header('Cookie')

    async def _own_cookies(self, request: httpx.Request) -> None:
        """Add the jar's Secure cookies httpx leaves out over http, keeping the cookies the request names."""
        existing = request.headers.get('Cookie')
        named = {part.split('=', 1)[0].strip() for part in existing.split(';')} if existing else set()
        held = (self._cookie_header(str(request.url)) or '').split(';')
        extra = [part.strip() for part in held if part.strip() and part.split('=', 1)[0].strip() not in named]
        if extra:
            request.headers['Cookie'] = '; '.join([existing, *extra] if existing else extra)

    # -- authentication -----------------------------------------------------------------------

    async def login_as(self, user: Any) -> dict[str, str]:
        """Log `user` in for real and send its access token from now on; returns the token pair.

        The user is read again first: a copy taken before its password changed holds a credential
        version that no longer opens a session (`panther_like.db.user`).
        """
        stored = await type(user).find_one(id=user.id)
        tokens = await self.app.services.accounts.login(stored if stored is not None else user)
        self.access_token, self.refresh_token = tokens['access_token'], tokens['refresh_token']
        self.http.headers['Authorization'] = f'Bearer {self.access_token}'
        return tokens

    def logout(self) -> None:
        """Stop sending credentials (it does not revoke anything; call the app's logout route for that)."""
        self.http.headers.pop('Authorization', None)
        self.access_token = self.refresh_token = None
        self.force_authenticate(None)

    def force_authenticate(self, user: Any) -> None:
        """Every guarded route of this app sees `user` for this client's requests; ``None`` undoes it.

        No token is checked or issued: ``request.user.logout()`` needs a real
        token (use `login_as`). Permissions still run; the user counts as authenticated just now,
        so routes that need a recent authentication admit it.
        """
        if user is None:
            registry = _forced.get(self.app)
            if registry is not None:
                registry.pop(self._marker, None)
            return
        _forced_users(self.app)[self._marker] = user

    # -- websockets ---------------------------------------------------------------------------

    def websocket(
        self,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float = 5.0,
    ) -> WebsocketTestSession:
        """``async with client.websocket('/ws/echo', params={'authorization': token}) as ws: ...``.

        Sends the client's default headers (an ``Authorization`` set by
        `login_as` included) plus `headers`; a forced user applies too.
        """
        # Host and the cookies the jar would send to this URL, as a browser's handshake carries them.
        probe = self.http.build_request('GET', url)
        merged = {'host': probe.headers['host'], **dict(self.http.headers)}
        cookie = self._cookie_header(str(probe.url))
        if cookie:
            merged['cookie'] = cookie
        merged.update(headers or {})
        merged.pop('user-agent', None)
        return WebsocketTestSession(
            self.app, url, params=params, headers=merged, timeout=timeout, scope_extra={SCOPE_KEY: self._marker}
        )
