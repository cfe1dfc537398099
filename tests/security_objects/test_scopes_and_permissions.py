"""JWT scope checks and permissions run after authentication: 401 first, then 403.

Tokens with a ``scope`` claim are signed here with the server's key (the
token service issues none yet; see the report for the accessor requested).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import jwt
import pytest

from tests.forge import claims, signed
from tests.security_objects.conftest import SECRET_KEY
from tests.security_objects.testapp import SECRET

pytestmark = pytest.mark.server


@dataclass(frozen=True)
class Account:
    id: str
    #: The user's credential version, which every token the framework accepts carries (``cv``).
    cv: str


@pytest.fixture
def account(client) -> Account:
    made = client.post('/setup/user', json={'username': f'scoped_{uuid.uuid4().hex[:10]}'}).json()
    issued = jwt.decode(made['access_token'], options={'verify_signature': False})
    return Account(made['id'], issued['cv'])


def bearer(account: Account, **extra) -> dict[str, str]:
    return {'Authorization': f'Bearer {signed(claims(account.id, cv=account.cv, **extra), SECRET_KEY)}'}


def test_scoped_route_without_a_token_is_401(client):
    assert client.get('/scoped').status_code == 401


def test_token_without_the_scope_is_403_insufficient_scope(client, account):
    response = client.get('/scoped', headers=bearer(account))
    assert response.status_code == 403
    assert response.headers['www-authenticate'] == 'Bearer error="insufficient_scope", scope="read:items"'
    assert response.json()['detail'].startswith('Insufficient scope')


def test_token_with_the_scope_is_allowed(client, account):
    assert client.get('/scoped', headers=bearer(account, scope='profile read:items')).status_code == 200


def test_scp_list_claim_is_read_too(client, account):
    assert client.get('/scoped', headers=bearer(account, scp=['read:items'])).status_code == 200


def test_every_required_scope_must_be_granted(client, account):
    response = client.get('/scoped-two', headers=bearer(account, scope='read:items'))
    assert response.status_code == 403
    assert 'scope="read:items write:items"' in response.headers['www-authenticate']
    assert client.get('/scoped-two', headers=bearer(account, scope='write:items read:items')).status_code == 200


def test_a_scope_that_only_shares_a_prefix_is_not_granted(client, account):
    assert client.get('/scoped', headers=bearer(account, scope='read:items:extra read')).status_code == 403


def test_permission_refusal_after_authentication_is_403(client):
    assert client.get('/permission').status_code == 401
    assert client.get('/permission', headers={'X-API-Key': SECRET}).status_code == 403
