"""JWT key material: the signing key, the keys that verify, and what may be published.

Why a module of its own: keys are where JWT deployments go wrong (RFC 8725
section 3). Everything here is decided when the app is built:

- the algorithm is fixed by configuration, and each key is prepared for
  that algorithm only, so a token can never choose how it is verified
  (``alg: none``, HS/RS confusion);
- an HMAC key shorter than the hash output is refused (RFC 7518 section 3.2);
- an RSA key shorter than 2048 bits is refused (RFC 7518 section 3.3);
- rotation: a token names its key with ``kid``; several verification keys
  can be live at once, and only their public halves are ever published.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import jwt
from jwt.algorithms import get_default_algorithms

from panther_like.exceptions import ConfigError

HMAC_MINIMUM_BYTES = {'HS256': 32, 'HS384': 48, 'HS512': 64}
ASYMMETRIC_ALGORITHMS = (
    'RS256',
    'RS384',
    'RS512',
    'PS256',
    'PS384',
    'PS512',
    'ES256',
    'ES384',
    'ES512',
    'EdDSA',
)
SUPPORTED_ALGORITHMS = (*HMAC_MINIMUM_BYTES, *ASYMMETRIC_ALGORITHMS)
MINIMUM_RSA_BITS = 2048


@dataclass(frozen=True, slots=True)
class KeySet:
    """Prepared keys for one algorithm: sign with `signing_key`, verify by ``kid``."""

    algorithm: str
    signing_key: Any
    kid: str | None
    #: ``kid`` -> verification key; the key under ``None`` verifies tokens without a ``kid``.
    verification_keys: Mapping[str | None, Any] = field(default_factory=dict)

    @property
    def is_symmetric(self) -> bool:
        return self.algorithm in HMAC_MINIMUM_BYTES

    def key_for(self, kid: str | None) -> Any:
        return self.verification_keys.get(kid)

    def jwks(self) -> dict[str, list[dict[str, Any]]]:
        """The public verification keys as a JWK Set (RFC 7517); empty for HMAC, whose keys are secrets."""
        if self.is_symmetric:
            return {'keys': []}
        implementation = get_default_algorithms()[self.algorithm]
        keys = []
        for kid, key in self.verification_keys.items():
            if kid is None:
                continue
            jwk = implementation.to_jwk(key, as_dict=True)
            jwk.update({'kid': kid, 'alg': self.algorithm, 'use': 'sig'})
            keys.append(jwk)
        return {'keys': keys}


def build_key_set(algorithm: str, key: Any, kid: Any, verification_keys: Any) -> KeySet:
    if algorithm not in SUPPORTED_ALGORITHMS:
        raise ConfigError(
            "JWTConfig['algorithm']",
            algorithm,
            f'{algorithm!r} is not supported; use one of {", ".join(SUPPORTED_ALGORITHMS)}',
        )
    if kid is not None and not (isinstance(kid, str) and kid):
        raise ConfigError("JWTConfig['kid']", kid, f'{kid!r} must be a non-empty string')
    if verification_keys is None:
        verification_keys = {}
    if not isinstance(verification_keys, Mapping) or not all(isinstance(k, str) and k for k in verification_keys):
        raise ConfigError(
            "JWTConfig['verification_keys']", '<hidden>', 'must be a dict of {kid: key} with non-empty string kids'
        )
    signing_key = _prepare(algorithm, key, "JWTConfig['key']", private=True)
    own_verification_key = signing_key if algorithm in HMAC_MINIMUM_BYTES else signing_key.public_key()
    keys: dict[str | None, Any] = {None: own_verification_key}
    if kid is not None:
        keys[kid] = own_verification_key
    for other_kid, other_key in verification_keys.items():
        if other_kid == kid:
            raise ConfigError(  # named by its kid, which is no secret (the setting's name would hide it)
                "JWTConfig['kid']",
                other_kid,
                f"{other_kid!r} is also the signing kid of JWTConfig['verification_keys']",
            )
        setting = f"JWTConfig['verification_keys'][{other_kid!r}]"
        keys[other_kid] = _prepare(algorithm, other_key, setting, private=False)
    return KeySet(algorithm=algorithm, signing_key=signing_key, kid=kid, verification_keys=keys)


def _prepare(algorithm: str, key: Any, setting: str, *, private: bool) -> Any:
    if isinstance(key, bytes):
        key = key.decode('utf-8', 'replace') if algorithm not in HMAC_MINIMUM_BYTES else key
    if not isinstance(key, str | bytes) or not key:
        raise ConfigError(setting, '<hidden>', 'must be a non-empty string')
    if algorithm in HMAC_MINIMUM_BYTES:
        size = len(key.encode() if isinstance(key, str) else key)
        minimum = HMAC_MINIMUM_BYTES[algorithm]
        if size < minimum:
            raise ConfigError(
                setting,
                '<hidden>',
                f'the key is {size} bytes; {algorithm} needs at least {minimum} (RFC 7518 section 3.2). '
                'Generate one with: python -c "import secrets; print(secrets.token_urlsafe(64))"',
            )
        if isinstance(key, str) and key.lstrip().startswith('-----BEGIN'):
            raise ConfigError(setting, '<hidden>', f'is a PEM key, which {algorithm} would use as a shared secret')
        return key
    implementation = get_default_algorithms().get(algorithm)
    if implementation is None:  # PyJWT offers asymmetric algorithms only when `cryptography` imports
        raise ConfigError(
            "JWTConfig['algorithm']",
            algorithm,
            f'{algorithm} needs the cryptography package, which is not installed: '
            f"pip install 'panther-like[crypto]' (or use HS256, HS384 or HS512)",
        )
    try:
        prepared = implementation.prepare_key(key)
    except (jwt.InvalidKeyError, ValueError, TypeError) as exc:
        raise ConfigError(setting, '<hidden>', f'is not a PEM key usable with {algorithm} ({exc})') from None
    has_private_half = hasattr(prepared, 'sign')
    if private and not has_private_half:
        raise ConfigError(setting, '<hidden>', f'must be a private key: {algorithm} signs with it')
    public = prepared.public_key() if has_private_half else prepared
    bits: int | None = getattr(public, 'key_size', None)
    if algorithm.startswith(('RS', 'PS')) and bits is not None and bits < MINIMUM_RSA_BITS:
        raise ConfigError(setting, '<hidden>', f'is a {bits}-bit RSA key; use at least {MINIMUM_RSA_BITS} bits')
    return prepared if private else public
