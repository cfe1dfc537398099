"""The example project's per-route security, through its real uvicorn server (both stores)."""

from __future__ import annotations

import pytest

from tests.e2e.helpers import new_user

pytestmark = pytest.mark.server


def test_group_default_needs_the_configured_jwt(example_server):
    with example_server.client() as http:
        user = new_user(http, 'group')
        assert http.get('/account/profile').status_code == 401
        assert http.get('/account/profile', headers=user.bearer).json()['username'] == user.username


def test_group_route_with_auth_none_is_public(example_server):
    with example_server.client() as http:
        assert http.get('/account/help').status_code == 200


def test_api_token_works_as_bearer_and_as_api_key_header(example_server):
    with example_server.client() as http:
        user = new_user(http, 'apitoken')
        created = http.post('/account/api-tokens', headers=user.bearer, json={'name': 'ci'})
        assert created.status_code == 201
        token = created.json()['api_token']
        assert http.get('/reports', headers={'Authorization': f'Bearer {token}'}).json()['owner'] == user.username
        assert http.get('/machine/me', headers={'X-API-Key': token}).json() == {'username': user.username}
        assert http.get('/reports', headers={'X-API-Key': token}).status_code == 401  # Bearer only there


def test_unknown_api_token_is_401_with_both_challenges(example_server):
    with example_server.client() as http:
        response = http.get('/machine/me', headers={'X-API-Key': 'nope'})
        assert response.status_code == 401
        challenges = response.headers.get_list('www-authenticate')
        assert challenges[0].startswith('Bearer') and 'APIKey' in challenges
