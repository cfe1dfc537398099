"""``GET providers`` and ``DELETE providers/<name>``: the identities at providers linked to an account.

Unlinking is refused (409) when it would leave the account no way to sign in: no usable password, no passkey and no
other linked identity. It needs a recent authentication, like every route that changes how one logs in.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from panther_like import audit, status
from panther_like.accounts.account_auth import AccountAuthentication
from panther_like.accounts.providers_client import provider_named
from panther_like.db.identities import identities_of, unlink_identity
from panther_like.exceptions import APIError, NotFoundAPIError
from panther_like.http.request import Request
from panther_like.http.response import Response
from panther_like.login_state.services import services_of
from panther_like.routing.api import API
from panther_like.settings.config import Config

LAST_WAY_IN = "This is the account's only way to sign in: set a password or link another provider first"


class LinkedIdentity(BaseModel):
    provider: str | None
    issuer: str
    subject: str
    email: str | None
    email_verified: bool
    created: str
    last_used: str


class LinkedIdentities(BaseModel):
    identities: list[LinkedIdentity]


def _provider_names(config: Config) -> Mapping[str, str]:
    """Each issuer's provider name; the first configured, when several entries share an issuer."""
    names: dict[str, str] = {}
    for name, settings in config.accounts.providers.items():
        names.setdefault(settings.issuer, name)
    return names


@API(auth=AccountAuthentication, methods=['GET'], output=LinkedIdentities)
async def linked_identities(request: Request) -> dict[str, Any]:
    """The identities at providers linked to this account."""
    names = _provider_names(services_of(request).config)
    found = await identities_of(request.user.id)
    return {
        'identities': [
            {
                'provider': names.get(identity.issuer),
                'issuer': identity.issuer,
                'subject': identity.subject,
                'email': identity.email,
                'email_verified': identity.email_verified,
                'created': identity.created.isoformat(),
                'last_used': identity.last_used.isoformat(),
            }
            for identity in found
        ]
    }


def _has_usable_password(user: Any) -> bool:
    password = getattr(user, 'password', None)
    return isinstance(password, str) and password.startswith('$argon2')


@API(
    auth=AccountAuthentication,
    fresh=True,
    methods=['DELETE'],
    status_code=status.HTTP_204_NO_CONTENT,
    responses={404: 'No such provider, or no identity there', 409: "It is the account's only way to sign in"},
)
async def unlink_provider(request: Request, name: str) -> Response:
    """Unlink the account's identity at the provider; refused when nothing else could sign in."""
    provider = provider_named(request, name)
    user = request.user
    linked = await identities_of(user.id)
    if not any(identity.issuer == provider.issuer for identity in linked):
        raise NotFoundAPIError('No identity at this provider is linked to this account')
    others = [identity for identity in linked if identity.issuer != provider.issuer]
    passkeys = services_of(request).accounts.passkeys
    if not others and not _has_usable_password(user) and not await passkeys.count(user.id):
        raise APIError(LAST_WAY_IN, status.HTTP_409_CONFLICT)
    await unlink_identity(user.id, provider.issuer)
    audit.log_event('provider.unlinked', request=request, user_id=user.id, provider=name)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
