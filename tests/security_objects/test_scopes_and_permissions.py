"""JWT scope checks and permissions run after authentication: 401 first, then 403.

Tokens with a ``scope`` claim are signed here with the server's key (the
token service issues none yet; see the report for the accessor requested).
"""

from __future__ import annotations

import uuid

import pytest

from tests.forge import claims, signed
from tests.security_objects.conftest import SECRET_KEY
from tests.security_objects.testapp import SECRET

pytestmark = pytest.mark.server


@pytest.fixture
def user_id(client) -> str:
    return client.post('/setup/user', json={'username': f'scoped_{uuid.uuid4().hex[:10]}'}).json()['id']


def bearer(user_id: str, **extra) -> dict[str, str]:
    return {'Authorization': f'Bearer {signed(claims(user_id, **extra), SECRET_KEY)}'}


def test_scoped_route_without_a_token_is_401(client):
    assert client.get('/scoped').status_code == 401


def test_token_without_the_scope_is_403_insufficient_scope(client, user_id):
    response = client.get('/scoped', headers=bearer(user_id))
    assert response.status_code == 403
    assert response.headers['www-authenticate'] == 'Bearer error="insufficient_scope", scope="read:items"'
    assert response.json()['detail'].startswith('Insufficient scope')


def test_token_with_the_scope_is_allowed(client, user_id):
    assert client.get('/scoped', headers=bearer(user_id, scope='profile read:items')).status_code == 200


def test_scp_list_claim_is_read_too(client, user_id):
    assert client.get('/scoped', headers=bearer(user_id, scp=['read:items'])).status_code == 200


def test_every_required_scope_must_be_granted(client, user_id):
    response = client.get('/scoped-two', headers=bearer(user_id, scope='read:items'))
    assert response.status_code == 403
    assert 'scope="read:items write:items"' in response.headers['www-authenticate']
    assert client.get('/scoped-two', headers=bearer(user_id, scope='write:items read:items')).status_code == 200


def test_a_scope_that_only_shares_a_prefix_is_not_granted(client, user_id):
    assert client.get('/scoped', headers=bearer(user_id, scope='read:items:extra read')).status_code == 403


def test_permission_refusal_after_authentication_is_403(client):
    assert client.get('/permission').status_code == 401
    assert client.get('/permission', headers={'X-API-Key': SECRET}).status_code == 403
