"""Passkeys (``ACCOUNTS['webauthn']``): add, list, rename and remove them; log in with one, without a username.

``passkeys/register/options`` and ``passkeys/register`` add a passkey to
the logged-in account (the options need a recent authentication, like
setting up TOTP: a stolen session must not be a way to plant the thief's
own passkey); ``passkeys`` lists them and ``passkeys/<passkey_id>``
renames or removes one (removing needs a recent authentication too).
``passkeys/login/options`` and ``passkeys/login`` log in: with no body
field but the credential, for anyone (a username-less login, throttled per
client address like ``login``), or with the ``mfa_token`` of a password
step as its second factor. Both answer exactly as ``login`` does.

The client returns only what the browser made: the challenge is found
again from the signed ``clientDataJSON`` (`panther_like.login_state.passkeys`).
Every protocol check is py_webauthn's (`panther_like.login_state.passkey_protocol`);
whatever it refuses, however malformed, is a 400 (adding) or 401 (logging
in) with a ``detail``. Off (404) unless the setting is given.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

from panther_like import audit, status
from panther_like.accounts.account_auth import AccountAuthentication
from panther_like.accounts.login import token_response
from panther_like.accounts.notices import PASSKEY_ADDED, PASSKEY_REMOVED, send_security_notice
from panther_like.accounts.schemas import TokenResponse
from panther_like.auth.permissions import FreshAuthentication
from panther_like.exceptions import (
    AuthenticationAPIError,
    AuthorizationAPIError,
    BadRequestAPIError,
    NotFoundAPIError,
)
from panther_like.http.request import Request
from panther_like.http.response import Response
from panther_like.login_state.mfa_tokens import MULTIPLE_FACTORS
from panther_like.login_state.passkey_protocol import (
    InvalidCredential,
    authentication_options,
    challenge_of,
    parse_assertion,
    registration_options,
    verify_assertion,
    verify_registration,
)
from panther_like.login_state.passkeys import HARDWARE_KEY, LOGIN, MAX_NAME_LENGTH, REGISTER, SECOND_STEP, Passkey
from panther_like.login_state.services import services_of
from panther_like.login_state.throttle import ActionLimit
from panther_like.routing.api import API, GenericAPI
from panther_like.routing.contract import contract
from panther_like.settings.webauthn import WebAuthnSettings

PASSKEY_LOGIN = 'passkey_login'
#: Per client address: a passkey cannot be guessed, so this only keeps one client from filling the store with
#: challenges or burning signature checks; a person logging in makes two requests.
PASSKEY_LOGIN_LIMIT = ActionLimit(
    per_subject_and_address=30, per_address=60, window=300, per_subject=60, max_delay=8, per_network=300
)
#: What a username-less login's session says of itself: a hardware-bound key, used with user verification.
PASSKEY_AMR = (HARDWARE_KEY, MULTIPLE_FACTORS)
INVALID_PASSKEY = 'This passkey was not accepted; ask for new options and try again'
MAX_ID_LENGTH = 1400
CREDENTIAL_SCHEMA: JsonDict = {'type': 'object', 'description': 'PublicKeyCredential.toJSON() of the browser'}


class RegisterInput(BaseModel):
    model_config = ConfigDict(extra='forbid')

    #: ``credential.toJSON()`` of ``navigator.credentials.create()``.
    credential: Any = Field(json_schema_extra=CREDENTIAL_SCHEMA)
    #: A name to tell this passkey by ("Work laptop"); by default "Passkey" and its number.
    name: Any = Field(default=None, json_schema_extra={'type': ['string', 'null'], 'maxLength': MAX_NAME_LENGTH})


class RenameInput(BaseModel):
    model_config = ConfigDict(extra='forbid')

    name: Any = Field(json_schema_extra={'type': 'string', 'maxLength': MAX_NAME_LENGTH})


class LoginOptionsInput(BaseModel):
    model_config = ConfigDict(extra='forbid')

    #: The ``mfa_token`` of a password step, for the options of its second step; absent for a username-less login.
    mfa_token: Any = Field(default=None, json_schema_extra={'type': ['string', 'null']})


class PasskeyLoginInput(LoginOptionsInput):
    #: ``credential.toJSON()`` of ``navigator.credentials.get()``.
    credential: Any = Field(json_schema_extra=CREDENTIAL_SCHEMA)


class PasskeyView(BaseModel):
    id: str
    name: str
    created: str
    last_used: str | None
    backed_up: bool
    transports: list[str]


class CreationOptions(BaseModel):
    """``PublicKeyCredentialCreationOptionsJSON``: give it to ``PublicKeyCredential.parseCreationOptionsFromJSON``."""

    model_config = ConfigDict(extra='allow')

    challenge: str
    rp: dict[str, str]
    user: dict[str, str]
    pubKeyCredParams: list[dict[str, Any]]
    excludeCredentials: list[dict[str, Any]]
    authenticatorSelection: dict[str, Any]


class RequestOptions(BaseModel):
    """``PublicKeyCredentialRequestOptionsJSON``: give it to ``PublicKeyCredential.parseRequestOptionsFromJSON``."""

    model_config = ConfigDict(extra='allow')

    challenge: str
    rpId: str
    allowCredentials: list[dict[str, Any]]
    userVerification: str


def _iso(moment: float | None) -> str | None:
    return None if moment is None else datetime.fromtimestamp(moment, UTC).isoformat()


def public_view(passkey: Passkey) -> dict[str, Any]:
    """What a client is shown of a passkey: never its key or its owner's handle."""
    return {
        'id': passkey.id,
        'name': passkey.name,
        'created': _iso(passkey.created),
        'last_used': _iso(passkey.last_used),
        'backed_up': passkey.backed_up,
        'transports': list(passkey.transports),
    }


def _relying_party(request: Request) -> WebAuthnSettings:
    """The setting; 404 while passkeys are off."""
    rp = services_of(request).config.accounts.webauthn
    if rp is None:
        raise NotFoundAPIError()
    return rp


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
    rp = _relying_party(request)
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
    rp = _relying_party(request)
    data: RegisterInput = request.validated
    store = services_of(request).accounts.passkeys
    user = request.user
    try:
        taken = await store.take_challenge(REGISTER, challenge_of(data.credential))
        if taken is None or taken.user_id != user.id:
            raise InvalidCredential('no live registration challenge of this user')
        new = verify_registration(rp, data.credential, taken.challenge)
    except InvalidCredential as exc:
        audit.log_event('passkey.refused', request=request, user_id=user.id, reason=str(exc)[:200])
        raise BadRequestAPIError(INVALID_PASSKEY) from None
    name = _name(data.name, f'Passkey {await store.count(user.id) + 1}')
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
    _relying_party(request)
    return [public_view(item) for item in await services_of(request).accounts.passkeys.of_user(request.user.id)]


class PasskeyDetail(GenericAPI):
    """One of the caller's passkeys: rename it, remove it. Another user's is a 404."""

    auth = AccountAuthentication

    @contract(input=RenameInput, output=PasskeyView, responses={400: 'A bad name', 404: 'No such passkey of yours'})
    async def patch(self, request: Request, passkey_id: str) -> Any:
        """Rename the passkey."""
        _relying_party(request)
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
        _relying_party(request)
        await FreshAuthentication().authorization(request)  # 401 reauthentication_required
        store = services_of(request).accounts.passkeys
        if len(passkey_id) > MAX_ID_LENGTH or not await store.remove(request.user.id, passkey_id):
            raise NotFoundAPIError('Passkey not found')
        audit.log_event('passkey.removed', request=request, user_id=request.user.id, passkey=passkey_id)
        send_security_notice(request, request.user, PASSKEY_REMOVED, route='passkeys')
        return Response(None, status.HTTP_204_NO_CONTENT)


# -- logging in --------------------------------------------------------------------------------


async def _throttle(request: Request) -> None:
    """429 (Retry-After) for a client address past `PASSKEY_LOGIN_LIMIT`."""
    address = request.client[0] if request.client else ''
    await services_of(request).throttle.limit(request, PASSKEY_LOGIN, address, PASSKEY_LOGIN_LIMIT)


@API(
    methods=['POST'],
    input=LoginOptionsInput,
    output=RequestOptions,
    responses={401: 'The mfa_token is invalid, expired or used', 429: 'Too many requests (Retry-After)'},
)
async def login_options(request: Request) -> dict[str, Any]:
    """Options for ``navigator.credentials.get()``: any passkey of this site (``{}``), or, with an ``mfa_token``,
    one of that user's for the second step of their login."""
    rp = _relying_party(request)
    accounts = services_of(request).accounts
    token = request.validated.mfa_token
    await _throttle(request)
    if token is None:
        return authentication_options(rp, await accounts.passkeys.new_challenge(LOGIN))
    user_id = await accounts.second_step_user(token)
    keys = await accounts.passkeys.of_user(user_id)
    challenge = await accounts.passkeys.new_challenge(SECOND_STEP, user_id)
    return authentication_options(rp, challenge, [(passkey.id, passkey.transports) for passkey in keys])


async def _verified(request: Request, kind: str, credential: Any, user_id: str | None) -> Passkey:
    """The passkey `credential` proves, with its counter and last use stored; else `InvalidCredential`.

    `user_id`: whose it must be (the second step of their login); None for a username-less login, where the
    user handle the authenticator returns must be the passkey owner's.
    """
    rp = _relying_party(request)
    store = services_of(request).accounts.passkeys
    assertion = parse_assertion(credential)
    taken = await store.take_challenge(kind, challenge_of(credential))
    if taken is None or taken.user_id != user_id:
        raise InvalidCredential(f'no live {kind} challenge for this login')
    passkey = await store.find(assertion.credential_id)
    if passkey is None or (user_id is not None and passkey.user_id != user_id):
        raise InvalidCredential('unknown credential')
    if user_id is None and assertion.user_handle != passkey.user_handle:
        raise InvalidCredential("the user handle is not the passkey owner's")
    if assertion.user_handle is not None and assertion.user_handle != passkey.user_handle:
        raise InvalidCredential("the user handle is not the passkey owner's")
    verified = verify_assertion(rp, assertion, taken.challenge, passkey.public_key, passkey.sign_count)
    if not await store.record_use(passkey, verified.sign_count, verified.backed_up):
        raise InvalidCredential('the sign counter moved meanwhile (a cloned authenticator?)')
    return passkey


@API(
    methods=['POST'],
    input=PasskeyLoginInput,
    output=TokenResponse,
    responses={
        401: 'The passkey was not accepted, the account is disabled, or the mfa_token is invalid',
        403: 'Account not verified (ACCOUNTS["require_verified"])',
        429: 'Too many attempts (Retry-After)',
    },
)
async def passkey_login(request: Request) -> Response:
    """Log in with a passkey (a session whose ``amr`` has ``hwk``), or finish a password login's second step
    with one (``mfa_token``); answers as ``login``."""
    _relying_party(request)
    data: PasskeyLoginInput = request.validated
    accounts = services_of(request).accounts
    if data.mfa_token is not None:

        async def proof(user: Any) -> bool:
            try:
                await _verified(request, SECOND_STEP, data.credential, user.id)
            except InvalidCredential as exc:
                audit.log_event('passkey.refused', request=request, user_id=user.id, reason=str(exc)[:200])
                return False
            return True

        token = data.mfa_token if isinstance(data.mfa_token, str) else ''
        user, scopes, amr = await accounts.second_step_by(request, token, proof, HARDWARE_KEY, refusal=INVALID_PASSKEY)
        pair = await accounts.login(user, scopes=list(scopes) or None, request=request, amr=amr)
        return token_response(request, 'passkeys/login', pair, ' '.join(scopes))
    await _throttle(request)
    try:
        passkey = await _verified(request, LOGIN, data.credential, None)
    except InvalidCredential as exc:
        audit.log_event('login.failure', request=request, reason=f'passkey: {str(exc)[:200]}')
        raise AuthenticationAPIError(INVALID_PASSKEY) from None
    user = await services_of(request).config.user_model.find_one(id=passkey.user_id)
    if user is None:
        raise AuthenticationAPIError(INVALID_PASSKEY)
    if not user.is_active:
        audit.log_event('login.refused', request=request, reason='account disabled', user_id=user.id)
        raise AuthenticationAPIError('User account is disabled')
    if services_of(request).config.accounts.require_verified and not user.is_verified:
        audit.log_event('login.refused', request=request, reason='not verified', user_id=user.id)
        raise AuthorizationAPIError('Verify your e-mail address before logging in')
    pair = await accounts.login(user, request=request, amr=PASSKEY_AMR)
    return token_response(request, 'passkeys/login', pair)


#: Paths relative to where the account routes are mounted (``'auth/'``).
passkey_urls: dict[str, Any] = {
    'passkeys': passkeys,
    'passkeys/register/options': register_options,
    'passkeys/register': register,
    'passkeys/login/options': login_options,
    'passkeys/login': passkey_login,
    'passkeys/<passkey_id>': PasskeyDetail,
}
