"""The protocol side of signing in with a provider, on Authlib: the authorization URL, the code, the ID token.

Authlib builds the authorization request (``state``, ``nonce``, PKCE S256) and exchanges the code
(`authlib.integrations.httpx_client.AsyncOAuth2Client`); the ID token's signature is checked by its JOSE
library against the provider's JWKS, and its claims (``iss``, ``aud`` = our client id, ``azp``, ``exp``,
``iat``, ``nonce`` = the one we sent, ``at_hash``) by Authlib's `CodeIDToken`: none of these checks is
written here. What is ours: discovery (whose ``issuer`` must be exactly the configured one, else another
server could speak for it), a key set refetched when a token names an unknown key (at most once per
`JWKS_REFETCH_INTERVAL`, so made-up key ids cost nothing), short timeouts, and bounded answers.
"""

from __future__ import annotations

import asyncio
import functools
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from panther_like import status
from panther_like.exceptions import APIError, BadRequestAPIError, NotFoundAPIError
from panther_like.http.request import Request
from panther_like.login_state.services import services_of
from panther_like.settings.providers import ProviderSettings, require_oidc_dependencies

#: Seconds a provider has to answer one request (httpx, like Authlib, is imported only once a provider is used:
#: an app without providers needs neither).
TIMEOUT = 5.0
#: Bytes a provider's answer may hold; discovery documents, key sets and tokens are far smaller.
MAX_ANSWER = 256 * 1024
METADATA_LIFE = 3600.0
JWKS_REFETCH_INTERVAL = 10.0
#: Seconds of clock difference tolerated on ``exp`` and ``iat``.
LEEWAY = 60
#: ID token algorithms we accept; never ``none``, and not the HMAC ones (they would make the client secret a key).
ASYMMETRIC = frozenset({'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'})
UNREACHABLE = 'The identity provider is unreachable; try again later'
REFUSED_CODE = 'The identity provider refused the sign-in (the code is wrong, spent or expired); start again'
BAD_ID_TOKEN = 'The identity provider answered with an ID token that is not for this sign-in'


class ProviderUnreachable(APIError):
    """503, as `OIDCAuthentication` answers: the provider did not answer, or not with what the protocol says."""

    def __init__(self, detail: str = UNREACHABLE) -> None:
        super().__init__(detail, status.HTTP_503_SERVICE_UNAVAILABLE)


@dataclass(frozen=True, slots=True)
class ProviderIdentity:
    """Who the provider says signed in: its issuer and subject, and what it asserts about them."""

    issuer: str
    subject: str
    email: str | None
    email_verified: bool
    claims: Mapping[str, Any] = field(default_factory=dict)
    #: RFC 8176 methods and the ``acr`` the provider reports (ID tokens only).
    amr: tuple[str, ...] = ()
    acr: str | None = None


class ProviderClient:
    """One configured provider: its discovery document and key set, cached; the steps of a sign-in."""

    def __init__(self, settings: ProviderSettings) -> None:
        require_oidc_dependencies()
        self.settings = settings
        self._metadata: dict[str, Any] | None = None
        self._metadata_at = 0.0
        self._jwks: dict[str, Any] | None = None
        self._jwks_at = 0.0
        self._lock = asyncio.Lock()

    async def _get_json(self, url: str, bearer: str | None = None) -> Any:
        headers = {'Accept': 'application/json'}
        if bearer is not None:
            headers['Authorization'] = f'Bearer {bearer}'
        import httpx

        try:
            async with httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=False) as http:
                response = await http.get(url, headers=headers)
        except (httpx.HTTPError, httpx.InvalidURL):  # the URL came from the provider's discovery document
            raise ProviderUnreachable() from None
        if response.status_code != 200 or len(response.content) > MAX_ANSWER:
            raise ProviderUnreachable()
        try:
            return response.json()
        except ValueError:
            raise ProviderUnreachable() from None

    async def metadata(self) -> Mapping[str, Any]:
        """The provider's endpoints: discovered (and cached an hour), or the configured ones."""
        settings = self.settings
        if not settings.discovery:
            return {
                'issuer': settings.issuer,
                'authorization_endpoint': settings.authorize_url,
                'token_endpoint': settings.token_url,
                'userinfo_endpoint': settings.userinfo_url,
            }
        async with self._lock:
            if self._metadata is None or time.monotonic() - self._metadata_at > METADATA_LIFE:
                found = await self._get_json(settings.issuer.rstrip('/') + '/.well-known/openid-configuration')
                if not isinstance(found, dict) or found.get('issuer') != settings.issuer:
                    raise ProviderUnreachable("The identity provider's discovery document names another issuer")
                for key in ('authorization_endpoint', 'token_endpoint', 'jwks_uri'):
                    if not isinstance(found.get(key), str):
                        raise ProviderUnreachable(f"The identity provider's discovery document has no {key}")
                self._metadata, self._metadata_at = found, time.monotonic()
            return self._metadata

    async def _key_set(self, *, refresh: bool = False) -> Any:
        from joserfc.errors import JoseError
        from joserfc.jwk import KeySet

        metadata = await self.metadata()
        async with self._lock:
            stale = refresh and time.monotonic() - self._jwks_at > JWKS_REFETCH_INTERVAL
            if self._jwks is None or stale:
                found = await self._get_json(metadata['jwks_uri'])
                if not isinstance(found, dict) or not isinstance(found.get('keys'), list):
                    raise ProviderUnreachable("The identity provider's key set is not a JWKS")
                self._jwks, self._jwks_at = found, time.monotonic()
            try:
                return KeySet.import_key_set(cast(Any, self._jwks))
            except (JoseError, ValueError, TypeError, KeyError):
                raise ProviderUnreachable("The identity provider's key set holds a key that cannot be read") from None

    def _oauth_client(self, redirect_uri: str) -> Any:
        with warnings.catch_warnings():
            # Authlib would rather have the httpx2 fork; httpx is what this framework ships, and Authlib supports it.
            # Its deprecation module adds an "always" filter when imported: ours must come after it.
            from authlib.deprecate import AuthlibDeprecationWarning

            warnings.filterwarnings(
                'ignore', message='The httpx module is deprecated', category=AuthlibDeprecationWarning
            )
            from authlib.integrations.httpx_client import AsyncOAuth2Client

        settings = self.settings
        return AsyncOAuth2Client(
            settings.client_id,
            settings.client_secret,
            scope=' '.join(settings.scopes) or None,
            redirect_uri=redirect_uri,
            code_challenge_method='S256',
            timeout=TIMEOUT,
        )

    async def authorization_url(self, redirect_uri: str, state: str, nonce: str, verifier: str) -> str:
        """Where to send the browser: the provider's authorization endpoint with our request."""
        metadata = await self.metadata()
        extra = {'nonce': nonce} if self.settings.discovery else {}
        async with self._oauth_client(redirect_uri) as client:
            url, _ = client.create_authorization_url(
                metadata['authorization_endpoint'], state=state, code_verifier=verifier, **extra
            )
        return str(url)

    async def finish(self, redirect_uri: str, code: str, verifier: str, nonce: str) -> ProviderIdentity:
        """Exchange `code` and say who signed in; the ID token checked, or the userinfo read for OAuth 2."""
        import httpx
        from authlib.integrations.base_client import OAuthError

        metadata = await self.metadata()
        async with self._oauth_client(redirect_uri) as client:
            try:
                token = await client.fetch_token(
                    metadata['token_endpoint'], grant_type='authorization_code', code=code, code_verifier=verifier
                )
            except OAuthError:
                raise BadRequestAPIError(REFUSED_CODE) from None
            except (httpx.HTTPError, httpx.InvalidURL, ValueError, TypeError, KeyError, AttributeError):
                # Unreachable, or an answer that is no token response: the provider's fault, not the user's.
                raise ProviderUnreachable() from None
        if not isinstance(token, Mapping) or not isinstance(token.get('access_token'), str):
            raise ProviderUnreachable()
        if self.settings.discovery:
            return await self.identity_from_id_token(token.get('id_token'), nonce, token['access_token'])
        return await self._identity_from_userinfo(token['access_token'])

    async def identity_from_id_token(self, id_token: Any, nonce: str, access_token: str | None) -> ProviderIdentity:
        """The identity an ID token asserts, once Authlib has checked it was made for this sign-in; else 400."""
        from authlib.oidc.core import CodeIDToken
        from joserfc import jwt
        from joserfc.errors import InvalidKeyIdError, JoseError
        from joserfc.jws import JWSRegistry

        if not isinstance(id_token, str) or len(id_token) > MAX_ANSWER:
            raise BadRequestAPIError(BAD_ID_TOKEN)
        metadata = await self.metadata()
        offered = metadata.get('id_token_signing_alg_values_supported') or ['RS256']
        algorithms = [alg for alg in offered if alg in ASYMMETRIC] if isinstance(offered, list) else []
        registry = JWSRegistry(algorithms=algorithms or ['RS256'])
        try:
            try:
                decoded = jwt.decode(id_token, await self._key_set(), registry=registry)
            except InvalidKeyIdError:  # keys rotated since we fetched them
                decoded = jwt.decode(id_token, await self._key_set(refresh=True), registry=registry)
            client_id = self.settings.client_id
            options = {
                'iss': {'essential': True, 'value': self.settings.issuer},
                'aud': {'essential': True, 'value': client_id},
            }
            params = {'nonce': nonce, 'client_id': client_id, 'access_token': access_token}
            claims = CodeIDToken(decoded.claims, decoded.header, options, params)
            claims.validate(leeway=LEEWAY)
        except (JoseError, ValueError):
            raise BadRequestAPIError(BAD_ID_TOKEN) from None
        found = dict(claims)
        amr = found.get('amr')
        return ProviderIdentity(
            issuer=self.settings.issuer,
            subject=str(found['sub']),
            email=found.get('email') if isinstance(found.get('email'), str) else None,
            email_verified=found.get('email_verified') is True,
            claims=found,
            amr=tuple(item for item in amr if isinstance(item, str)) if isinstance(amr, list) else (),
            acr=found.get('acr') if isinstance(found.get('acr'), str) else None,
        )

    async def _identity_from_userinfo(self, access_token: str) -> ProviderIdentity:
        """OAuth 2 without ID tokens (GitHub): the userinfo's ``id`` (or ``sub``), and a verified address.

        The address: the primary one of `emails_url` when configured (GitHub lists them there with
        ``verified``), else the userinfo's ``email`` with its ``email_verified``.
        """
        settings = self.settings
        assert settings.userinfo_url is not None  # an explicit-endpoints provider has all three
        info = await self._get_json(settings.userinfo_url, access_token)
        subject = info.get('id', info.get('sub')) if isinstance(info, dict) else None  # GitHub's id, else OIDC's sub
        if not isinstance(subject, str | int) or isinstance(subject, bool) or subject == '':
            raise ProviderUnreachable("The identity provider's userinfo has no id")
        email, verified = None, False
        if settings.emails_url is not None:
            listed = await self._get_json(settings.emails_url, access_token)
            for entry in listed if isinstance(listed, list) else []:
                if isinstance(entry, dict) and entry.get('primary') is True and isinstance(entry.get('email'), str):
                    email, verified = entry['email'], entry.get('verified') is True
        elif isinstance(info.get('email'), str):
            email, verified = info['email'], info.get('email_verified') is True
        claims = {key: value for key, value in info.items() if isinstance(value, str | int | bool) or value is None}
        return ProviderIdentity(
            issuer=settings.issuer, subject=str(subject), email=email, email_verified=verified, claims=claims
        )


def provider_named(request: Request, name: str) -> ProviderSettings:
    """The provider ``ACCOUNTS['providers'][name]``; a 404 when there is none by that name."""
    found = services_of(request).config.accounts.providers.get(name)
    if found is None:
        raise NotFoundAPIError('No such provider')
    return found


@functools.cache
def provider_client(settings: ProviderSettings) -> ProviderClient:
    """The one client of a configured provider, so its discovery document and keys are fetched once."""
    return ProviderClient(settings)
