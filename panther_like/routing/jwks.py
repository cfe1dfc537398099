"""A route that publishes the public verification keys as a JWK Set (RFC 7517).

Mount it where other services expect it::

    url_routing = {'.well-known/jwks.json': jwks, ...}

With an HMAC algorithm the set is empty: HMAC keys are secrets.
"""

from __future__ import annotations

from panther_like.http.request import Request
from panther_like.http.response import Response
from panther_like.login_state.services import services_of
from panther_like.routing.api import API


@API(methods=['GET'])
async def jwks(request: Request) -> Response:
    return Response(services_of(request).login_sessions.codec.jwks(), headers={'Cache-Control': 'public, max-age=300'})
