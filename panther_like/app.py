"""`Panther`: the ASGI application, built once from a settings module.

Building does all the work that can fail because of configuration: load
and check the settings, import the routes, resolve every route's
authentication, choose the store. What is left for a request is the path
in ARCHITECTURE.md: resolve, 405, read body, authenticate (401), permit
(403), handle, render.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from types import ModuleType
from typing import Any

from panther_like import config as config_module
from panther_like.api import HTTPEndpoint
from panther_like.audit import install_log_redaction
from panther_like.config import Config
from panther_like.db.connection import bind_database, open_database
from panther_like.exceptions import APIError, ConfigError, NotFoundAPIError, StoreUnavailableError
from panther_like.request import Request, read_body
from panther_like.response import Response
from panther_like.revocation import DatabaseRevocationStore, RedisRevocationStore, RevocationStore
from panther_like.routing import Router
from panther_like.throttle import LoginThrottle, bind_login_throttle
from panther_like.tokens import TokenService, bind_tokens
from panther_like.utils import import_string
from panther_like.websocket import WebsocketEndpoint, is_websocket_class, refuse

logger = logging.getLogger('panther_like')
INTERNAL_ERROR = {'detail': 'Internal server error'}


class Panther:
    """``app = Panther(configs='configs')``; serve with ``uvicorn package.module:app``.

    ``configs`` is a settings module or its name (default: the
    ``PANTHER_LIKE_CONFIGS`` environment variable, else ``configs``);
    ``urls`` overrides the ``URLS`` setting. Raises `ConfigError` for any
    configuration mistake. One app per process: building it binds the
    models and tokens to this app's store and keys.
    """

    def __init__(self, configs: str | ModuleType | None = None, *, urls: Mapping[str, Any] | str | None = None):
        self.config: Config = config_module.load(configs)
        self.router = Router.build(self._urls(urls), self._endpoint)
        try:
            self.database = open_database(self.config.database)
        except ValueError as exc:  # a MongoDB URL that does not parse; the message hides any password
            raise ConfigError("DATABASE['url']", '<url>', str(exc)) from None
        self.revocations: RevocationStore = (
            RedisRevocationStore(self.config.redis_url) if self.config.redis_url
            else DatabaseRevocationStore(self.database)
        )
        self.tokens = (
            TokenService(self.config.jwt, self.revocations, self.config.user_model, self.config.auth_cache)
            if self.config.jwt else None
        )
        self.login_throttle = LoginThrottle.build(self.config.login_throttle, self.database, self.config.redis_url)
        bind_database(self.database)
        bind_tokens(self.tokens)
        bind_login_throttle(self.login_throttle)
        install_log_redaction()

    def _urls(self, urls: Mapping[str, Any] | str | None) -> Mapping[str, Any]:
        urls = self.config.urls if urls is None else urls
        if urls is None:
            raise ConfigError('URLS', None, 'no routes: set URLS in the settings module or pass Panther(urls=...)')
        if isinstance(urls, str):
            try:
                urls = import_string(urls)
            except ImportError as exc:
                raise ConfigError('URLS', urls, f'cannot import {urls!r} ({exc})') from None
        return urls

    def _endpoint(self, path: str, target: Any) -> HTTPEndpoint | WebsocketEndpoint:
        if is_websocket_class(target):
            return WebsocketEndpoint.build(path, target, self.config)
        return HTTPEndpoint.build(path, target, self.config)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        kind = scope['type']
        if kind == 'http':
            await self._http(scope, receive, send)
        elif kind == 'websocket':
            await self._websocket(scope, receive, send)
        elif kind == 'lifespan':
            await self._lifespan(receive, send)

    async def _http(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        method = scope['method']
        try:
            match = self.router.resolve(scope['path'])
            if match is None or not isinstance(match[0], HTTPEndpoint):
                raise NotFoundAPIError()
            endpoint, params = match
            handler = endpoint.handler_for(method)
            request = Request(scope, await read_body(scope, receive))
            request.path_params = params
            if endpoint.authenticator is not None:
                request.user = request.auth = await endpoint.authenticator(request)
            for permit in endpoint.permissions:
                await permit(request)
            response = await handler(request, **params)
            body = response.body
        except APIError as exc:
            response = Response({'detail': exc.detail}, exc.status_code, exc.headers)
            body = response.body
        except Exception:
            logger.exception('Unhandled error while serving %s %s', method, scope['path'])
            response = Response(INTERNAL_ERROR, 500)
            body = response.body
        await response.send(send, body if method != 'HEAD' else b'', content_length=len(body))

    async def _websocket(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        match = self.router.resolve(scope['path'])
        if match is None or not isinstance(match[0], WebsocketEndpoint):
            if (await receive())['type'] == 'websocket.connect':
                await send(refuse('Not found'))
            return
        endpoint, params = match
        await endpoint.serve(scope, receive, send, params)

    async def startup(self) -> None:
        """Connect the store; an unreachable one is logged, not fatal: requests get 503 until it is back."""
        try:
            await self.database.connect()
        except StoreUnavailableError as exc:
            logger.warning('store not reachable at start-up: %s', exc.detail)

    async def shutdown(self) -> None:
        await self.revocations.close()
        await self.login_throttle.close()
        await self.database.close()

    async def _lifespan(self, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message['type'] == 'lifespan.startup':
                try:
                    await self.startup()
                except Exception as exc:
                    await send({'type': 'lifespan.startup.failed', 'message': f'{type(exc).__name__}: {exc}'})
                    return
                await send({'type': 'lifespan.startup.complete'})
            elif message['type'] == 'lifespan.shutdown':
                try:
                    await self.shutdown()
                finally:
                    await send({'type': 'lifespan.shutdown.complete'})
                return
