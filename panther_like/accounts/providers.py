"""Sign in with an OpenID or OAuth 2 provider (``ACCOUNTS['providers']``): the ``providers/...`` routes.

- ``GET providers/<name>/login`` sends the browser to the provider (302) with a ``state``, a ``nonce`` and a
  PKCE S256 challenge. They are kept server-side for ten minutes under the ``state``, which also goes into
  an HttpOnly cookie limited to these routes: the callback must come back to the browser that left, so a
  link carrying someone else's code (login CSRF) finds no cookie and is refused. Each is good once.
- ``GET providers/<name>/callback``: the ``state`` checked against the cookie and the store (and bound to the
  provider it was made for, with RFC 9207's ``iss`` checked when the provider sends it: no mix-up between two
  providers), the code exchanged, the ID token checked (`panther_like.accounts.providers_client`). Then the
  account: the one linked to ``(issuer, sub)``; else, when the provider says it verified an address that
  an account here verified too and ``auto_link_verified_email`` is on, that account (linked now); else a
  new account (`provision_user`). An address an account here already holds is never taken over
  otherwise: that sign-in is refused (409) so that nobody gets a second account by surprise.
  A user with a second factor still needs it (unless ``trust_mfa`` and the provider says it checked one).
  In cookie mode the session cookies are set and the browser goes to ``ACCOUNTS['provider_redirect']``;
  else the browser goes there with a one-time ``code`` in the URL fragment, which the page exchanges at
  ``POST providers/exchange`` for the token pair: a token never travels in a URL. The exchange also needs
  the ``code_verifier`` whose S256 digest the page gave ``login`` as ``code_challenge`` (PKCE between the
  page and us), so an attacker's code planted in a victim's page (login CSRF) is worth nothing there.
- ``POST providers/<name>/link`` (logged in, recent authentication): the provider's URL to link an
  identity to the current account. ``GET providers`` and ``DELETE providers/<name>``: the account's links
  (`panther_like.accounts.providers_links`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from pydantic import BaseModel, ConfigDict, Field

from panther_like import audit, status
from panther_like.accounts.account_auth import AccountAuthentication
from panther_like.accounts.cookies import set_session_cookies
from panther_like.accounts.login import token_response
from panther_like.accounts.providers_client import ProviderIdentity, provider_client, provider_named
from panther_like.accounts.providers_links import linked_identities, unlink_provider
from panther_like.accounts.schemas import TokenResponse
from panther_like.db.identities import IdentityTaken, find_identity, link_identity
from panther_like.exceptions import (
    APIError,
    AuthenticationAPIError,
    AuthorizationAPIError,
    BadRequestAPIError,
)
from panther_like.http.origins import request_origin
from panther_like.http.request import Request
from panther_like.http.response import Response
from panther_like.login_state.mfa_tokens import MULTIPLE_FACTORS
from panther_like.login_state.provisioning import provision_user
from panther_like.login_state.services import Services, services_of
from panther_like.login_state.throttle import ActionLimit
from panther_like.login_state.trusted_browsers import TRUSTED_COOKIE
from panther_like.routing.api import API
from panther_like.settings.config import Config
from panther_like.settings.providers import ProviderSettings

FLOW_LIFE = 600
FLOW_COOKIE = 'provider_state'
PROVIDER_SIGN_IN = 'provider_sign_in'
#: Sign-ins started per provider from one address: each keeps a row for ten minutes, so a script may not start
#: them without end; a person never comes near (no slow-down for everyone: `per_subject` is out of reach).
START_LIMIT = ActionLimit(
    per_subject_and_address=100, per_address=300, window=FLOW_LIFE, per_subject=10**9, max_delay=1, per_network=1000
)
EXCHANGE_LIFE = 60
#: The ``amr`` of a session started by a provider's sign-in (a federated authentication).
FEDERATED = 'fed'
#: ``acr`` values that say several factors were checked (besides RFC 8176's ``mfa`` in ``amr``).
MFA_ACR = frozenset({'mfa', 'http://schemas.openid.net/pape/policies/2007/06/multi-factor'})
BAD_STATE = 'This sign-in is unknown, expired, already used or from another browser; start again'
ADDRESS_TAKEN = 'An account here already uses this e-mail address: log in to it, then link {label} from its settings'
LAST_WAY_IN = "This is the account's only way to sign in: set a password or link another provider first"
MAX_PARAMETER = 2048
#: Token mode: ``login`` takes the page's ``code_challenge``, base64url(SHA-256(code_verifier)) as in PKCE.
CHALLENGE_SHAPE = re.compile(r'[A-Za-z0-9_-]{43}')
NEEDS_CHALLENGE = (
    'Send code_challenge: base64url(SHA-256(code_verifier)) of a secret this page keeps for providers/exchange'
)
INVALID_EXCHANGE = 'This code is unknown, expired or already used, or the code_verifier is not the one of this page'


def s256(verifier: str) -> str:
    """PKCE's S256: the base64url SHA-256 of `verifier`, without padding."""
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b'=').decode()


@dataclass(frozen=True, slots=True)
class ProviderButton:
    """What a sign-in page shows for one provider: its label, and where its button goes."""

    name: str
    label: str
    login_path: str


def configured_providers(config: Config, mount: str = '/auth/') -> list[ProviderButton]:
    """The configured providers, in settings order, with the login path under the account routes' `mount`."""
    base = '/' + mount.strip('/') + '/' if mount.strip('/') else '/'
    return [
        ProviderButton(name, settings.label, f'{base}providers/{name}/login')
        for name, settings in config.accounts.providers.items()
    ]


class ExchangeInput(BaseModel):
    """The one-time ``code`` from the fragment, and the secret whose S256 digest the page sent to ``login``."""

    model_config = ConfigDict(extra='forbid')

    code: str = Field(min_length=1, max_length=128)
    code_verifier: str = Field(min_length=43, max_length=128)


class LinkStarted(BaseModel):
    authorization_url: str


# -- helpers ------------------------------------------------------------------------------------


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _mount(request: Request, name: str, route: str) -> str:
    """``/auth/`` for ``/auth/providers/<name>/<route>``."""
    suffix = f'providers/{name}/{route}'
    path = request.path.rstrip('/')
    return path[: len(path) - len(suffix)] if path.endswith('/' + suffix) else '/'


def _redirect_uri(request: Request, provider: ProviderSettings, mount: str) -> str:
    if provider.redirect_uri is not None:
        return provider.redirect_uri
    origin = request_origin(request.scope, request.headers.get('host'))
    if origin is None:
        raise BadRequestAPIError('A Host header is needed to sign in with a provider')
    scheme, host, port = origin
    shown = f'[{host}]' if ':' in host else host
    default = (scheme, port) in (('https', 443), ('http', 80))
    base = f'{scheme}://{shown}' if default else f'{scheme}://{shown}:{port}'
    return f'{base}{mount}providers/{provider.name}/callback'


def _redirect(location: str) -> Response:
    return Response(None, status.HTTP_302_FOUND, {'Location': location, 'Cache-Control': 'no-store'})


def _front_end(config: Config, **fragment: str) -> str:
    target = config.accounts.provider_redirect
    return f'{target}#{urlencode(fragment)}' if fragment else target


async def _start(
    request: Request, provider: ProviderSettings, mount: str, user_id: str | None, challenge: str = ''
) -> tuple[str, str]:
    """A new flow: its authorization URL, and the state for the cookie."""
    services = services_of(request)
    state, nonce, verifier = secrets.token_urlsafe(32), secrets.token_urlsafe(32), secrets.token_urlsafe(48)
    redirect_uri = _redirect_uri(request, provider, mount)
    url = await provider_client(provider).authorization_url(redirect_uri, state, nonce, verifier)
    record = {'provider': provider.name, 'nonce': nonce, 'verifier': verifier, 'redirect_uri': redirect_uri}
    record.update(user_id=user_id or '', challenge=challenge)
    until = services.clock.time() + FLOW_LIFE
    await services.login_sessions.revocations.remember(f'provider-flow:{_digest(state)}', json.dumps(record), until)
    return url, state


def _flow_cookie(request: Request, response: Response, mount: str, state: str) -> None:
    secure = services_of(request).config.accounts.cookie_secure
    # Lax: the provider sends the browser back with a top-level GET from its own site.
    response.set_cookie(FLOW_COOKIE, state, max_age=FLOW_LIFE, path=f'{mount}providers/', secure=secure)


async def _take_flow(request: Request, provider: ProviderSettings) -> dict[str, str]:
    """The flow the callback's ``state`` names, once: same browser, same provider, not used before."""
    query = request.query_params
    state, cookie = query.get('state') or '', request.cookies.get(FLOW_COOKIE) or ''
    if not state or len(state) > MAX_PARAMETER or not hmac.compare_digest(state.encode(), cookie.encode()):
        raise BadRequestAPIError(BAD_STATE)
    services = services_of(request)
    key = _digest(state)
    stored = await services.login_sessions.revocations.recall(f'provider-flow:{key}')
    record = json.loads(stored) if stored else None
    if not isinstance(record, dict) or record.get('provider') != provider.name:
        raise BadRequestAPIError(BAD_STATE)
    until = services.clock.time() + FLOW_LIFE
    if not await services.login_sessions.revocations.claim_once(f'provider-flow-used:{key}', until):
        raise BadRequestAPIError(BAD_STATE)
    return record


async def _check_issuer(request: Request, provider: ProviderSettings) -> None:
    """RFC 9207: the ``iss`` of the authorization response must be this provider's (no mix-up)."""
    sent = request.query_params.get('iss')
    if provider.discovery:
        metadata = await provider_client(provider).metadata()
        required = metadata.get('authorization_response_iss_parameter_supported') is True
    else:
        required = False
    if (sent is None and required) or (sent is not None and sent != provider.issuer):
        audit.log_event('provider.refused', request=request, reason='issuer mix-up', provider=provider.name)
        raise BadRequestAPIError('The authorization response comes from another issuer than this provider')


def _says_mfa(identity: ProviderIdentity) -> bool:
    return MULTIPLE_FACTORS in identity.amr or identity.acr in MFA_ACR


async def _account_for(request: Request, provider: ProviderSettings, identity: ProviderIdentity) -> Any:
    """The local account of a sign-in: linked, linked now by a verified address, or new; else 409."""
    model = services_of(request).config.user_model
    linked = await find_identity(identity.issuer, identity.subject)
    if linked is not None:
        await link_identity(linked.user_id, identity.issuer, identity.subject, identity.email, identity.email_verified)
        return await model.find_one(id=linked.user_id)
    holder = await model.find_by_email(identity.email) if identity.email else None
    if holder is not None:
        if provider.auto_link_verified_email and identity.email_verified and holder.is_verified:
            await link_identity(holder.id, identity.issuer, identity.subject, identity.email, True)
            audit.log_event('provider.linked', request=request, user_id=holder.id, provider=provider.name, how='email')
            return holder
        audit.log_event('provider.refused', request=request, reason='address taken', provider=provider.name)
        raise APIError(ADDRESS_TAKEN.format(label=provider.label), status.HTTP_409_CONFLICT)
    claims = {**identity.claims, 'sub': identity.subject, 'email': identity.email}
    claims['email_verified'] = identity.email_verified
    user = await provision_user(identity.issuer, claims, user_model=model)
    audit.log_event('provider.account_created', request=request, user_id=user.id, provider=provider.name)
    return user


async def _sign_in(
    request: Request, services: Services, user: Any, challenge: str, *, factors_checked: bool
) -> dict[str, str]:
    """What the front end gets: the pair (cookie mode), else an ``mfa_token`` or a one-time exchange code.

    `factors_checked`: the provider said it checked several factors and ``trust_mfa`` believes it.
    """
    accounts = services.accounts
    amr = (MULTIPLE_FACTORS,) if factors_checked else (FEDERATED,)
    if not factors_checked:
        mfa_token = await accounts.password_step(request, user, [], request.cookies.get(TRUSTED_COOKIE), first=amr)
        if mfa_token is not None:
            return {'mfa_required': 'true', 'mfa_token': mfa_token}
    if services.config.accounts.cookies:
        return await accounts.login(user, request=request, amr=amr)
    code = secrets.token_urlsafe(32)
    record = json.dumps({'user_id': user.id, 'amr': list(amr), 'challenge': challenge})
    until = services.clock.time() + EXCHANGE_LIFE
    await services.login_sessions.revocations.remember(f'provider-exchange:{_digest(code)}', record, until)
    return {'code': code}


# -- the routes -----------------------------------------------------------------------------------


@API(
    auth=None,  # open: whoever signs in has no token yet (a project DEFAULT_AUTH must not capture it)
    methods=['GET'],
    responses={
        302: 'To the provider',
        400: 'Token mode without a code_challenge (the S256 of the code_verifier the page sends to exchange)',
        404: 'No such provider',
        429: 'Too many sign-ins started from this address (Retry-After)',
    },
)
async def provider_login(request: Request, name: str) -> Response:
    """Sign in with the provider: a redirect to its sign-in page."""
    provider = provider_named(request, name)
    await services_of(request).throttle.limit(request, PROVIDER_SIGN_IN, name, START_LIMIT)
    mount = _mount(request, name, 'login')
    challenge = ''
    if not services_of(request).config.accounts.cookies:
        challenge = request.query_params.get('code_challenge') or ''
        if not CHALLENGE_SHAPE.fullmatch(challenge):
            raise BadRequestAPIError(NEEDS_CHALLENGE)
    url, state = await _start(request, provider, mount, None, challenge)
    response = _redirect(url)
    _flow_cookie(request, response, mount, state)
    return response


@API(
    auth=AccountAuthentication,
    fresh=True,
    methods=['POST'],
    output=LinkStarted,
    responses={401: 'Not logged in, or not recently: {"reauthentication_required": true}', 404: 'No such provider'},
)
async def provider_link(request: Request, name: str) -> Response:
    """Link an identity at the provider to this account: the URL to send the browser to."""
    provider = provider_named(request, name)
    await services_of(request).throttle.limit(request, PROVIDER_SIGN_IN, name, START_LIMIT)
    mount = _mount(request, name, 'link')
    url, state = await _start(request, provider, mount, request.user.id)
    response = Response({'authorization_url': url}, headers={'Cache-Control': 'no-store'})
    _flow_cookie(request, response, mount, state)
    return response


@API(
    auth=None,  # open: whoever signs in has no token yet (a project DEFAULT_AUTH must not capture it)
    methods=['GET'],
    responses={
        302: 'Signed in (to ACCOUNTS["provider_redirect"])',
        400: 'Unknown, spent or foreign state; mix-up; refused code; bad ID token',
        403: 'Account disabled or not verified',
        409: 'The address belongs to another account, or the identity is linked to another account',
        503: 'The provider is unreachable',
    },
)
async def provider_callback(request: Request, name: str) -> Response:
    """Where the provider sends the browser back: the sign-in (or the link) is completed."""
    provider = provider_named(request, name)
    services = services_of(request)
    mount = _mount(request, name, 'callback')
    flow = await _take_flow(request, provider)  # first: a callback nobody started costs no request to the provider
    await _check_issuer(request, provider)
    error, code = request.query_params.get('error'), request.query_params.get('code')
    if error is not None or not code or len(code) > MAX_PARAMETER:
        raise BadRequestAPIError('The provider did not sign you in (no code); start again')
    identity = await provider_client(provider).finish(flow['redirect_uri'], code, flow['verifier'], flow['nonce'])
    if flow['user_id']:
        try:
            await link_identity(
                flow['user_id'], identity.issuer, identity.subject, identity.email, identity.email_verified
            )
        except IdentityTaken as exc:
            raise APIError(exc.detail, status.HTTP_409_CONFLICT) from None
        audit.log_event('provider.linked', request=request, user_id=flow['user_id'], provider=name, how='explicit')
        response = _redirect(_front_end(services.config, linked=name))
    else:
        user = await _account_for(request, provider, identity)
        if user is None:
            raise AuthorizationAPIError('This account is disabled')
        services.accounts.refuse_barred(request, user)
        trusted = provider.trust_mfa and _says_mfa(identity)
        outcome = await _sign_in(request, services, user, flow.get('challenge', ''), factors_checked=trusted)
        audit.log_event('provider.login', request=request, user_id=user.id, provider=name)
        if 'access_token' in outcome:
            response = _redirect(_front_end(services.config))
            set_session_cookies(response, request, f'providers/{name}/callback', outcome)
        else:
            response = _redirect(_front_end(services.config, **outcome))
    response.delete_cookie(FLOW_COOKIE, path=f'{mount}providers/', secure=services.config.accounts.cookie_secure)
    return response


@API(
    auth=None,  # open: whoever signs in has no token yet (a project DEFAULT_AUTH must not capture it)
    methods=['POST'],
    input=ExchangeInput,
    output=TokenResponse,
    responses={401: 'Unknown, spent or expired code, or a code_verifier that does not match the code_challenge'},
)
async def provider_exchange(request: Request) -> Response:
    """The one-time ``code`` a provider sign-in left in the front end's URL fragment, for the token pair."""
    services = services_of(request)
    data: ExchangeInput = request.validated
    key = _digest(data.code)
    revocations = services.login_sessions.revocations
    stored = await revocations.recall(f'provider-exchange:{key}')
    record = json.loads(stored) if stored else {}
    # The page that began the sign-in holds the verifier; a code planted in another page's URL is useless there.
    if not hmac.compare_digest(s256(data.code_verifier).encode(), str(record.get('challenge', '')).encode()):
        raise AuthenticationAPIError(INVALID_EXCHANGE)
    until = services.clock.time() + EXCHANGE_LIFE
    if not await revocations.claim_once(f'provider-exchange-used:{key}', until):
        raise AuthenticationAPIError(INVALID_EXCHANGE)
    user = await services.config.user_model.find_one(id=record['user_id'])
    if user is None or not user.is_active:
        raise AuthorizationAPIError('This account is disabled')
    pair = await services.accounts.login(user, request=request, amr=tuple(record['amr']))
    return token_response(request, 'providers/exchange', pair)


#: Paths relative to where the account routes are mounted (``'auth/'``).
provider_urls: dict[str, Any] = {
    'providers': linked_identities,
    'providers/exchange': provider_exchange,
    'providers/<name>': unlink_provider,
    'providers/<name>/login': provider_login,
    'providers/<name>/link': provider_link,
    'providers/<name>/callback': provider_callback,
}
