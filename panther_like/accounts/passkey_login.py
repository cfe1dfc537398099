"""Logging in with a passkey: ``passkeys/login/options`` and ``passkeys/login``; ``passkeys/reauthenticate/options``
and ``passkeys/reauthenticate`` for a recent authentication.

Without a body field but the credential, a login is username-less: the options allow any passkey of the
site, and the user is the one whose passkey signed (its user handle must be theirs). With the
``mfa_token`` of a password step, the passkey is that login's second step: the options list that user's
passkeys and the answer is the one ``login/mfa`` gives. Both answer exactly as ``login`` does, with the
same refusals for a disabled or unverified account, and are throttled per client address.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from panther_like import audit
from panther_like.accounts.account_auth import AccountAuthentication
from panther_like.accounts.login import token_response
from panther_like.accounts.passkey_ceremony import CREDENTIAL_SCHEMA, INVALID_PASSKEY, relying_party, verified_passkey
from panther_like.accounts.schemas import TokenResponse
from panther_like.exceptions import AuthenticationAPIError, AuthorizationAPIError
from panther_like.http.request import Request
from panther_like.http.response import Response
from panther_like.login_state.mfa_tokens import MULTIPLE_FACTORS
from panther_like.login_state.passkey_protocol import InvalidCredential, authentication_options
from panther_like.login_state.passkeys import HARDWARE_KEY, LOGIN, REAUTHENTICATE, SECOND_STEP
from panther_like.login_state.services import services_of
from panther_like.login_state.throttle import ActionLimit
from panther_like.routing.api import API

PASSKEY_LOGIN = 'passkey_login'
#: Per client address: a passkey cannot be guessed, so this only keeps one client from filling the store with
#: challenges or burning signature checks; a person logging in makes two requests.
PASSKEY_LOGIN_LIMIT = ActionLimit(
    per_subject_and_address=30, per_address=60, window=300, per_subject=60, max_delay=8, per_network=300
)
#: What a username-less login's session says of itself: a hardware-bound key, used with user verification.
PASSKEY_AMR = (HARDWARE_KEY, MULTIPLE_FACTORS)


class ReauthenticateInput(BaseModel):
    model_config = ConfigDict(extra='forbid')

    #: ``credential.toJSON()`` of ``navigator.credentials.get()``.
    credential: Any = Field(json_schema_extra=CREDENTIAL_SCHEMA)


class LoginOptionsInput(BaseModel):
    model_config = ConfigDict(extra='forbid')

    #: The ``mfa_token`` of a password step, for the options of its second step; absent for a username-less login.
    mfa_token: Any = Field(default=None, json_schema_extra={'type': ['string', 'null']})


class PasskeyLoginInput(LoginOptionsInput):
    #: ``credential.toJSON()`` of ``navigator.credentials.get()``.
    credential: Any = Field(json_schema_extra=CREDENTIAL_SCHEMA)


class RequestOptions(BaseModel):
    """``PublicKeyCredentialRequestOptionsJSON``: give it to ``PublicKeyCredential.parseRequestOptionsFromJSON``."""

    model_config = ConfigDict(extra='allow')

    challenge: str
    rpId: str
    allowCredentials: list[dict[str, Any]]
    userVerification: str


async def _throttle(request: Request) -> None:
    """429 (Retry-After) for a client address past `PASSKEY_LOGIN_LIMIT`."""
    address = request.client[0] if request.client else ''
    await services_of(request).throttle.limit(request, PASSKEY_LOGIN, address, PASSKEY_LOGIN_LIMIT)


@API(
    auth=None,  # open: whoever signs in has no token yet (a project DEFAULT_AUTH must not capture it)
    methods=['POST'],
    input=LoginOptionsInput,
    output=RequestOptions,
    responses={401: 'The mfa_token is invalid, expired or used', 429: 'Too many requests (Retry-After)'},
)
async def login_options(request: Request) -> dict[str, Any]:
    """Options for ``navigator.credentials.get()``: any passkey of this site (``{}``), or, with an ``mfa_token``,
    one of that user's for the second step of their login."""
    rp = relying_party(request)
    accounts = services_of(request).accounts
    token = request.validated.mfa_token
    await _throttle(request)
    if token is None:
        return authentication_options(rp, await accounts.passkeys.new_challenge(LOGIN))
    user_id = await accounts.second_step_user(token)
    keys = await accounts.passkeys.of_user(user_id)
    challenge = await accounts.passkeys.new_challenge(SECOND_STEP, user_id)
    return authentication_options(rp, challenge, [(passkey.id, passkey.transports) for passkey in keys])


async def _proves(request: Request, ceremony: str, credential: Any, user_id: str) -> bool:
    """Whether `credential` answers a `ceremony` challenge with one of the user's passkeys; a refusal is logged."""
    try:
        await verified_passkey(request, ceremony, credential, user_id)
    except InvalidCredential as exc:
        audit.log_event('passkey.refused', request=request, user_id=user_id, reason=str(exc)[:200])
        return False
    return True


@API(
    auth=None,  # open: whoever signs in has no token yet (a project DEFAULT_AUTH must not capture it)
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
    relying_party(request)
    data: PasskeyLoginInput = request.validated
    accounts = services_of(request).accounts
    if data.mfa_token is not None:

        async def proof(user: Any) -> bool:
            return await _proves(request, SECOND_STEP, data.credential, user.id)

        token = data.mfa_token if isinstance(data.mfa_token, str) else ''
        user, scopes, amr = await accounts.second_step_by(request, token, proof, HARDWARE_KEY, refusal=INVALID_PASSKEY)
        pair = await accounts.login(user, scopes=list(scopes) or None, request=request, amr=amr)
        return token_response(request, 'passkeys/login', pair, ' '.join(scopes))
    await _throttle(request)
    try:
        passkey = await verified_passkey(request, LOGIN, data.credential, None)
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


@API(auth=AccountAuthentication, methods=['POST'], output=RequestOptions)
async def reauthenticate_options(request: Request) -> dict[str, Any]:
    """Options for ``navigator.credentials.get()`` to prove who you are again, with one of your passkeys."""
    rp = relying_party(request)
    store = services_of(request).accounts.passkeys
    keys = await store.of_user(request.user.id)
    challenge = await store.new_challenge(REAUTHENTICATE, request.user.id)
    return authentication_options(rp, challenge, [(passkey.id, passkey.transports) for passkey in keys])


@API(
    auth=AccountAuthentication,
    methods=['POST'],
    input=ReauthenticateInput,
    output=TokenResponse,
    responses={401: 'The passkey was not accepted', 429: 'Too many failed attempts (Retry-After)'},
)
async def passkey_reauthenticate(request: Request) -> Response:
    """``reauthenticate`` with a passkey: a new pair for this session with a fresh ``auth_time`` (``amr`` ``hwk``)."""
    relying_party(request)
    user = request.user
    credential = request.validated.credential

    async def proof() -> bool:
        return await _proves(request, REAUTHENTICATE, credential, user.id)

    pair = await services_of(request).accounts.reauthenticate_by(request, user, proof, HARDWARE_KEY, INVALID_PASSKEY)
    return token_response(request, 'passkeys/reauthenticate', pair, (user._token_claims or {}).get('scope'))


#: Paths relative to where the account routes are mounted (``'auth/'``).
passkey_login_urls: dict[str, Any] = {
    'passkeys/login/options': login_options,
    'passkeys/login': passkey_login,
    'passkeys/reauthenticate/options': reauthenticate_options,
    'passkeys/reauthenticate': passkey_reauthenticate,
}
