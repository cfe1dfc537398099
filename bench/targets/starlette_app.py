"""Starlette: two routes, JSONResponse, the bearer check in the endpoint, the user from a dict."""

from __future__ import annotations

from bench_common import PUBLIC_BODY, bearer_token, private_body, user_for_token
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


async def public(request: Request) -> JSONResponse:
    return JSONResponse(PUBLIC_BODY)


async def private(request: Request) -> JSONResponse:
    token = bearer_token(request.headers.get('authorization'))
    user = user_for_token(token) if token else None
    if user is None:
        return JSONResponse({'detail': 'Unauthorized'}, status_code=401, headers={'WWW-Authenticate': 'Bearer'})
    return JSONResponse(private_body(user))


app = Starlette(routes=[Route('/public', public, methods=['GET']), Route('/private', private, methods=['GET'])])
