"""Login, refresh (rotation, reuse detection) and logout, on each store that can hold revocations.

Every test runs three times: revocations in the embedded store, in MongoDB
(a real MongoDB-wire server), and in Redis (a real redis-server).
"""

from __future__ import annotations

from datetime import timedelta

import jwt
import pytest

from panther_like import Panther
from panther_like.auth.authentication_classes import JWTAuthentication
from panther_like.exceptions import AuthenticationAPIError
from panther_like.testing import TestClient
from tests.servers import fresh_database_url
from tests.settings import settings_module

KEY = 's' * 32 + '0123456789abcdefghijklmnopqrstuv'


@pytest.fixture(params=['embedded', 'mongodb', 'redis'])
async def app(request, tmp_path):
    settings = {'SECRET_KEY': KEY, 'JWTConfig': {'life_time': timedelta(minutes=5)}}
    if request.param == 'embedded':
        settings['DATABASE'] = {'path': str(tmp_path / 'tokens.sqlite3')}
    elif request.param == 'mongodb':
        settings['DATABASE'] = {'url': fresh_database_url(request.getfixturevalue('mongodb_url'))}
    else:
        settings['DATABASE'] = {'path': str(tmp_path / 'tokens.sqlite3')}
        settings['REDIS'] = {'url': request.getfixturevalue('redis_url')}
    app = Panther(settings_module(**settings), urls={})
    async with TestClient(app):
        yield app


@pytest.fixture
async def user(app):
    return await app.config.user_model.insert_one(username='tok', password='pw-123456')


async def authenticate(app, token):
    return await app.tokens.authenticate(token)


async def test_login_returns_an_access_and_a_refresh_token(user):
    pair = await user.login()
    assert set(pair) == {'access_token', 'refresh_token'}


async def test_tokens_carry_the_documented_claims(app, user):
    pair = await user.login()
    access = jwt.decode(pair['access_token'], KEY, algorithms=['HS256'])
    refresh = jwt.decode(pair['refresh_token'], KEY, algorithms=['HS256'])
    assert access['user_id'] == user.id and access['token_type'] == 'access'
    assert refresh['token_type'] == 'refresh'
    assert access['exp'] - access['iat'] == 300
    assert refresh['exp'] - refresh['iat'] == 600  # refresh_life_time defaults to 2 x life_time
    assert access['jti'] != refresh['jti']


async def test_login_records_last_login(app, user):
    await user.login()
    stored = await app.config.user_model.find_one(id=user.id)
    assert stored.last_login is not None


async def test_an_access_token_authenticates_its_user(app, user):
    pair = await user.login()
    assert (await authenticate(app, pair['access_token'])).id == user.id


async def test_refresh_returns_a_new_working_pair(app, user):
    pair = await user.login()
    new = await JWTAuthentication.refresh(pair['refresh_token'])
    assert new['access_token'] != pair['access_token']
    assert (await authenticate(app, new['access_token'])).id == user.id


async def test_a_refresh_token_is_good_once(user):
    pair = await user.login()
    successor = await JWTAuthentication.refresh(pair['refresh_token'])
    await JWTAuthentication.refresh(successor['refresh_token'])
    with pytest.raises(AuthenticationAPIError, match='already used'):
        await JWTAuthentication.refresh(pair['refresh_token'])


async def test_a_refresh_token_presented_again_before_its_successor_is_used_answers_the_same_pair(user):
    pair = await user.login()
    first = await JWTAuthentication.refresh(pair['refresh_token'])
    assert await JWTAuthentication.refresh(pair['refresh_token']) == first


async def test_reusing_a_spent_refresh_token_revokes_the_tokens_descended_from_that_login(app, user):
    pair = await user.login()
    child = await JWTAuthentication.refresh(pair['refresh_token'])
    descendant = await JWTAuthentication.refresh(child['refresh_token'])
    with pytest.raises(AuthenticationAPIError):
        await JWTAuthentication.refresh(pair['refresh_token'])
    with pytest.raises(AuthenticationAPIError, match='revoked'):
        await authenticate(app, descendant['access_token'])
    with pytest.raises(AuthenticationAPIError, match='revoked'):
        await JWTAuthentication.refresh(descendant['refresh_token'])


async def test_reuse_detection_leaves_other_logins_alone(app, user):
    stolen = await user.login()
    other = await user.login()
    successor = await JWTAuthentication.refresh(stolen['refresh_token'])
    await JWTAuthentication.refresh(successor['refresh_token'])
    with pytest.raises(AuthenticationAPIError):
        await JWTAuthentication.refresh(stolen['refresh_token'])
    assert (await authenticate(app, other['access_token'])).id == user.id


async def test_an_access_token_cannot_refresh(user):
    pair = await user.login()
    with pytest.raises(AuthenticationAPIError, match='not a refresh token'):
        await JWTAuthentication.refresh(pair['access_token'])


async def test_an_expired_refresh_token_cannot_refresh(app, user):
    import time

    now = int(time.time())
    token = jwt.encode(
        {'user_id': user.id, 'token_type': 'refresh', 'iat': now - 100, 'exp': now - 10, 'jti': 'j', 'sid': 's'},
        KEY,
        algorithm='HS256',
    )
    with pytest.raises(AuthenticationAPIError, match='expired'):
        await JWTAuthentication.refresh(token)


async def test_refresh_for_a_deleted_user_is_refused(user):
    pair = await user.login()
    await user.delete()
    with pytest.raises(AuthenticationAPIError, match='User not found'):
        await JWTAuthentication.refresh(pair['refresh_token'])


async def test_logout_revokes_the_access_token_of_the_request(app, user):
    pair = await user.login()
    authenticated = await authenticate(app, pair['access_token'])
    await authenticated.logout()
    with pytest.raises(AuthenticationAPIError, match='revoked'):
        await authenticate(app, pair['access_token'])


async def test_logout_revokes_the_refresh_token_issued_with_it(app, user):
    pair = await user.login()
    await (await authenticate(app, pair['access_token'])).logout()
    with pytest.raises(AuthenticationAPIError, match='revoked'):
        await JWTAuthentication.refresh(pair['refresh_token'])


async def test_logout_leaves_other_sessions_of_the_same_user_alone(app, user):
    first, second = await user.login(), await user.login()
    await (await authenticate(app, first['access_token'])).logout()
    assert (await authenticate(app, second['access_token'])).id == user.id


async def test_logout_of_a_user_not_authenticated_by_a_jwt_is_an_error(user):
    with pytest.raises(Exception, match='authenticated by a JWT'):
        await user.logout()


async def test_a_second_app_on_the_same_store_sees_the_revocation(app, user, tmp_path):
    """What a second worker process sees: a fresh app object with the same settings."""
    pair = await user.login()
    await (await authenticate(app, pair['access_token'])).logout()
    twin = Panther(
        settings_module(
            SECRET_KEY=KEY, DATABASE=dict(app.config.database), REDIS={'url': app.config.redis and app.config.redis.url}
        ),
        urls={},
    )
    async with TestClient(twin):
        with pytest.raises(AuthenticationAPIError, match='revoked'):
            await twin.tokens.authenticate(pair['access_token'])


async def test_scopes_given_at_login_are_in_both_tokens_and_survive_refresh(user):
    pair = await user.login(scopes=['read:items', 'write:items'])
    for token in pair.values():
        assert jwt.decode(token, KEY, algorithms=['HS256'])['scope'] == 'read:items write:items'
    refreshed = await JWTAuthentication.refresh(pair['refresh_token'])
    assert jwt.decode(refreshed['access_token'], KEY, algorithms=['HS256'])['scope'] == 'read:items write:items'


async def test_a_login_without_scopes_has_no_scope_claim(user):
    pair = await user.login()
    assert 'scope' not in jwt.decode(pair['access_token'], KEY, algorithms=['HS256'])


async def test_a_scope_with_a_space_is_refused(user):
    with pytest.raises(ValueError, match='not a valid scope'):
        await user.login(scopes=['read items'])
