"""A resource server for an OpenID provider's access tokens (JWT): verify them, find the local user.

What decides, and what never does (RFC 8725, OpenID Connect Core section 3.1.3.7):

- the token's unverified ``iss`` only picks which configured issuer's keys to try; it is then
  verified like every other claim, with that issuer's audiences, ``exp``, ``nbf`` and ``iat``;
- the key is the provider's, found by its ``kid`` in the JWK Set that discovery names (the
  discovered ``issuer`` must equal the configured one exactly);
- the algorithm comes from the key (its ``alg``, else its type and curve) intersected with the
  settings, never from the token's header: ``none`` and HMAC are never accepted, so a token
  "signed" with the provider's public key as an HMAC secret is refused;
- the keys are cached; an unknown ``kid`` makes one refetch (a rotation), at most once per
  `REFETCH_INTERVAL` per issuer, so a flood of made-up kids costs one fetch per interval;
- a fetch has a short timeout and a size cap, follows no redirect, and when the provider cannot
  be reached and no key is known the answer is a 503, never a 500.

``request.user`` is the local account linked to ``(iss, sub)`` (`panther_like.db.identities`),
made on first sight with ``provision`` (`panther_like.login_state.provisioning`).
"""

from __future__ import annotations

import asyncio
import importlib.util
import unicodedata
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import jwt
import orjson

from panther_like import status
from panther_like.common.clock import SYSTEM_CLOCK, Clock
from panther_like.db.identities import find_identity
from panther_like.exceptions import APIError, AuthenticationAPIError, ConfigError
from panther_like.login_state.jwt_codec import JWT_SHAPE, MAX_TOKEN_LENGTH, TIME_CLAIMS, is_time, refusal_reason
from panther_like.login_state.provisioning import provision_user
from panther_like.login_state.sessions import ACCOUNT_DISABLED
from panther_like.settings.oidc import OIDCIssuer, OIDCResourceSettings, secure_url

#: At most one fetch of an issuer's keys per this many seconds, whatever tokens arrive.
REFETCH_INTERVAL = 5.0
#: Keys are re-read after this long even when every kid is known (a key the provider withdrew).
KEYS_MAX_AGE = 3600.0
FETCH_TIMEOUT = 3.0
#: The largest discovery document or JWK Set read; a provider's is a few kilobytes.
MAX_DOCUMENT_BYTES = 256 * 1024
#: Verified tokens kept per worker (until they expire), so a warm request does no signature check.
MAX_CACHED_TOKENS = 10_000
MAX_SUBJECT_LENGTH = 255
_FAMILIES = {'RSA': ('RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'), 'OKP': ('EdDSA',)}
_CURVES = {'P-256': 'ES256', 'P-384': 'ES384', 'P-521': 'ES512'}


class ProviderUnreachable(APIError):
    """503: the identity provider's keys could not be read, and none are known."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    detail = 'The identity provider is unreachable; try again shortly'


class _FetchFailed(Exception):
    """Discovery or the JWK Set could not be read, or was not what it must be."""


def require_http_client() -> None:
    """A `ConfigError` naming the extra when httpx, which fetches the provider's keys, is missing."""
    if importlib.util.find_spec('httpx') is None:
        raise ConfigError(
            'OIDC_RESOURCE', None, "fetching an identity provider's keys needs httpx: pip install 'panther-like[oidc]'"
        )


def key_algorithms(jwk: dict[str, Any], allowed: tuple[str, ...]) -> tuple[str, ...]:
    """What may verify with `jwk`: its own ``alg``, else its type's (and curve's), among `allowed`."""
    kty = str(jwk.get('kty'))
    family = (_CURVES[jwk['crv']],) if kty == 'EC' and jwk.get('crv') in _CURVES else _FAMILIES.get(kty, ())
    alg = jwk.get('alg')
    if alg is not None:
        family = (alg,) if alg in family else ()
    return tuple(name for name in family if name in allowed)


@dataclass(slots=True)
class _IssuerKeys:
    """One issuer's known keys (kid -> key, algorithms) and when they were last fetched or tried."""

    keys: dict[str | None, tuple[Any, tuple[str, ...]]] = field(default_factory=dict)
    fetched_at: float | None = None
    attempted_at: float | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def find(self, kid: str | None) -> tuple[Any, tuple[str, ...]] | None:
        if kid is None and len(self.keys) == 1:  # a provider with one key may leave kid out
            return next(iter(self.keys.values()))
        return self.keys.get(kid)


class OIDCVerifier:
    """Verifies the providers' tokens of one app and finds their users; built once (`Services`)."""

    def __init__(self, settings: OIDCResourceSettings, user_model: Any, *, clock: Clock = SYSTEM_CLOCK) -> None:
        require_http_client()
        self.settings = settings
        self.user_model = user_model
        self.clock = clock
        self._issuers = {item.issuer: _IssuerKeys() for item in settings.issuers}
        self._verified: OrderedDict[str, dict[str, Any]] = OrderedDict()
        #: Requests made to providers by this worker (tests and operators read it).
        self.fetches = 0

    async def authenticate(self, token: str) -> Any:
        """The local user of a provider's access token; 401 (or 503 for an unreachable provider) otherwise."""
        claims = await self.verify(token)
        issuer, subject = claims['iss'], claims['sub']
        if self.settings.provision:
            user = await provision_user(issuer, claims, user_model=self.user_model)
        else:
            identity = await find_identity(issuer, subject)
            if identity is None:
                raise AuthenticationAPIError('No account is linked to this identity')
            user = await self.user_model.find_one(id=identity.user_id)
            if user is None:
                raise AuthenticationAPIError('User not found')
        if not user.can_authenticate():
            raise AuthenticationAPIError(ACCOUNT_DISABLED)
        return user

    async def verify(self, token: str) -> dict[str, Any]:
        """The verified claims of `token` (see the module for what is checked), or a 401."""
        cached = self._verified.get(token)
        if cached is not None and cached['exp'] + self.settings.leeway > self.clock.time():
            return cached
        if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH or not JWT_SHAPE.fullmatch(token):
            raise AuthenticationAPIError('Token is malformed')
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={'verify_signature': False})
        except Exception:  # hostile input must never become a 500
            raise AuthenticationAPIError('Token is malformed') from None
        iss, kid = unverified.get('iss'), header.get('kid')
        issuer = self.settings.issuer(iss) if isinstance(iss, str) else None
        if issuer is None:
            raise AuthenticationAPIError('Token issuer is not accepted')
        if kid is not None and not isinstance(kid, str):
            raise AuthenticationAPIError('Token is malformed')
        key, algorithms = await self._key(issuer, kid)
        claims = self._decode(token, issuer, key, algorithms)
        self._verified[token] = claims
        if len(self._verified) > MAX_CACHED_TOKENS:
            self._verified.popitem(last=False)
        return claims

    def _decode(self, token: str, issuer: OIDCIssuer, key: Any, algorithms: tuple[str, ...]) -> dict[str, Any]:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=list(algorithms),
                issuer=issuer.issuer,
                audience=list(issuer.audience),
                leeway=self.settings.leeway,
                options={'require': ['iss', 'sub', 'aud', 'exp', 'iat']},
            )
        except jwt.MissingRequiredClaimError as exc:
            raise AuthenticationAPIError(f'Token is missing the {exc.claim!r} claim') from None
        except jwt.PyJWTError as exc:
            raise AuthenticationAPIError(refusal_reason(exc)) from None
        except Exception:
            raise AuthenticationAPIError('Token is malformed') from None
        for claim in TIME_CLAIMS:
            if claim in claims and not is_time(claims[claim]):
                raise AuthenticationAPIError(f'Token claim {claim!r} must be a number of seconds')
        subject = claims['sub']
        if (
            not isinstance(subject, str)
            or not subject
            or len(subject) > MAX_SUBJECT_LENGTH
            or any(unicodedata.category(ch) in ('Cc', 'Cf', 'Zl', 'Zp', 'Cs') for ch in subject)
        ):
            raise AuthenticationAPIError("Token claim 'sub' must be a short printable string")
        return claims

    # -- the provider's keys ------------------------------------------------------------------

    async def _key(self, issuer: OIDCIssuer, kid: str | None) -> tuple[Any, tuple[str, ...]]:
        state = self._issuers[issuer.issuer]
        now = self.clock.monotonic()
        if state.fetched_at is None or now - state.fetched_at > KEYS_MAX_AGE:
            await self._refresh(issuer, state)
        found = state.find(kid)
        if found is None:  # a rotation, perhaps: look again (at most once per interval)
            await self._refresh(issuer, state)
            found = state.find(kid)
        if found is not None:
            return found
        if state.fetched_at is None:
            raise ProviderUnreachable()
        raise AuthenticationAPIError('Token key id is unknown' if kid is not None else 'Token names no key id')

    async def _refresh(self, issuer: OIDCIssuer, state: _IssuerKeys) -> None:
        """Fetch the keys, unless another request did (or tried) within `REFETCH_INTERVAL`."""
        async with state.lock:
            now = self.clock.monotonic()
            if state.attempted_at is not None and now - state.attempted_at < REFETCH_INTERVAL:
                return
            state.attempted_at = now
            try:
                state.keys = await self._fetch_keys(issuer)
            except _FetchFailed:
                return  # keep the keys known so far: a provider down for a moment stops no one
            state.fetched_at = now

    async def _fetch_keys(self, issuer: OIDCIssuer) -> dict[str | None, tuple[Any, tuple[str, ...]]]:
        import httpx

        timeout = httpx.Timeout(FETCH_TIMEOUT)
        async with httpx.AsyncClient(timeout=timeout, follow_redirects=False, trust_env=False) as client:
            jwks_url = issuer.jwks_url
            if jwks_url is None:
                discovery = await self._get_json(
                    client, f'{issuer.issuer.rstrip("/")}/.well-known/openid-configuration'
                )
                if not isinstance(discovery, dict) or discovery.get('issuer') != issuer.issuer:
                    raise _FetchFailed('the discovery document names another issuer')
                try:
                    jwks_url = secure_url('jwks_uri', discovery.get('jwks_uri'))
                except ConfigError:
                    raise _FetchFailed('the discovery document names no usable jwks_uri') from None
            jwks = await self._get_json(client, jwks_url)
        if not isinstance(jwks, dict) or not isinstance(jwks.get('keys'), list):
            raise _FetchFailed('not a JWK Set')
        keys: dict[str | None, tuple[Any, tuple[str, ...]]] = {}
        for jwk in jwks['keys']:
            if not isinstance(jwk, dict) or 'd' in jwk or jwk.get('use', 'sig') != 'sig':
                continue  # not a public signing key
            algorithms = key_algorithms(jwk, issuer.algorithms)
            kid = jwk.get('kid')
            if not algorithms or not (kid is None or isinstance(kid, str)):
                continue
            try:
                key = jwt.PyJWK(jwk, algorithm=algorithms[0]).key
            except Exception:  # a key PyJWT cannot read is a key nobody can use
                continue
            keys[kid] = (key, algorithms)
        return keys

    async def _get_json(self, client: Any, url: str) -> Any:
        import httpx

        self.fetches += 1
        try:
            async with client.stream('GET', url, headers={'Accept': 'application/json'}) as response:
                if response.status_code != 200:
                    raise _FetchFailed(f'{url} answered {response.status_code}')
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body.extend(chunk)
                    if len(body) > MAX_DOCUMENT_BYTES:
                        raise _FetchFailed(f'{url} sent more than {MAX_DOCUMENT_BYTES} bytes')
        except httpx.HTTPError as exc:
            raise _FetchFailed(f'{url}: {type(exc).__name__}') from None
        try:
            return orjson.loads(bytes(body))
        except orjson.JSONDecodeError:
            raise _FetchFailed(f'{url} sent no JSON') from None
