"""Key management: asymmetric algorithms, rotation by kid, the JWKS route, and keys refused at build time."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from panther_like import API, Panther, Request
from panther_like.exceptions import AuthenticationAPIError, ConfigError
from panther_like.routing.jwks import jwks
from panther_like.testing import TestClient
from tests import forge
from tests.settings import settings_module


def pem(private_key, public: bool = False) -> str:
    if public:
        return (
            private_key.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode()
        )
    return private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
RSA_OLD = rsa.generate_private_key(public_exponent=65537, key_size=2048)
KEYS = {
    'RS256': RSA_KEY,
    'PS256': RSA_KEY,
    'ES256': ec.generate_private_key(ec.SECP256R1()),
    'EdDSA': ed25519.Ed25519PrivateKey.generate(),
}


@API(auth=True, methods=['GET'])
async def me(request: Request):
    return {'username': request.user.username}


def build(tmp_path, **jwt_config) -> Panther:
    settings = settings_module(
        AUTHENTICATION='panther_like.authentications.JWTAuthentication',
        JWTConfig=jwt_config,
        DATABASE={'path': str(tmp_path / 'keys.sqlite3')},
    )
    return Panther(settings, urls={'me': me, '.well-known/jwks.json': jwks})


@pytest.mark.parametrize('algorithm', sorted(KEYS))
async def test_an_asymmetric_algorithm_signs_and_verifies(tmp_path, algorithm):
    app = build(tmp_path, algorithm=algorithm, key=pem(KEYS[algorithm]))
    async with TestClient(app) as client:
        user = await app.config.user_model.insert_one(username='ann')
        token = (await user.login())['access_token']
        response = await client.get('/me', headers={'Authorization': f'Bearer {token}'})
        assert response.json() == {'username': 'ann'}


async def test_the_signing_kid_is_written_into_the_token_header(tmp_path):
    import jwt

    app = build(tmp_path, algorithm='RS256', key=pem(RSA_KEY), kid='2026-11')
    async with TestClient(app):
        user = await app.config.user_model.insert_one(username='ann')
        token = (await user.login())['access_token']
        assert jwt.get_unverified_header(token)['kid'] == '2026-11'


async def test_a_token_signed_by_a_retired_key_verifies_while_its_kid_is_listed(tmp_path):
    old = build(tmp_path, algorithm='RS256', key=pem(RSA_OLD), kid='old')
    async with TestClient(old):
        user = await old.config.user_model.insert_one(username='ann')
        token = (await user.login())['access_token']
    rotated = build(
        tmp_path, algorithm='RS256', key=pem(RSA_KEY), kid='new', verification_keys={'old': pem(RSA_OLD, public=True)}
    )
    async with TestClient(rotated):
        assert (await rotated.tokens.authenticate(token)).username == 'ann'


async def test_a_token_whose_kid_was_removed_is_refused(tmp_path):
    old = build(tmp_path, algorithm='RS256', key=pem(RSA_OLD), kid='old')
    async with TestClient(old):
        user = await old.config.user_model.insert_one(username='ann')
        token = (await user.login())['access_token']
    rotated = build(
        tmp_path, algorithm='RS256', key=pem(RSA_KEY), kid='new', verification_keys={'older': pem(RSA_KEY, public=True)}
    )
    async with TestClient(rotated):
        with pytest.raises(AuthenticationAPIError, match='key id is unknown'):
            await rotated.tokens.authenticate(token)


async def test_an_hmac_key_can_rotate_by_kid_too(tmp_path):
    old = build(tmp_path, key='o' * 16 + '0123456789abcdef', kid='a')
    async with TestClient(old):
        user = await old.config.user_model.insert_one(username='ann')
        token = (await user.login())['access_token']
    rotated = build(
        tmp_path, key='n' * 16 + '0123456789abcdef', kid='b', verification_keys={'a': 'o' * 16 + '0123456789abcdef'}
    )
    async with TestClient(rotated):
        assert (await rotated.tokens.authenticate(token)).username == 'ann'


async def test_hs256_signed_with_the_public_key_is_refused_by_an_rs256_app(tmp_path):
    """The HS/RS key confusion attack: the public key used as an HMAC secret."""
    app = build(tmp_path, algorithm='RS256', key=pem(RSA_KEY))
    async with TestClient(app) as client:
        user = await app.config.user_model.insert_one(username='ann')
        import hashlib
        import hmac

        import jwt

        header = forge._b64({'alg': 'HS256', 'typ': 'JWT'})
        payload = forge._b64(forge.claims(user.id))
        signing_input = f'{header}.{payload}'.encode()
        secret = pem(RSA_KEY, public=True).encode()
        signature = jwt.utils.base64url_encode(hmac.new(secret, signing_input, hashlib.sha256).digest()).decode()
        response = await client.get('/me', headers={'Authorization': f'Bearer {header}.{payload}.{signature}'})
        assert response.status_code == 401
        assert response.json() == {'detail': 'Token algorithm is not allowed'}


async def test_alg_none_is_refused_by_an_asymmetric_app(tmp_path):
    app = build(tmp_path, algorithm='ES256', key=pem(KEYS['ES256']))
    async with TestClient(app) as client:
        user = await app.config.user_model.insert_one(username='ann')
        token = forge.unsigned(forge.claims(user.id))
        assert (await client.get('/me', headers={'Authorization': f'Bearer {token}'})).status_code == 401


async def test_the_jwks_route_publishes_every_public_key_and_no_private_part(tmp_path):
    app = build(
        tmp_path, algorithm='RS256', key=pem(RSA_KEY), kid='new', verification_keys={'old': pem(RSA_OLD, public=True)}
    )
    async with TestClient(app) as client:
        body = (await client.get('/.well-known/jwks.json')).json()
    assert sorted(key['kid'] for key in body['keys']) == ['new', 'old']
    for key in body['keys']:
        assert (key['kty'], key['alg'], key['use']) == ('RSA', 'RS256', 'sig')
        assert not {'d', 'p', 'q', 'dp', 'dq', 'qi'} & set(key)


async def test_the_jwks_of_an_hmac_app_is_empty(tmp_path):
    app = build(tmp_path, key='k' * 16 + '0123456789abcdef', kid='a')
    async with TestClient(app) as client:
        assert (await client.get('/.well-known/jwks.json')).json() == {'keys': []}


@pytest.mark.parametrize(('algorithm', 'minimum'), [('HS256', 32), ('HS384', 48), ('HS512', 64)])
def test_an_hmac_key_shorter_than_the_hash_output_is_a_config_error(tmp_path, algorithm, minimum):
    with pytest.raises(ConfigError, match=f'at least {minimum}') as error:
        build(tmp_path, algorithm=algorithm, key='k' * (minimum - 1))
    assert "JWTConfig['key']" in str(error.value)
    assert 'k' * (minimum - 1) not in str(error.value)


def test_a_short_secret_key_is_a_config_error_naming_the_rfc(tmp_path):
    with pytest.raises(ConfigError, match='RFC 7518'):
        Panther(settings_module(SECRET_KEY='short', DATABASE={'path': str(tmp_path / 'k.sqlite3')}), urls={})


def test_a_public_key_cannot_be_the_signing_key(tmp_path):
    with pytest.raises(ConfigError, match='must be a private key'):
        build(tmp_path, algorithm='RS256', key=pem(RSA_KEY, public=True))


def test_an_rsa_key_under_2048_bits_is_a_config_error(tmp_path):
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    with pytest.raises(ConfigError, match='1024-bit'):
        build(tmp_path, algorithm='RS256', key=pem(weak))


def test_a_key_of_the_wrong_type_for_the_algorithm_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match='ES256'):
        build(tmp_path, algorithm='ES256', key=pem(RSA_KEY))


def test_a_pem_key_is_refused_as_an_hmac_secret(tmp_path):
    with pytest.raises(ConfigError, match='PEM'):
        build(tmp_path, algorithm='HS256', key=pem(RSA_KEY))


def test_a_verification_key_reusing_the_signing_kid_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match='also the signing kid'):
        build(
            tmp_path, key='k' * 16 + '0123456789abcdef', kid='a', verification_keys={'a': 'z' * 16 + '0123456789abcdef'}
        )
