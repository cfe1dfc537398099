"""The app's own tokens: ``iss``, ``aud`` and ``leeway`` written and required, custom claims, discovery."""

from __future__ import annotations

import secrets
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from panther_like import API, Panther, Request
from panther_like.exceptions import ConfigError
from panther_like.jwks import jwks, openid_configuration
from panther_like.testing import TestClient
from tests.settings import settings_module

KEY = secrets.token_urlsafe(48)
ISSUER = 'https://api.example.com'
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
RSA_PEM = RSA_KEY.private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
).decode()


@API(auth=True, methods=['GET'])
async def me(request: Request) -> dict[str, Any]:
    return {'username': request.user.username}


@API(methods=['POST'])
async def login(request: Request) -> dict[str, str]:
    user = await request.app.config.user_model.find_by_username('ann')
    return await user.login()


def build(tmp_path, **jwt_config: Any) -> Panther:
    settings = settings_module(
        AUTHENTICATION='panther_like.authentications.JWTAuthentication',
        JWTConfig={'key': KEY, **jwt_config},
        DATABASE={'path': str(tmp_path / 'own.sqlite3')},
    )
    urls = {
        'me': me,
        'login': login,
        '.well-known/jwks.json': jwks,
        '.well-known/openid-configuration': openid_configuration,
    }
    return Panther(settings, urls=urls)


async def _token(app: Panther) -> str:
    user = await app.config.user_model.insert_one(username='ann')
    token: str = (await user.login())['access_token']
    return token


def _resigned(token: str, **changes: Any) -> str:
    """The token's claims with `changes` (None removes a claim), signed again with the app's key."""
    claims = jwt.decode(token, options={'verify_signature': False})
    claims.update(changes)
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, KEY, algorithm='HS256')


async def _status(client: TestClient, token: str) -> tuple[int, str]:
    response = await client.get('/me', headers={'Authorization': f'Bearer {token}'})
    return response.status_code, response.headers.get('www-authenticate', '')


async def test_issuer_and_audience_are_written_into_tokens(tmp_path) -> None:
    app = build(tmp_path, issuer=ISSUER, audience='orders-api')
    async with TestClient(app):
        claims = jwt.decode(await _token(app), options={'verify_signature': False})
    assert (claims['iss'], claims['aud']) == (ISSUER, 'orders-api')


async def test_several_audiences_are_written_as_a_list(tmp_path) -> None:
    app = build(tmp_path, audience=['orders-api', 'billing-api'])
    async with TestClient(app):
        claims = jwt.decode(await _token(app), options={'verify_signature': False})
    assert claims['aud'] == ['orders-api', 'billing-api']


async def test_a_token_with_the_configured_issuer_and_audience_is_accepted(tmp_path) -> None:
    app = build(tmp_path, issuer=ISSUER, audience='orders-api')
    async with TestClient(app) as client:
        assert (await _status(client, await _token(app)))[0] == 200


async def test_a_token_without_an_audience_is_refused_with_a_bearer_challenge(tmp_path) -> None:
    app = build(tmp_path, issuer=ISSUER, audience='orders-api')
    async with TestClient(app) as client:
        status, challenge = await _status(client, _resigned(await _token(app), aud=None))
    assert status == 401
    assert 'error="invalid_token"' in challenge and 'aud' in challenge


async def test_a_token_for_another_audience_is_refused(tmp_path) -> None:
    app = build(tmp_path, issuer=ISSUER, audience='orders-api')
    async with TestClient(app) as client:
        status, challenge = await _status(client, _resigned(await _token(app), aud='billing-api'))
    assert status == 401 and 'audience' in challenge


async def test_a_token_from_another_issuer_is_refused(tmp_path) -> None:
    app = build(tmp_path, issuer=ISSUER, audience='orders-api')
    async with TestClient(app) as client:
        status, challenge = await _status(client, _resigned(await _token(app), iss='https://evil.example.com'))
    assert status == 401 and 'issuer' in challenge


async def test_a_token_without_an_issuer_is_refused(tmp_path) -> None:
    app = build(tmp_path, issuer=ISSUER)
    async with TestClient(app) as client:
        assert (await _status(client, _resigned(await _token(app), iss=None)))[0] == 401


async def test_a_token_naming_an_audience_is_refused_by_an_app_that_names_none(tmp_path) -> None:
    app = build(tmp_path)
    async with TestClient(app) as client:
        assert (await _status(client, _resigned(await _token(app), aud='orders-api')))[0] == 401


async def test_leeway_accepts_a_token_expired_within_it(tmp_path) -> None:
    app = build(tmp_path, leeway=30)
    async with TestClient(app) as client:
        assert (await _status(client, _resigned(await _token(app), exp=int(time.time()) - 5)))[0] == 200


async def test_without_leeway_the_same_token_is_expired(tmp_path) -> None:
    app = build(tmp_path)
    async with TestClient(app) as client:
        assert (await _status(client, _resigned(await _token(app), exp=int(time.time()) - 5)))[0] == 401


async def test_leeway_does_not_accept_a_token_expired_beyond_it(tmp_path) -> None:
    app = build(tmp_path, leeway=30)
    async with TestClient(app) as client:
        assert (await _status(client, _resigned(await _token(app), exp=int(time.time()) - 60)))[0] == 401


@pytest.mark.parametrize(
    ('key', 'value'),
    [('issuer', ''), ('issuer', 3), ('audience', []), ('audience', ['ok', '']), ('leeway', -1), ('leeway', 301)],
)
def test_a_bad_issuer_audience_or_leeway_is_a_config_error(tmp_path, key: str, value: Any) -> None:
    with pytest.raises(ConfigError, match=f"JWTConfig\\['{key}'\\]"):
        build(tmp_path, **{key: value})


async def test_the_claims_hook_adds_claims_to_access_tokens(tmp_path) -> None:
    app = build(tmp_path, claims='tests.federation.claims_hooks.tenant')
    async with TestClient(app):
        claims = jwt.decode(await _token(app), options={'verify_signature': False})
    assert (claims['tenant'], claims['roles']) == ('tenant-of-ann', ['reader'])


async def test_the_claims_hook_does_not_touch_refresh_tokens(tmp_path) -> None:
    app = build(tmp_path, claims='tests.federation.claims_hooks.tenant')
    async with TestClient(app):
        user = await app.config.user_model.insert_one(username='ann')
        refresh = (await user.login())['refresh_token']
    assert 'tenant' not in jwt.decode(refresh, options={'verify_signature': False})


async def test_a_hook_returning_a_registered_claim_fails_the_login_naming_hook_and_claim(tmp_path) -> None:
    path = 'tests.federation.claims_hooks.sets_the_subject'
    app = build(tmp_path, claims=path)
    async with TestClient(app):
        user = await app.config.user_model.insert_one(username='ann')
        with pytest.raises(ConfigError) as raised:
            await user.login()
    message = str(raised.value)
    assert "JWTConfig['claims']" in message and path in message and "'sub'" in message


async def test_a_login_route_whose_hook_returns_a_registered_claim_answers_a_plain_500(tmp_path) -> None:
    app = build(tmp_path, claims='tests.federation.claims_hooks.sets_the_subject')
    async with TestClient(app) as client:
        await app.config.user_model.insert_one(username='ann')
        response = await client.post('/login')
    assert response.status_code == 500
    assert response.json() == {'detail': 'Internal server error'}


def test_a_claims_hook_that_does_not_import_is_a_config_error(tmp_path) -> None:
    with pytest.raises(ConfigError, match=r"JWTConfig\['claims'\]"):
        build(tmp_path, claims='tests.federation.claims_hooks.nowhere')


def test_a_claims_hook_that_is_not_async_is_a_config_error(tmp_path) -> None:
    with pytest.raises(ConfigError, match='async'):
        build(tmp_path, claims='tests.federation.claims_hooks.not_async')


async def test_openid_configuration_describes_an_asymmetric_app(tmp_path) -> None:
    app = build(tmp_path, key=RSA_PEM, algorithm='RS256', kid='k1', issuer=ISSUER, audience='orders-api')
    async with TestClient(app) as client:
        response = await client.get('/.well-known/openid-configuration')
    document = response.json()
    assert response.status_code == 200
    assert document['issuer'] == ISSUER
    assert document['jwks_uri'] == f'{ISSUER}/.well-known/jwks.json'
    assert document['id_token_signing_alg_values_supported'] == ['RS256']


async def test_the_jwks_uri_of_openid_configuration_serves_the_signing_key(tmp_path) -> None:
    app = build(tmp_path, key=RSA_PEM, algorithm='RS256', kid='k1', issuer=ISSUER)
    async with TestClient(app) as client:
        document = (await client.get('/.well-known/openid-configuration')).json()
        keys = (await client.get(document['jwks_uri'].removeprefix(ISSUER))).json()['keys']
    assert [key['kid'] for key in keys] == ['k1']


async def test_there_is_no_openid_configuration_with_hs256(tmp_path) -> None:
    app = build(tmp_path, issuer=ISSUER)
    async with TestClient(app) as client:
        assert (await client.get('/.well-known/openid-configuration')).status_code == 404


async def test_there_is_no_openid_configuration_without_an_issuer(tmp_path) -> None:
    app = build(tmp_path, key=RSA_PEM, algorithm='RS256', kid='k1')
    async with TestClient(app) as client:
        assert (await client.get('/.well-known/openid-configuration')).status_code == 404
