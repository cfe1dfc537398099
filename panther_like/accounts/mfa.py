"""Second factors and step-up: ``mfa``, ``mfa/totp``, ``mfa/totp/confirm``, ``mfa/recovery-codes``,
``login/mfa`` and ``reauthenticate``.

The routes that change how one logs in (set a factor up, remove it, make
new recovery codes) need a recent authentication
(``ACCOUNTS['reauthentication_timeout']``): a stolen access token, or a
browser left open, is not enough to lock the owner out or to add the
thief's own authenticator. ``reauthenticate`` renews it for the session.

The storage, the codes and their single use: `panther_like.login_state.second_factors`;
the ``mfa_token`` of a login's second step: `panther_like.login_state.mfa_tokens`.
"""

from __future__ import annotations

import logging
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from panther_like import audit, status
from panther_like.accounts.account_auth import AccountAuthentication
from panther_like.accounts.cookies import mount_of
from panther_like.accounts.login import token_response
from panther_like.accounts.notices import (
    FACTOR_ADDED,
    FACTOR_REMOVED,
    RECOVERY_CODE_USED,
    RECOVERY_CODES_REGENERATED,
    send_security_notice,
)
from panther_like.accounts.schemas import TokenResponse
from panther_like.exceptions import APIError, BadRequestAPIError, ConfigError
from panther_like.http.request import Request
from panther_like.http.response import Response
from panther_like.login_state.second_factors import require_mfa_dependencies
from panther_like.login_state.services import services_of
from panther_like.login_state.trusted_browsers import TRUSTED_COOKIE
from panther_like.routing.api import API
from panther_like.settings.accounts import MAX_PASSWORD_LENGTH

logger = logging.getLogger('panther_like.accounts')
MAX_CODE_LENGTH = 64
MAX_MFA_TOKEN_LENGTH = 128
INVALID_CODE = 'Invalid code'


# -- what the routes take and give ---------------------------------------------------------------


class CodeInput(BaseModel):
    model_config = ConfigDict(extra='forbid')

    code: str = Field(min_length=1, max_length=MAX_CODE_LENGTH)


class CodeOrRecoveryCode(BaseModel):
    """A current TOTP ``code`` or one of the ``recovery_code``\\ s: exactly one."""

    model_config = ConfigDict(extra='forbid')

    code: str | None = Field(default=None, min_length=1, max_length=MAX_CODE_LENGTH)
    recovery_code: str | None = Field(default=None, min_length=1, max_length=MAX_CODE_LENGTH)

    @model_validator(mode='after')
    def _exactly_one(self) -> Self:
        if (self.code is None) == (self.recovery_code is None):
            raise ValueError('send either "code" or "recovery_code"')
        return self


class MFALoginInput(CodeOrRecoveryCode):
    mfa_token: str = Field(min_length=1, max_length=MAX_MFA_TOKEN_LENGTH)
    #: With ``ACCOUNTS['trust_browser_days']``: this browser skips the code at its next logins.
    trust_browser: bool = False


class ReauthenticateInput(BaseModel):
    """The ``password``, or a current TOTP ``code``: exactly one."""

    model_config = ConfigDict(extra='forbid')

    password: str | None = Field(default=None, min_length=1, max_length=MAX_PASSWORD_LENGTH)
    code: str | None = Field(default=None, min_length=1, max_length=MAX_CODE_LENGTH)

    @model_validator(mode='after')
    def _exactly_one(self) -> Self:
        if (self.password is None) == (self.code is None):
            raise ValueError('send either "password" or "code"')
        return self


class NewTOTPOutput(BaseModel):
    secret: str
    otpauth_uri: str
    qr_svg: str


class RecoveryCodes(BaseModel):
    recovery_codes: list[str]


class Factor(BaseModel):
    type: str
    confirmed: bool
    created: float


class MFAStatus(BaseModel):
    factors: list[Factor]
    recovery_codes_remaining: int


# -- the routes ---------------------------------------------------------------------------------

STEP_UP = {401: 'Not logged in, or not recently: {"reauthentication_required": true}'}


@API(auth=AccountAuthentication, methods=['GET'], output=MFAStatus)
async def mfa_status(request: Request) -> dict[str, Any]:
    """The caller's second factors (never a secret) and how many recovery codes remain."""
    return await services_of(request).accounts.second_factors.status(request.user.id)


@API(auth=AccountAuthentication, fresh=True, methods=['POST'], output=NewTOTPOutput, responses=STEP_UP)
async def begin_totp(request: Request) -> dict[str, Any]:
    """Set up TOTP: a new secret, its otpauth URI and QR code; pending until ``mfa/totp/confirm``."""
    factors = services_of(request).accounts.second_factors
    try:
        require_mfa_dependencies()
    except ConfigError as exc:  # the operator's to fix: one log line naming the extra, no traceback
        logger.error('%s', exc)
        raise APIError('Second factors are not available on this server', status.HTTP_501_NOT_IMPLEMENTED) from None
    if await factors.confirmed(request.user.id):
        raise BadRequestAPIError('TOTP is already set up: remove it first (DELETE mfa/totp)')
    new = await factors.begin_totp(request.user.id, request.user.username)
    audit.log_event('mfa.totp_pending', request=request, user_id=request.user.id)
    return {'secret': new.secret, 'otpauth_uri': new.otpauth_uri, 'qr_svg': new.qr_svg}


@API(
    auth=AccountAuthentication,
    methods=['POST'],
    input=CodeInput,
    output=RecoveryCodes,
    responses={400: 'Wrong code, or no TOTP set up to confirm'},
)
async def confirm_totp(request: Request) -> dict[str, Any]:
    """Confirm the pending TOTP factor with a first code: ten recovery codes, shown only this once."""
    factors = services_of(request).accounts.second_factors
    if not await factors.verify_totp(request.user.id, request.validated.code, confirming=True):
        raise BadRequestAPIError(INVALID_CODE)
    codes = await factors.new_recovery_codes(request.user.id)
    audit.log_event('mfa.totp_added', request=request, user_id=request.user.id)
    send_security_notice(request, request.user, FACTOR_ADDED, route='mfa/totp/confirm')
    return {'recovery_codes': codes}


@API(
    auth=AccountAuthentication,
    fresh=True,
    methods=['DELETE'],
    input=CodeOrRecoveryCode,
    status_code=status.HTTP_204_NO_CONTENT,
    responses={**STEP_UP, 400: 'Wrong code, or no TOTP factor', 429: 'Too many wrong codes (Retry-After)'},
)
async def remove_totp(request: Request) -> Response:
    """Remove the TOTP factor and its recovery codes; needs a current code or a recovery code."""
    data: CodeOrRecoveryCode = request.validated
    accounts = services_of(request).accounts
    if not await accounts.second_factors.confirmed(request.user.id):
        raise BadRequestAPIError('There is no TOTP factor to remove')
    if not await accounts.confirm_second_factor(request, request.user, data.code, data.recovery_code):
        raise BadRequestAPIError(INVALID_CODE)
    # The recovery codes stand in for every second factor: they stay while the user still holds a passkey.
    keep_codes = await accounts.has_passkey(request.user.id)
    await accounts.second_factors.remove(request.user.id, keep_recovery_codes=keep_codes)
    audit.log_event('mfa.totp_removed', request=request, user_id=request.user.id)
    if data.recovery_code is not None:
        send_security_notice(request, request.user, RECOVERY_CODE_USED, route='mfa/totp')
    send_security_notice(request, request.user, FACTOR_REMOVED, route='mfa/totp')
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@API(
    auth=AccountAuthentication,
    fresh=True,
    methods=['POST'],
    output=RecoveryCodes,
    responses={**STEP_UP, 400: 'No confirmed second factor'},
)
async def regenerate_recovery_codes(request: Request) -> dict[str, Any]:
    """A new set of ten recovery codes, shown only this once; the earlier codes stop working."""
    accounts = services_of(request).accounts
    if not await accounts.has_second_factor(request.user.id):
        raise BadRequestAPIError('Set up a second factor first')
    codes = await accounts.second_factors.new_recovery_codes(request.user.id)
    audit.log_event('mfa.recovery_codes_regenerated', request=request, user_id=request.user.id)
    send_security_notice(request, request.user, RECOVERY_CODES_REGENERATED, route='mfa/recovery-codes')
    return {'recovery_codes': codes}


@API(
    auth=None,  # open: a project's DEFAULT_AUTH must not lock users out
    methods=['POST'],
    input=MFALoginInput,
    form=True,
    output=TokenResponse,
    responses={
        401: 'The mfa_token is invalid, expired or used, or the code is wrong',
        429: 'Too many failed attempts (Retry-After)',
    },
)
async def login_mfa(request: Request) -> Response:
    """The second step of a login: the ``mfa_token`` with a TOTP code or a recovery code; answers as ``login``."""
    data: MFALoginInput = request.validated
    accounts = services_of(request).accounts
    user, scopes, amr = await accounts.second_step(request, data.mfa_token, data.code, data.recovery_code)
    pair = await accounts.login(user, scopes=list(scopes) or None, request=request, amr=amr)
    if data.recovery_code is not None:
        send_security_notice(request, user, RECOVERY_CODE_USED, route='login/mfa')
    response = token_response(request, 'login/mfa', pair, ' '.join(scopes))
    trusted = accounts.trusted_browsers
    if data.trust_browser and trusted is not None and (value := await trusted.issue(user)) is not None:
        response.set_cookie(
            TRUSTED_COOKIE,
            value,
            max_age=trusted.life,
            path=mount_of(request, 'login/mfa') + 'login',  # sent to the login routes only
            secure=services_of(request).config.accounts.cookie_secure,
            samesite='strict',
        )
    return response


@API(
    auth=AccountAuthentication,
    methods=['POST'],
    input=ReauthenticateInput,
    output=TokenResponse,
    responses={401: 'Wrong password or code', 429: 'Too many failed attempts (Retry-After)'},
)
async def reauthenticate(request: Request) -> Response:
    """Prove who you are again (password or code): a new pair for this session with a fresh ``auth_time``."""
    data: ReauthenticateInput = request.validated
    accounts = services_of(request).accounts
    pair = await accounts.reauthenticate(request, request.user, password=data.password, code=data.code)
    return token_response(request, 'reauthenticate', pair, (request.user._token_claims or {}).get('scope'))


#: Paths relative to where the account routes are mounted (``'auth/'``).
mfa_urls: dict[str, Any] = {
    'mfa': mfa_status,
    'mfa/totp': [begin_totp, remove_totp],
    'mfa/totp/confirm': confirm_totp,
    'mfa/recovery-codes': regenerate_recovery_codes,
    'login/mfa': login_mfa,
    'reauthenticate': reauthenticate,
}
