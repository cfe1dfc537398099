"""Passkeys (``ACCOUNTS['webauthn']``): add, list, rename and remove them; log in with one, without a username.

``passkeys/register/options`` and ``passkeys/register`` add a passkey to
the logged-in account (the options need a recent authentication, like
setting up TOTP: a stolen session must not be a way to plant the thief's
own passkey); ``passkeys`` lists them and ``passkeys/<passkey_id>``
renames or removes one (removing needs a recent authentication too).
Logging in with one, and re-authenticating: `panther_like.accounts.passkey_login`.

The client returns only what the browser made: the challenge is found
again from the signed ``clientDataJSON`` (`panther_like.login_state.passkeys`).
Every protocol check is py_webauthn's (`panther_like.login_state.passkey_protocol`);
whatever it refuses, however malformed, is a 400 (adding) or 401 (logging
in) with a ``detail``. Off (404) unless the setting is given.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from panther_like import audit, status
from panther_like.accounts.account_auth import AccountAuthentication
from panther_like.accounts.cookies import json_only
from panther_like.accounts.notices import PASSKEY_ADDED, PASSKEY_REMOVED, send_security_notice
from panther_like.accounts.passkey_ceremony import (
    CREDENTIAL_SCHEMA,
    INVALID_PASSKEY,
    PasskeyView,
    public_view,
    relying_party,
)
from panther_like.accounts.passkey_login import passkey_login_urls
from panther_like.auth.permissions import FreshAuthentication, IsVerified
from panther_like.exceptions import BadRequestAPIError, NotFoundAPIError
from panther_like.http.request import Request
from panther_like.http.response import Response
from panther_like.login_state.passkey_protocol import (
    InvalidCredential,
    challenge_of,
    registration_options,
    verify_registration,
)
from panther_like.login_state.passkeys import MAX_NAME_LENGTH, REGISTER
from panther_like.login_state.services import services_of
from panther_like.routing.api import API, GenericAPI
from panther_like.routing.contract import contract

MAX_ID_LENGTH = 1400


class RegisterInput(BaseModel):
    model_config = ConfigDict(extra='forbid')

    #: ``credential.toJSON()`` of ``navigator.credentials.create()``.
    credential: Any = Field(json_schema_extra=CREDENTIAL_SCHEMA)
    #: A name to tell this passkey by ("Work laptop"); by default "Passkey" and its number.
    name: Any = Field(default=None, json_schema_extra={'type': ['string', 'null'], 'maxLength': MAX_NAME_LENGTH})


class RenameInput(BaseModel):
    model_config = ConfigDict(extra='forbid')

    name: Any = Field(json_schema_extra={'type': 'string', 'maxLength': MAX_NAME_LENGTH})


class CreationOptions(BaseModel):
    """``PublicKeyCredentialCreationOptionsJSON``: give it to ``PublicKeyCredential.parseCreationOptionsFromJSON``."""

    model_config = ConfigDict(extra='allow')

    challenge: str
    rp: dict[str, str]
    user: dict[str, str]
    pubKeyCredParams: list[dict[str, Any]]
    excludeCredentials: list[dict[str, Any]]
    authenticatorSelection: dict[str, Any]


def _name(value: Any, default: str) -> str:
    if value is None:
        return default
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_NAME_LENGTH or not value.isprintable():
        raise BadRequestAPIError(f'"name" must be a non-empty line of at most {MAX_NAME_LENGTH} characters')
    return value.strip()


# -- adding, listing, renaming, removing -------------------------------------------------------

STEP_UP = {401: 'Not logged in, or not recently: {"reauthentication_required": true}'}


@API(auth=AccountAuthentication, fresh=True, methods=['POST'], output=CreationOptions, responses=STEP_UP)
async def register_options(request: Request) -> dict[str, Any]:
    """Options for ``navigator.credentials.create()``: a discoverable passkey with user verification."""
    rp = relying_party(request)
    store = services_of(request).accounts.passkeys
    user = request.user
    handle = await store.user_handle(user.id)
    existing = [passkey.id for passkey in await store.of_user(user.id)]
    challenge = await store.new_challenge(REGISTER, user.id)
    display = getattr(user, 'email', None) or user.username
    return registration_options(
        rp, challenge, user_handle=handle, username=user.username, display_name=display, exclude=existing
    )


@API(
    auth=AccountAuthentication,
    methods=['POST'],
    input=RegisterInput,
    output=PasskeyView,
    status_code=status.HTTP_201_CREATED,
    responses={400: 'The credential was not accepted (a detail says why), or it is registered already'},
)
async def register(request: Request) -> dict[str, Any]:
    """Add the passkey the browser made with the options of ``passkeys/register/options``."""
    rp = relying_party(request)
    data: RegisterInput = request.validated
    store = services_of(request).accounts.passkeys
    user = request.user
    chosen = None if data.name is None else _name(data.name, '')  # before the challenge is used up
    try:
        taken = await store.take_challenge(REGISTER, challenge_of(data.credential))
        if taken is None or taken.user_id != user.id:
            raise InvalidCredential('no live registration challenge of this user')
        new = verify_registration(rp, data.credential, taken.challenge)
    except InvalidCredential as exc:
        audit.log_event('passkey.refused', request=request, user_id=user.id, reason=str(exc)[:200])
        raise BadRequestAPIError(INVALID_PASSKEY) from None
    name = chosen or f'Passkey {await store.count(user.id) + 1}'
    passkey = await store.add(
        credential_id=new.credential_id,
        user_id=user.id,
        user_handle=await store.user_handle(user.id),
        public_key=new.public_key,
        sign_count=new.sign_count,
        transports=new.transports,
        name=name,
        aaguid=new.aaguid,
        backed_up=new.backed_up,
    )
    if passkey is None:
        raise BadRequestAPIError('This passkey is registered already')
    audit.log_event('passkey.added', request=request, user_id=user.id, passkey=passkey.id)
    send_security_notice(request, user, PASSKEY_ADDED, route='passkeys/register')
    return public_view(passkey)


@API(auth=AccountAuthentication, methods=['GET'], output=list[PasskeyView])
async def passkeys(request: Request) -> list[dict[str, Any]]:
    """The caller's passkeys, oldest first."""
    relying_party(request)
    return [public_view(item) for item in await services_of(request).accounts.passkeys.of_user(request.user.id)]


class PasskeyDetail(GenericAPI):
    """One of the caller's passkeys: rename it, remove it. Another user's is a 404."""

    auth = AccountAuthentication

    @contract(
        input=RenameInput,
        output=PasskeyView,
        permissions=[IsVerified(when_required=True), json_only],  # 415 for any other body, as on every JSON route
        responses={400: 'A bad name', 404: 'No such passkey of yours'},
    )
    async def patch(self, request: Request, passkey_id: str) -> Any:
        """Rename the passkey."""
        relying_party(request)
        name = _name(request.validated.name, '')
        renamed = None
        if len(passkey_id) <= MAX_ID_LENGTH:
            renamed = await services_of(request).accounts.passkeys.rename(request.user.id, passkey_id, name)
        if renamed is None:
            raise NotFoundAPIError('Passkey not found')
        return public_view(renamed)

    @contract(status_code=status.HTTP_204_NO_CONTENT, responses={**STEP_UP, 404: 'No such passkey of yours'})
    async def delete(self, request: Request, passkey_id: str) -> Response:
        """Remove the passkey: it logs in no more. Needs a recent authentication."""
        relying_party(request)
        await FreshAuthentication().authorization(request)  # 401 reauthentication_required
        accounts = services_of(request).accounts
        if len(passkey_id) > MAX_ID_LENGTH or not await accounts.passkeys.remove(request.user.id, passkey_id):
            raise NotFoundAPIError('Passkey not found')
        if not await accounts.has_second_factor(request.user.id):  # the last factor went: its recovery codes too
            await accounts.second_factors.forget_recovery_codes(request.user.id)
        audit.log_event('passkey.removed', request=request, user_id=request.user.id, passkey=passkey_id)
        send_security_notice(request, request.user, PASSKEY_REMOVED, route=f'passkeys/{passkey_id}')
        return Response(None, status.HTTP_204_NO_CONTENT)


#: Paths relative to where the account routes are mounted (``'auth/'``).
passkey_urls: dict[str, Any] = {
    'passkeys': passkeys,
    'passkeys/register/options': register_options,
    'passkeys/register': register,
    **passkey_login_urls,  # passkeys/login[/options], passkeys/reauthenticate[/options]
    'passkeys/<passkey_id>': PasskeyDetail,
}
