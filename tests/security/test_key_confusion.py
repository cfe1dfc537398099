"""HS/RS key confusion against a server that really uses asymmetric keys (RS256, ES256, EdDSA).

The classic attack (CVE-2015-9235 and kin): the server's public key is
public, so an attacker signs an HS256 token with the PEM text as the HMAC
secret; a server that lets the token pick the algorithm verifies it with
the "key" it has, the same PEM, and accepts. Here the configured
algorithm is the only one accepted and the key is typed, so every variant
is a 401. Run in-process (panther_like.testing): the server's own keys are needed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from core.urls import url_routing
from panther_like import Panther
from panther_like.testing import TestClient
from tests.security import corpus
from tests.settings import settings_module

KEY_MAKERS = {
    'RS256': lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048),
    'ES256': lambda: ec.generate_private_key(ec.SECP256R1()),
    'EdDSA': ed25519.Ed25519PrivateKey.generate,
}


def pem(private_key) -> tuple[str, bytes]:
    private = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, public


@pytest.fixture(params=sorted(KEY_MAKERS))
async def asymmetric(request: pytest.FixtureRequest, tmp_path) -> AsyncIterator[tuple[TestClient, str, bytes]]:
    private, public = pem(KEY_MAKERS[request.param]())
    app = Panther(
        settings_module(
            SECRET_KEY='unused-hmac-secret-0123456789-abcdefghijklmnopqrstuvwxyz',
            URLS=url_routing,
            USER_MODEL='example_app.models.User',
            AUTHENTICATION='panther_like.authentications.JWTAuthentication',
            WS_AUTHENTICATION='panther_like.authentications.QueryParamJWTAuthentication',
            JWTConfig={'key': private, 'algorithm': request.param},
            DATABASE={'path': str(tmp_path / 'k.sqlite3')},
        )
    )
    async with TestClient(app) as client:
        assert (await client.post('/auth/signup', json={'username': 'ann', 'password': 'pw-123456'})).status_code == 201
        tokens = (await client.post('/auth/login', json={'username': 'ann', 'password': 'pw-123456'})).json()
        yield client, tokens['access_token'], public


def confused(real_token: str, public: bytes) -> dict[str, str]:
    """Forgeries built from the real token's claims and the server's public key."""
    claims = jwt.decode(real_token, options={'verify_signature': False})
    payload = json.dumps(claims).encode()
    der = serialization.load_pem_public_key(public).public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    forgeries = {}
    for alg, digest in (('HS256', 'sha256'), ('HS384', 'sha384'), ('HS512', 'sha512')):
        header = json.dumps({'alg': alg, 'typ': 'JWT'}).encode()
        forgeries[f'{alg}-public-pem'] = corpus.hs_sign(header, payload, public, getattr(hashlib, digest))
        forgeries[f'{alg}-public-pem-stripped'] = corpus.hs_sign(
            header, payload, public.strip(), getattr(hashlib, digest)
        )
        forgeries[f'{alg}-public-der'] = corpus.hs_sign(header, payload, der, getattr(hashlib, digest))
    forgeries['none'] = corpus.sign_with('none', claims, '')
    head, body, _ = real_token.split('.')
    forgeries['real-header-no-signature'] = f'{head}.{body}.'
    return forgeries


async def test_the_real_asymmetric_token_is_accepted(asymmetric) -> None:
    """Control: the server does accept its own tokens, so the refusals below are the forgeries' doing."""
    client, token, _ = asymmetric
    assert (await client.get('/me', headers={'Authorization': f'Bearer {token}'})).status_code == 200


async def test_hmac_tokens_signed_with_the_public_key_are_refused(asymmetric) -> None:
    client, token, public = asymmetric
    for name, forged in confused(token, public).items():
        response = await client.get('/me', headers={'Authorization': f'Bearer {forged}'})
        assert response.status_code == 401, (name, response.text)
