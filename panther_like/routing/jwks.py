"""Routes that publish how to check this app's tokens: the JWK Set (RFC 7517) and its discovery document.

Mount them where other services expect them, side by side::

    url_routing = {
        '.well-known/jwks.json': jwks,
        '.well-known/openid-configuration': openid_configuration,
        ...
    }

With an HMAC algorithm the set is empty: HMAC keys are secrets, and no other service can check such
a token, so there is no discovery document either (404). The document needs ``JWTConfig['issuer']``
to be an ``https://`` (or ``http://``) URL: it is what the document says the tokens' ``iss`` is, so
it is never guessed from the request's Host header, which any client chooses.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from panther_like.exceptions import NotFoundAPIError
from panther_like.http.request import Request
from panther_like.http.response import Response
from panther_like.login_state.jwt_codec import AMR, AUTH_TIME, CREDENTIAL_VERSION
from panther_like.login_state.services import services_of
from panther_like.routing.api import API

CACHE_CONTROL = {'Cache-Control': 'public, max-age=300'}
JWKS_NAME = 'jwks.json'


@API(methods=['GET'])
async def jwks(request: Request) -> Response:
    return Response(services_of(request).login_sessions.codec.jwks(), headers=CACHE_CONTROL)


@API(methods=['GET'])
async def openid_configuration(request: Request) -> Response:
    """The discovery document of this app's tokens (OpenID Connect Discovery 1.0, section 3); 404 without one.

    Only what is true of the app: the issuer, where its public keys are (the ``jwks.json`` beside this
    document), the one algorithm its tokens are signed with, and the claims they carry.
    """
    codec = services_of(request).codec
    issuer = None if codec is None else codec.settings.issuer
    if codec is None or codec.keys.is_symmetric or issuer is None or urlsplit(issuer).scheme not in {'https', 'http'}:
        raise NotFoundAPIError()
    directory = request.path.rstrip('/').rpartition('/')[0]
    origin = urlsplit(issuer)._replace(path='', query='', fragment='').geturl()
    claims = ['iss', 'aud', 'exp', 'iat', 'jti', 'user_id', 'token_type', 'sid', CREDENTIAL_VERSION, AUTH_TIME, AMR]
    document: dict[str, Any] = {
        'issuer': issuer,
        'jwks_uri': f'{origin}{directory}/{JWKS_NAME}',
        'id_token_signing_alg_values_supported': [codec.settings.algorithm],
        'claims_supported': [claim for claim in claims if claim != 'aud' or codec.settings.audience is not None],
    }
    return Response(document, headers=CACHE_CONTROL)
