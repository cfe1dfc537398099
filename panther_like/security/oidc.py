"""`OIDCBearer`: an identity provider's access token in ``Authorization: Bearer``, per route.

``@API(auth=OIDCBearer())`` accepts the tokens of the providers ``OIDC_RESOURCE`` lists, and
``request.user`` is the local account linked to the token's subject (see
`panther_like.login_state.oidc`). A refused token gets the RFC 6750 challenge every bearer
scheme of the framework writes; a provider that cannot be reached, a 503.
"""

from __future__ import annotations

from typing import Any

from panther_like.exceptions import AuthenticationAPIError, ConfigError
from panther_like.http.request import HTTPConnection
from panther_like.login_state.services import services_of
from panther_like.security.http import HttpBearer
from panther_like.settings.config import Config

NEEDS_SETTING = "set OIDC_RESOURCE = {'issuers': [{'issuer': ..., 'audience': ...}]} in the settings module"


class OIDCBearer(HttpBearer):
    """An OpenID provider's access token (a JWT) in ``Authorization: Bearer <token>``."""

    openapi_bearer_format = 'JWT'
    openapi_description = 'An access token of an identity provider the app trusts (OIDC_RESOURCE)'

    def bind(self, config: Config) -> None:
        """No route may use it in an app that names no provider: that is a build error, not a 500."""
        super().bind(config)
        if config.oidc_resource is None:
            raise ConfigError('OIDC_RESOURCE', None, f'{type(self).__qualname__} needs it: {NEEDS_SETTING}')

    async def authenticate(self, request: HTTPConnection, token: str) -> Any:
        verifier = services_of(request).oidc
        if verifier is None:
            raise ConfigError('OIDC_RESOURCE', None, f'{type(self).__qualname__} needs it: {NEEDS_SETTING}')
        return await verifier.authenticate(token)

    async def resolve(self, request: HTTPConnection) -> Any:
        token = self.get_credential(request)
        if token is None:
            raise self.missing()
        try:
            user = await self.authenticate(request, token)
        except AuthenticationAPIError as exc:
            raise self.challenged(exc) from None
        return await self.checked(request, user)
