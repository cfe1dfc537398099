"""OIDCAuthentication: a provider's access tokens, verified against its published keys, over real HTTP.

The provider is the stand-in of tests/federation/provider.py, on a real uvicorn; the app is called
in-process. Time that the key cache measures moves by hand (`ManualClock`), so nothing sleeps.
"""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
import sys
from typing import Any

import jwt
import pytest

from panther_like import API, Panther, Request
from panther_like.db.identities import link_identity
from panther_like.exceptions import ConfigError
from panther_like.login_state.oidc import KEYS_MAX_AGE, REFETCH_INTERVAL
from panther_like.security import OIDCBearer
from panther_like.testing import TestClient
from tests.clock import ManualClock
from tests.federation.provider import Provider, Tenant, public_pem
from tests.servers import free_port
from tests.settings import settings_module


@API(auth=True, methods=['GET'])
async def me(request: Request) -> dict[str, Any]:
    return {'username': request.user.username}


@API(auth=OIDCBearer(), methods=['GET'])
async def per_route(request: Request) -> dict[str, Any]:
    return {'username': request.user.username}


def build(
    tmp_path,
    issuers: list[dict[str, Any]],
    *,
    provision: bool = True,
    database: dict[str, Any] | None = None,
    clock: ManualClock | None = None,
    **settings: Any,
) -> Panther:
    configs = settings_module(
        AUTHENTICATION='panther_like.authentications.OIDCAuthentication',
        OIDC_RESOURCE={'issuers': issuers, 'provision': provision},
        DATABASE=database or {'path': str(tmp_path / 'oidc.sqlite3')},
        **settings,
    )
    return Panther(configs, urls={'me': me}, clock=clock or ManualClock())


def trusting(tmp_path, tenant: Tenant, **options: Any) -> Panther:
    return build(tmp_path, [{'issuer': tenant.issuer, 'audience': 'orders-api'}], **options)


async def call(client: TestClient, token: str, path: str = '/me') -> Any:
    return await client.get(path, headers={'Authorization': f'Bearer {token}'})


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b'=').decode()


async def test_a_provider_token_authenticates_its_local_user(tmp_path, provider: Provider, database_setting) -> None:
    tenant = provider.tenant()
    async with TestClient(trusting(tmp_path, tenant, database=database_setting)) as client:
        response = await call(client, tenant.token('ann'))
    assert response.status_code == 200 and response.json() == {'username': 'ann'}


async def test_an_elliptic_curve_key_without_alg_verifies_by_its_curve(tmp_path, provider: Provider) -> None:
    tenant = provider.tenant(algorithm='ES256')
    tenant.publish_alg = False
    async with TestClient(trusting(tmp_path, tenant)) as client:
        assert (await call(client, tenant.token('ann'))).status_code == 200


async def test_a_token_for_another_audience_is_refused(tmp_path, provider: Provider) -> None:
    tenant = provider.tenant()
    async with TestClient(trusting(tmp_path, tenant)) as client:
        response = await call(client, tenant.token(aud='billing-api'))
    assert response.status_code == 401 and 'audience' in response.headers['www-authenticate']


async def test_a_token_without_an_audience_is_refused(tmp_path, provider: Provider) -> None:
    tenant = provider.tenant()
    async with TestClient(trusting(tmp_path, tenant)) as client:
        assert (await call(client, tenant.token(aud=None))).status_code == 401


async def test_a_token_of_an_issuer_not_listed_is_refused(tmp_path, provider: Provider) -> None:
    trusted, other = provider.tenant(), provider.tenant()
    async with TestClient(trusting(tmp_path, trusted)) as client:
        response = await call(client, other.token())
    assert response.status_code == 401 and response.json() == {'detail': 'Token issuer is not accepted'}
    assert other.requests['jwks'] == 0


async def test_a_token_claiming_a_listed_issuer_but_signed_by_another_is_refused(tmp_path, provider: Provider) -> None:
    trusted, other = provider.tenant(), provider.tenant()
    forged = jwt.encode(
        trusted.claims(), other.signing_key(), algorithm='RS256', headers={'kid': next(iter(trusted.keys))}
    )
    async with TestClient(trusting(tmp_path, trusted)) as client:
        assert (await call(client, forged)).status_code == 401


async def test_an_expired_token_is_refused(tmp_path, provider: Provider) -> None:
    tenant = provider.tenant()
    async with TestClient(trusting(tmp_path, tenant)) as client:
        response = await call(client, tenant.token(exp=tenant.claims()['iat'] - 60))
    assert response.status_code == 401 and response.json() == {'detail': 'Token has expired'}


async def test_a_token_not_valid_before_a_future_time_is_refused(tmp_path, provider: Provider) -> None:
    tenant = provider.tenant()
    async with TestClient(trusting(tmp_path, tenant)) as client:
        response = await call(client, tenant.token(nbf=tenant.claims()['iat'] + 120))
    assert response.status_code == 401 and response.json() == {'detail': 'Token is not yet valid'}


async def test_an_unsigned_token_is_refused(tmp_path, provider: Provider) -> None:
    tenant = provider.tenant()
    kid = next(iter(tenant.keys))
    token = f'{_b64({"alg": "none", "typ": "JWT", "kid": kid})}.{_b64(tenant.claims())}.'
    async with TestClient(trusting(tmp_path, tenant)) as client:
        assert (await call(client, token)).status_code == 401


async def test_an_hs256_token_keyed_with_the_providers_public_key_is_refused(tmp_path, provider: Provider) -> None:
    tenant = provider.tenant()
    kid = next(iter(tenant.keys))
    header = {'alg': 'HS256', 'typ': 'JWT', 'kid': kid}
    signing_input = f'{_b64(header)}.{_b64(tenant.claims())}'
    import hashlib
    import hmac

    mac = hmac.new(public_pem(tenant.signing_key()).encode(), signing_input.encode(), hashlib.sha256).digest()
    token = f'{signing_input}.{base64.urlsafe_b64encode(mac).rstrip(b"=").decode()}'
    async with TestClient(trusting(tmp_path, tenant)) as client:
        response = await call(client, token)
    assert response.status_code == 401 and response.json() == {'detail': 'Token algorithm is not allowed'}


async def test_a_kid_the_provider_does_not_publish_is_refused_after_one_refetch(tmp_path, provider: Provider) -> None:
    tenant = provider.tenant()
    clock = ManualClock()
    async with TestClient(trusting(tmp_path, tenant, clock=clock)) as client:
        assert (await call(client, tenant.token())).status_code == 200
        clock.advance(REFETCH_INTERVAL + 1)
        ghost = jwt.encode(tenant.claims(), tenant.signing_key(), algorithm='RS256', headers={'kid': 'ghost'})
        response = await call(client, ghost)
    assert response.status_code == 401 and response.json() == {'detail': 'Token key id is unknown'}
    assert tenant.requests['jwks'] == 2


async def test_a_rotated_key_is_accepted_after_a_refetch(tmp_path, provider: Provider) -> None:
    tenant = provider.tenant()
    old = next(iter(tenant.keys))
    clock = ManualClock()
    async with TestClient(trusting(tmp_path, tenant, clock=clock)) as client:
        assert (await call(client, tenant.token())).status_code == 200
        new = tenant.add_key()
        tenant.drop_key(old)
        clock.advance(REFETCH_INTERVAL + 1)
        assert (await call(client, tenant.token(kid=new))).status_code == 200


async def test_a_flood_of_made_up_kids_costs_one_fetch_per_interval(tmp_path, provider: Provider) -> None:
    tenant = provider.tenant()
    clock = ManualClock()
    key = tenant.signing_key()
    async with TestClient(trusting(tmp_path, tenant, clock=clock)) as client:
        assert (await call(client, tenant.token())).status_code == 200
        clock.advance(REFETCH_INTERVAL + 1)
        made_up = [
            jwt.encode(tenant.claims(), key, algorithm='RS256', headers={'kid': secrets.token_hex(4)})
            for _ in range(50)
        ]
        responses = await asyncio.gather(*(call(client, token) for token in made_up))
        more = [jwt.encode(tenant.claims(), key, algorithm='RS256', headers={'kid': f'again-{n}'}) for n in range(20)]
        responses += [await call(client, token) for token in more]
    assert {response.status_code for response in responses} == {401}
    assert tenant.requests['jwks'] == 2  # the first fetch, and one refetch for all seventy


async def test_an_unreachable_provider_is_a_503_not_a_500(tmp_path, provider: Provider) -> None:
    tenant = provider.tenant()
    nowhere = f'http://127.0.0.1:{free_port()}/gone'
    app = build(tmp_path, [{'issuer': nowhere, 'audience': 'orders-api'}])
    token = tenant.token(iss=nowhere)
    async with TestClient(app) as client:
        response = await call(client, token)
    assert response.status_code == 503
    assert 'identity provider is unreachable' in response.json()['detail']


async def test_a_discovery_document_naming_another_issuer_is_not_trusted(tmp_path, provider: Provider) -> None:
    tenant = provider.tenant()
    tenant.discovery_issuer = 'https://evil.example.com'
    async with TestClient(trusting(tmp_path, tenant)) as client:
        assert (await call(client, tenant.token())).status_code == 503
    assert tenant.requests['jwks'] == 0


async def test_a_jwk_set_larger_than_the_cap_is_not_read(tmp_path, provider: Provider) -> None:
    tenant = provider.tenant()
    tenant.padding = 2 * 1024 * 1024
    async with TestClient(trusting(tmp_path, tenant)) as client:
        assert (await call(client, tenant.token())).status_code == 503


async def test_a_configured_jwks_url_skips_discovery(tmp_path, provider: Provider) -> None:
    tenant = provider.tenant()
    issuers = [{'issuer': tenant.issuer, 'audience': 'orders-api', 'jwks_url': f'{tenant.issuer}/jwks'}]
    async with TestClient(build(tmp_path, issuers)) as client:
        assert (await call(client, tenant.token())).status_code == 200
    assert tenant.requests['.well-known/openid-configuration'] == 0


async def test_without_provision_an_unknown_subject_is_refused(tmp_path, provider: Provider) -> None:
    tenant = provider.tenant()
    async with TestClient(trusting(tmp_path, tenant, provision=False)) as client:
        response = await call(client, tenant.token('ann'))
    assert response.status_code == 401 and response.json() == {'detail': 'No account is linked to this identity'}


async def test_without_provision_a_linked_subject_is_its_account(
    tmp_path, provider: Provider, database_setting
) -> None:
    tenant = provider.tenant()
    app = trusting(tmp_path, tenant, provision=False, database=database_setting)
    async with TestClient(app) as client:
        user = await app.config.user_model.insert_one(username='local-ann')
        await link_identity(user.id, tenant.issuer, 'subject-ann')
        response = await call(client, tenant.token('subject-ann'))
    assert response.json() == {'username': 'local-ann'}


async def test_twenty_simultaneous_first_tokens_make_one_account(
    tmp_path, provider: Provider, database_setting
) -> None:
    tenant = provider.tenant()
    app = trusting(tmp_path, tenant, database=database_setting)
    async with TestClient(app) as client:
        tokens = [tenant.token('ann', jti=str(n)) for n in range(20)]
        responses = await asyncio.gather(*(call(client, token) for token in tokens))
        assert {response.status_code for response in responses} == {200}
        assert await app.config.user_model.count() == 1


async def test_a_provisioned_username_that_is_taken_gets_a_suffix(
    tmp_path, provider: Provider, database_setting
) -> None:
    tenant = provider.tenant()
    app = trusting(tmp_path, tenant, database=database_setting)
    async with TestClient(app) as client:
        await app.config.user_model.insert_one(username='ann')
        response = await call(client, tenant.token('subject-2', preferred_username='Ann'))
    assert response.json() == {'username': 'Ann-2'}


async def test_a_deactivated_account_is_refused(tmp_path, provider: Provider) -> None:
    tenant = provider.tenant()
    app = trusting(tmp_path, tenant)
    async with TestClient(app) as client:
        assert (await call(client, tenant.token('ann'))).status_code == 200
        user = await app.config.user_model.find_by_username('ann')
        await user.update(is_active=False)
        assert (await call(client, tenant.token('ann', jti='second'))).status_code == 401


async def test_oidc_bearer_guards_one_route(tmp_path, provider: Provider) -> None:
    tenant = provider.tenant()
    configs = settings_module(
        OIDC_RESOURCE={'issuers': [{'issuer': tenant.issuer, 'audience': 'orders-api'}], 'provision': True},
        DATABASE={'path': str(tmp_path / 'route.sqlite3')},
    )
    async with TestClient(Panther(configs, urls={'per-route': per_route})) as client:
        assert (await call(client, tenant.token('ann'), '/per-route')).json() == {'username': 'ann'}
        assert (await client.get('/per-route')).status_code == 401


def test_oidc_authentication_without_oidc_resource_is_a_config_error(tmp_path) -> None:
    configs = settings_module(
        AUTHENTICATION='panther_like.authentications.OIDCAuthentication',
        DATABASE={'path': str(tmp_path / 'none.sqlite3')},
    )
    with pytest.raises(ConfigError, match='OIDC_RESOURCE'):
        Panther(configs, urls={'me': me})


def test_an_http_issuer_off_this_machine_is_refused_at_build(tmp_path) -> None:
    with pytest.raises(ConfigError, match='plain http'):
        build(tmp_path, [{'issuer': 'http://id.example.com', 'audience': 'orders-api'}])


@pytest.mark.parametrize('algorithm', ['HS256', 'none'])
def test_a_symmetric_or_no_algorithm_is_refused_at_build(tmp_path, algorithm: str) -> None:
    with pytest.raises(ConfigError, match='only asymmetric'):
        build(tmp_path, [{'issuer': 'https://id.example.com', 'audience': 'a', 'algorithms': [algorithm]}])


@pytest.mark.parametrize(
    'issuer',
    [
        {'issuer': 'https://id.example.com'},
        {'issuer': 'https://id.example.com', 'audience': ''},
        {'issuer': 'https://id.example.com', 'audience': 'a', 'secret': 'x'},
        {'issuer': 'ftp://id.example.com', 'audience': 'a'},
    ],
)
def test_a_mistaken_issuer_entry_is_refused_at_build(tmp_path, issuer: dict[str, Any]) -> None:
    with pytest.raises(ConfigError, match='OIDC_RESOURCE'):
        build(tmp_path, [issuer])


def test_without_the_oidc_extra_the_build_is_a_config_error_naming_it(tmp_path, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, 'httpx', None)
    with pytest.raises(ConfigError, match=r"pip install 'panther-like\[oidc\]'"):
        build(tmp_path, [{'issuer': 'https://id.example.com', 'audience': 'orders-api'}])


def test_oidc_bearer_on_a_route_without_oidc_resource_is_a_config_error(tmp_path) -> None:
    configs = settings_module(DATABASE={'path': str(tmp_path / 'none.sqlite3')})
    with pytest.raises(ConfigError, match='OIDC_RESOURCE'):
        Panther(configs, urls={'per-route': per_route})


async def test_known_keys_keep_working_while_the_provider_is_down(tmp_path, provider: Provider) -> None:
    tenant = provider.tenant()
    clock = ManualClock()
    async with TestClient(trusting(tmp_path, tenant, clock=clock)) as client:
        assert (await call(client, tenant.token('ann'))).status_code == 200
        tenant.failing = True
        clock.advance(KEYS_MAX_AGE + 1)
        assert (await call(client, tenant.token('ann', jti='later'))).status_code == 200
    assert tenant.requests['.well-known/openid-configuration'] == 2  # it did try again


async def test_a_provider_answering_errors_before_any_key_is_known_is_a_503(tmp_path, provider: Provider) -> None:
    tenant = provider.tenant()
    tenant.failing = True
    async with TestClient(trusting(tmp_path, tenant)) as client:
        assert (await call(client, tenant.token())).status_code == 503
