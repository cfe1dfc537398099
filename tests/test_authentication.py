"""HTTP routes with auth=True: every way in is a 401 with a reason, except a valid access token."""

from __future__ import annotations

import pytest

from panther_like import API, Panther, Request
from panther_like.auth.authentication_classes import BaseAuthentication
from panther_like.exceptions import AuthenticationAPIError
from panther_like.testing import TestClient
from tests import forge
from tests.settings import settings_module

KEY = 'k' * 32 + '0123456789abcdefghijklmnopqrstuv'
handled: list[str] = []


@API(auth=True, methods=['GET'])
async def private(request: Request):
    handled.append(request.user.username)
    return {'username': request.user.username, 'same': request.auth is request.user}


@API(methods=['GET'])
async def public(request: Request):
    return {'user': request.user}


URLS = {'private': private, 'public': public}


def make_app(tmp_path, authentication='panther_like.authentications.JWTAuthentication', **settings) -> Panther:
    module = settings_module(
        SECRET_KEY=KEY,
        AUTHENTICATION=authentication,
        DATABASE={'path': str(tmp_path / 'auth.sqlite3')},
        **settings,
    )
    return Panther(module, urls=URLS)


@pytest.fixture
async def app(tmp_path):
    return make_app(tmp_path)


@pytest.fixture
async def client(app):
    async with TestClient(app) as client:
        handled.clear()
        yield client


@pytest.fixture
async def user(client, app):
    return await app.config.user_model.insert_one(username='ann', password='secret-pw')


@pytest.fixture
async def tokens(user):
    return await user.login()


def assert_refused(response, reason_part: str = '', challenge: bool = True) -> None:
    assert response.status_code == 401
    assert response.headers['content-type'] == 'application/json'
    body = response.json()
    assert list(body) == ['detail']
    assert reason_part.lower() in body['detail'].lower()
    if challenge:
        assert response.headers['www-authenticate'].startswith('Bearer realm=')
    assert handled == []


async def test_a_valid_access_token_reaches_the_handler_with_the_user(client, tokens):
    response = await client.get('/private', headers={'Authorization': f'Bearer {tokens["access_token"]}'})
    assert response.status_code == 200
    assert response.json() == {'username': 'ann', 'same': True}


async def test_the_bearer_scheme_is_case_insensitive(client, tokens):
    response = await client.get('/private', headers={'Authorization': f'bEaReR {tokens["access_token"]}'})
    assert response.status_code == 200


async def test_a_public_route_runs_with_no_user(client):
    response = await client.get('/public')
    assert response.json() == {'user': None}


async def test_no_authorization_header_is_401_with_a_challenge_without_error_code(client):
    response = await client.get('/private')
    assert_refused(response, 'missing')
    assert response.headers['www-authenticate'] == 'Bearer realm="api"'


@pytest.mark.parametrize('value', ['Bearer', 'Bearer ', 'Bearer a b', 'Basic abc', 'Token abc', 'abc'])
async def test_a_malformed_authorization_header_is_401(client, value):
    assert_refused(await client.get('/private', headers={'Authorization': value}))


async def test_two_authorization_headers_are_refused(client, tokens):
    bearer = f'Bearer {tokens["access_token"]}'.encode()
    response = await client.get('/private', headers=[(b'authorization', bearer), (b'authorization', bearer)])
    assert_refused(response, 'exactly one')


async def test_non_latin1_bytes_in_the_token_are_401(client):
    response = await client.get('/private', headers=[(b'authorization', b'Bearer \xe9\xff\xfe.abc.def')])
    assert_refused(response, 'malformed')


async def test_a_token_with_too_few_segments_is_401(client):
    assert_refused(await client.get('/private', headers={'Authorization': 'Bearer abc.def'}), 'malformed')


async def test_an_invalid_token_carries_an_invalid_token_error_code(client):
    response = await client.get('/private', headers={'Authorization': 'Bearer abc.def'})
    assert 'error="invalid_token"' in response.headers['www-authenticate']


async def test_an_expired_token_is_401(client, user):
    token = forge.signed(forge.claims(user.id, exp=1_000_000), KEY)
    assert_refused(await client.get('/private', headers={'Authorization': f'Bearer {token}'}), 'expired')


async def test_a_token_not_yet_valid_is_401(client, user):
    token = forge.signed(forge.claims(user.id, nbf=2_000_000_000), KEY)
    assert_refused(await client.get('/private', headers={'Authorization': f'Bearer {token}'}), 'not yet valid')


async def test_a_token_signed_with_another_key_is_401(client, user):
    token = forge.signed(forge.claims(user.id), 'x' * 48)
    assert_refused(await client.get('/private', headers={'Authorization': f'Bearer {token}'}), 'signature')


async def test_an_alg_none_token_is_401(client, user):
    token = forge.unsigned(forge.claims(user.id))
    assert_refused(await client.get('/private', headers={'Authorization': f'Bearer {token}'}))


@pytest.mark.parametrize('algorithm', ['HS384', 'HS512'])
async def test_another_hmac_algorithm_than_configured_is_401(client, user, algorithm):
    token = forge.signed(forge.claims(user.id), KEY, algorithm)
    assert_refused(await client.get('/private', headers={'Authorization': f'Bearer {token}'}), 'algorithm')


async def test_a_tampered_payload_is_401(client, tokens):
    token = forge.tampered(tokens['access_token'], user_id='000000000000000000000000')
    assert_refused(await client.get('/private', headers={'Authorization': f'Bearer {token}'}), 'signature')


async def test_a_refresh_token_does_not_authenticate(client, tokens):
    response = await client.get('/private', headers={'Authorization': f'Bearer {tokens["refresh_token"]}'})
    assert_refused(response, 'not an access token')


@pytest.mark.parametrize('claim', ['user_id', 'token_type', 'exp', 'iat', 'jti', 'sid'])
async def test_a_token_missing_a_required_claim_is_401(client, user, claim):
    payload = forge.claims(user.id)
    del payload[claim]
    token = forge.signed(payload, KEY)
    assert_refused(await client.get('/private', headers={'Authorization': f'Bearer {token}'}), claim)


async def test_a_non_string_user_id_is_401(client):
    token = forge.signed(forge.claims(12345), KEY)
    assert_refused(await client.get('/private', headers={'Authorization': f'Bearer {token}'}), 'user_id')


async def test_a_token_for_an_unknown_user_is_401(client, user):
    token = forge.signed(forge.claims('0' * 24), KEY)
    assert_refused(await client.get('/private', headers={'Authorization': f'Bearer {token}'}), 'user not found')


async def test_a_deleted_user_is_no_longer_authenticated(client, user, tokens):
    await user.delete()
    response = await client.get('/private', headers={'Authorization': f'Bearer {tokens["access_token"]}'})
    assert_refused(response, 'user not found')


async def test_the_401_body_never_echoes_the_token(client, tokens):
    token = forge.tampered(tokens['access_token'], user_id='x')
    response = await client.get('/private', headers={'Authorization': f'Bearer {token}'})
    assert token not in response.text
    assert token not in response.headers['www-authenticate']


async def test_query_param_authentication_reads_authorization_from_the_query(tmp_path):
    app = make_app(tmp_path, 'panther_like.authentications.QueryParamJWTAuthentication')
    async with TestClient(app) as client:
        user = await app.config.user_model.insert_one(username='qp')
        pair = await user.login()
        assert (await client.get('/private', params={'authorization': pair['access_token']})).status_code == 200
        handled.clear()
        assert_refused(await client.get('/private'), 'missing')
        assert_refused(await client.get('/private', params={'authorization': pair['refresh_token']}))


async def test_cookie_authentication_reads_the_access_token_cookie(tmp_path):
    app = make_app(tmp_path, 'panther_like.authentications.CookieJWTAuthentication')
    async with TestClient(app) as client:
        user = await app.config.user_model.insert_one(username='ck')
        pair = await user.login()
        cookie = {'Cookie': f'junk; access_token={pair["access_token"]}; other=1'}
        assert (await client.get('/private', headers=cookie)).status_code == 200
        handled.clear()
        assert_refused(await client.get('/private'), 'missing', challenge=False)


async def test_a_refresh_token_cookie_alone_is_401_not_500(tmp_path):
    app = make_app(tmp_path, 'panther_like.authentications.CookieJWTAuthentication')
    async with TestClient(app) as client:
        user = await app.config.user_model.insert_one(username='ck2')
        pair = await user.login()
        response = await client.get('/private', headers={'Cookie': f'refresh_token={pair["refresh_token"]}'})
        assert_refused(response, 'access_token', challenge=False)


class ClassMethodAuthentication(BaseAuthentication):
    @classmethod
    async def authentication(cls, request):
        if request.headers.get('x-user') == 'ann':
            from panther_like.db.models import BaseUser

            return await BaseUser.find_one(username='ann')
        raise AuthenticationAPIError('No X-User header')


class InstanceMethodAuthentication(BaseAuthentication):
    def __init__(self):
        self.expected = 'ann'

    async def authentication(self, request):
        from panther_like.db.models import BaseUser

        if request.headers.get('x-user') == self.expected:
            return await BaseUser.find_one(username='ann')
        return None


class SyncAuthentication(BaseAuthentication):
    @classmethod
    def authentication(cls, request):
        return None


@pytest.mark.parametrize('authentication', [ClassMethodAuthentication, InstanceMethodAuthentication])
async def test_a_custom_class_authenticates_by_its_own_rule(tmp_path, authentication):
    app = make_app(tmp_path, f'{__name__}.{authentication.__name__}')
    async with TestClient(app) as client:
        await app.config.user_model.insert_one(username='ann')
        handled.clear()
        assert (await client.get('/private', headers={'X-User': 'ann'})).status_code == 200
        handled.clear()
        refused = await client.get('/private', headers={'X-User': 'bob'})
        assert refused.status_code == 401
        assert 'detail' in refused.json()
        assert handled == []


async def test_a_custom_class_error_reason_reaches_the_client(tmp_path):
    app = make_app(tmp_path, f'{__name__}.ClassMethodAuthentication')
    async with TestClient(app) as client:
        response = await client.get('/private')
        assert response.json() == {'detail': 'No X-User header'}


async def test_a_custom_class_returning_none_means_401(tmp_path):
    app = make_app(tmp_path, f'{__name__}.SyncAuthentication')
    async with TestClient(app) as client:
        handled.clear()
        response = await client.get('/private')
        assert response.status_code == 401
        assert handled == []


async def test_auth_given_a_class_on_a_route_needs_no_global_authentication(tmp_path):
    """Panther bug 6: a route-level JWT class without AUTHENTICATION gave a 500 on a bad token."""
    route = API(auth='panther_like.authentications.JWTAuthentication', methods=['GET'])(private.function)
    app = Panther(
        settings_module(SECRET_KEY=KEY, DATABASE={'path': str(tmp_path / 'x.sqlite3')}), urls={'private': route}
    )
    async with TestClient(app) as client:
        response = await client.get('/private', headers={'Authorization': 'Bearer a.b.c'})
        assert response.status_code == 401


def audit_lines(caplog) -> list[dict]:
    import orjson

    return [orjson.loads(r.getMessage()) for r in caplog.records if r.name == 'panther_like.audit']


async def test_a_refusal_by_a_custom_class_writes_one_audit_line(tmp_path, caplog):
    import logging

    app = make_app(tmp_path, f'{__name__}.ClassMethodAuthentication')
    async with TestClient(app) as client:
        with caplog.at_level(logging.INFO, logger='panther_like.audit'):
            await client.get('/private')
    [line] = audit_lines(caplog)
    assert (line['event'], line['reason'], line['scheme']) == (
        'auth.failure',
        'No X-User header',
        'ClassMethodAuthentication',
    )


async def test_a_refused_jwt_writes_one_audit_line_without_the_token(client, user, caplog):
    import logging

    token = forge.signed(forge.claims(user.id, exp=1_000_000), KEY)
    with caplog.at_level(logging.INFO, logger='panther_like.audit'):
        await client.get('/private', headers={'Authorization': f'Bearer {token}'})
    [line] = audit_lines(caplog)
    assert (line['scheme'], line['reason']) == ('JWTAuthentication', 'Token has expired')
    assert token not in caplog.text


async def test_a_refused_auth_list_writes_one_audit_line_and_a_later_success_writes_none(tmp_path, caplog):
    import logging

    def nobody(request):
        return None

    def header_user(request):
        return request.headers.get('x-user')

    @API(auth=[nobody, header_user], methods=['GET'])
    async def listed(request: Request):
        return {'principal': request.auth}

    app = Panther(
        settings_module(SECRET_KEY=KEY, DATABASE={'path': str(tmp_path / 'l.sqlite3')}), urls={'listed': listed}
    )
    async with TestClient(app) as client:
        with caplog.at_level(logging.INFO, logger='panther_like.audit'):
            assert (await client.get('/listed')).status_code == 401
            assert (await client.get('/listed', headers={'X-User': 'ann'})).json() == {'principal': 'ann'}
    [line] = audit_lines(caplog)
    assert (line['event'], line['scheme']) == ('auth.failure', 'nobody | header_user')
