"""panther_like: /public without authentication, /private with auth=True (JWTAuthentication from settings)."""

from __future__ import annotations

from bench_common import PUBLIC_BODY

from panther_like import API, Panther, Request


@API(methods=['GET'])
async def public(request: Request) -> dict:
    return PUBLIC_BODY


@API(auth=True, methods=['GET'])
async def private(request: Request) -> dict:
    return {'id': request.user.id, 'username': request.user.username}


URLS = {'public': public, 'private': private}
app = Panther(configs='panther_like_settings', urls=URLS)
