"""The provider's own access tokens (JWTs for the resource, through its resourceIndicators feature) on this app.

`OIDCBearer` and `OIDCAuthentication` (``OIDC_RESOURCE``) accept them, as the local account linked to their
subject: the same account a sign-in with the provider made.
"""

from __future__ import annotations

import pytest

from tests.social.helpers import exchange, fragment_of, provider_tokens, sign_in, unique

pytestmark = pytest.mark.server


@pytest.mark.parametrize('route', ['/resource/me', '/resource/class-me'])  # OIDCBearer, OIDCAuthentication
def test_the_providers_access_token_authenticates_the_account_its_sign_in_made(social, route):
    login = unique('alice')
    with social.tokens.client() as app:
        pair = exchange(app, fragment_of(sign_in(app, login))['code']).json()
        me = app.get('/auth/me', headers={'Authorization': f'Bearer {pair["access_token"]}'}).json()
        redirect = f'{social.tokens.url}/auth/providers/op/callback'
        token = provider_tokens(social.one.issuer, 'app', redirect, login)['access_token']
        answer = app.get(route, headers={'Authorization': f'Bearer {token}'})
    assert answer.status_code == 200, answer.text
    assert answer.json()['id'] == me['id']


def test_a_provider_access_token_for_an_unknown_subject_is_a_401_without_provisioning(social):
    with social.tokens.client() as app:
        redirect = f'{social.tokens.url}/auth/providers/op/callback'
        token = provider_tokens(social.one.issuer, 'app', redirect, unique('stranger'))['access_token']
        answer = app.get('/resource/me', headers={'Authorization': f'Bearer {token}'})
    assert answer.status_code == 401


def test_the_apps_own_access_token_is_not_a_provider_token(social):
    with social.tokens.client() as app:
        pair = exchange(app, fragment_of(sign_in(app, unique('alice')))['code']).json()
        answer = app.get('/resource/me', headers={'Authorization': f'Bearer {pair["access_token"]}'})
    assert answer.status_code == 401
