"""Hostile material: keys for every algorithm PyJWT knows, token forgeries, hypothesis strategies.

Everything an attacker could make without the server's key, plus tokens
signed *with* the server's key but carrying claims the server must not
trust, so the suite can tell "refused for the right reason" from "refused
because the signature happened to be wrong".
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import time
import uuid
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from hypothesis import strategies as st

ALGORITHMS = sorted(jwt.algorithms.get_default_algorithms())
CONFIGURED_ALGORITHM = 'HS256'
REQUIRED_CLAIMS = ('user_id', 'token_type', 'iat', 'exp', 'jti', 'sid')
B64_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b'=').decode()


def b64url_decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + '=' * (-len(segment) % 4))


def claims_for(user_id: Any, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        'user_id': user_id,
        'token_type': 'access',
        'iat': now,
        'exp': now + 3600,
        'jti': uuid.uuid4().hex,
        'sid': uuid.uuid4().hex,
    }
    claims.update(overrides)
    return claims


def hs_sign(header: bytes, payload: bytes, key: bytes, digest: Any = hashlib.sha256) -> str:
    """A JWS over the exact header and payload bytes given (duplicate members, odd JSON, any alg)."""
    signing_input = f'{b64url(header)}.{b64url(payload)}'
    signature = hmac.new(key, signing_input.encode(), digest).digest()
    return f'{signing_input}.{b64url(signature)}'


@functools.cache
def private_keys() -> dict[str, Any]:
    """One private key per key type, made once per run."""
    return {
        'rsa': rsa.generate_private_key(public_exponent=65537, key_size=2048),
        'P-256': ec.generate_private_key(ec.SECP256R1()),
        'secp256k1': ec.generate_private_key(ec.SECP256K1()),
        'P-384': ec.generate_private_key(ec.SECP384R1()),
        'P-521': ec.generate_private_key(ec.SECP521R1()),
        'ed25519': ed25519.Ed25519PrivateKey.generate(),
    }


def key_for(algorithm: str, secret: str) -> Any:
    """A key PyJWT accepts for `algorithm` (the server's own secret for the HMAC ones)."""
    keys = private_keys()
    if algorithm.startswith('HS'):
        return secret
    if algorithm.startswith(('RS', 'PS')):
        return keys['rsa']
    return {
        'ES256': keys['P-256'],
        'ES256K': keys['secp256k1'],
        'ES384': keys['P-384'],
        'ES512': keys['P-521'],
        'ES521': keys['P-521'],
        'EdDSA': keys['ed25519'],
    }.get(algorithm)


def public_pem(kind: str = 'rsa') -> bytes:
    return (
        private_keys()[kind]
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )


def sign_with(algorithm: str, claims: dict[str, Any], secret: str, headers: dict[str, Any] | None = None) -> str:
    if algorithm == 'none':
        header = {'alg': 'none', 'typ': 'JWT', **(headers or {})}
        return f'{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}.'
    return jwt.encode(claims, key_for(algorithm, secret), algorithm=algorithm, headers=headers)


def key_confusion_tokens(claims: dict[str, Any]) -> dict[str, str]:
    """HS256 signed with what a confused server might use as the HMAC secret: public keys and their forms."""
    tokens: dict[str, str] = {}
    header = json.dumps({'alg': 'HS256', 'typ': 'JWT'}).encode()
    payload = json.dumps(claims).encode()
    for kind in ('rsa', 'P-256', 'ed25519'):
        pem = public_pem(kind)
        tokens[f'hs256-with-{kind}-public-pem'] = hs_sign(header, payload, pem)
        tokens[f'hs256-with-{kind}-public-pem-stripped'] = hs_sign(header, payload, pem.strip())
        der = (
            private_keys()[kind]
            .public_key()
            .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        )
        tokens[f'hs256-with-{kind}-public-der'] = hs_sign(header, payload, der)
    jwk = jwt.algorithms.RSAAlgorithm.to_jwk(private_keys()['rsa'].public_key())
    tokens['hs256-with-rsa-jwk-json'] = hs_sign(header, payload, jwk.encode())
    embedded = json.dumps({'alg': 'RS256', 'typ': 'JWT', 'jwk': json.loads(jwk)}).encode()
    rs = jwt.encode(claims, private_keys()['rsa'], algorithm='RS256', headers={'jwk': json.loads(jwk)})
    tokens['rs256-with-embedded-jwk'] = rs
    tokens['rs256-header-hs256-signature'] = hs_sign(embedded, payload, public_pem())
    for header_name, value in (
        ('jku', 'http://127.0.0.1:1/jwks.json'),
        ('x5u', 'http://127.0.0.1:1/cert.pem'),
        ('kid', '../../../../dev/null'),
        ('kid', "' OR '1'='1"),
        ('kid', ''),
    ):
        tokens[f'rs256-with-{header_name}-{value[:8]}'] = jwt.encode(
            claims, private_keys()['rsa'], algorithm='RS256', headers={header_name: value}
        )
    tokens['hs256-empty-secret'] = hs_sign(header, payload, b'')
    tokens['hs256-secret-is-none-string'] = hs_sign(header, payload, b'none')
    tokens['hs256-secret-is-null-byte'] = hs_sign(header, payload, b'\x00')
    return tokens


# -- hypothesis strategies ---------------------------------------------------------------------

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=40),
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)


def _claim_value(name: str, good: Any) -> st.SearchStrategy[Any]:
    """The good value, a near miss of the right type, or anything at all."""
    now = int(time.time())
    near: dict[str, st.SearchStrategy[Any]] = {
        'user_id': st.sampled_from(['', ' ', 'ffffffffffffffffffffffff', '0', 'null', '{"$ne": null}']),
        'token_type': st.sampled_from(
            ['refresh', 'Access', 'ACCESS', ' access', 'access ', 'access\x00', '', 'id', 'bearer']
        ),
        'iat': st.sampled_from([now + 3600, now - 10**9, 0, -1, now * 1000]),
        'exp': st.sampled_from([now - 1, now - 3600, 0, -1, 2**63, 10**20, float(now - 5)]),
        'jti': st.sampled_from(['', 0]),
        'sid': st.sampled_from(['', 0]),
    }
    return st.one_of(st.just(good), near.get(name, st.nothing()), json_values)


@st.composite
def forged_claims(draw: st.DrawFn, user_ids: list[str]) -> dict[str, Any]:
    """Claims where each required claim is good, wrong, of the wrong type or absent, plus extras."""
    base = claims_for(draw(st.sampled_from(user_ids)))
    claims: dict[str, Any] = {}
    for name in REQUIRED_CLAIMS:
        if draw(st.integers(0, 5)) == 0:
            continue  # absent
        claims[name] = draw(_claim_value(name, base[name]))
    extras = draw(
        st.dictionaries(
            st.sampled_from(['nbf', 'aud', 'iss', 'sub', 'admin', 'role', 'scope']),
            json_values,
            max_size=2,
        )
    )
    claims.update(extras)
    return claims


def token_mutations(token: str) -> st.SearchStrategy[str]:
    """Mangled forms of a real token: edited characters, segments dropped, swapped, repeated, padded."""
    segments = token.split('.')
    edit = st.tuples(st.integers(0, len(token) - 1), st.sampled_from(list(B64_ALPHABET + '.=+/ %\x00é')))
    edited = edit.map(lambda e: token[: e[0]] + e[1] + token[e[0] + 1 :])
    truncated = st.integers(0, len(token) - 1).map(lambda n: token[:n])
    rearranged = st.lists(st.sampled_from([*segments, '', 'e30', 'eyJhbGciOiJub25lIn0']), min_size=1, max_size=5).map(
        '.'.join
    )
    wrapped = st.tuples(st.text(max_size=4), st.text(max_size=4)).map(lambda ab: ab[0] + token + ab[1])
    padded = st.sampled_from(
        [
            token + '=',
            token + '==',
            token.replace('.', '=.'),
            token + '.',
            '.' + token,
            token.replace('.', '..'),
            token + '.' + segments[2],
        ]
    )
    return st.one_of(edited, truncated, rearranged, wrapped, padded)


def same_token(a: str, b: str) -> bool:
    """Whether two strings decode to the same three segments (base64url allows non-canonical last chars)."""
    try:
        parts_a, parts_b = a.split('.'), b.split('.')
        if len(parts_a) != 3 or len(parts_b) != 3:
            return False
        if any(set(part) - set(B64_ALPHABET) for part in parts_a):
            return False
        return [b64url_decode(p) for p in parts_a] == [b64url_decode(p) for p in parts_b]
    except (ValueError, TypeError):
        return False


def accepts(claims: dict[str, Any], user_ids: set[str]) -> bool:
    """Whether a correctly signed token with `claims` may authenticate (the oracle for a 200)."""
    now = time.time()
    if any(name not in claims for name in REQUIRED_CLAIMS):
        return False
    for name in ('user_id', 'jti', 'sid'):
        if not isinstance(claims[name], str) or not claims[name]:
            return False
    if claims['token_type'] != 'access' or claims['user_id'] not in user_ids:
        return False
    for name in ('exp', 'iat', 'nbf'):
        value = claims.get(name)
        if name in claims and (isinstance(value, bool) or not isinstance(value, int | float)):
            return False
    return claims['exp'] > now and claims['iat'] <= now + 1 and claims.get('nbf', 0) <= now + 1 and 'aud' not in claims
