"""The attacks on a provider sign-in, each refused; with httpx, following the redirects by hand.

Where the attack is a token the app must not believe (another flow's nonce, another client's ID token),
the token is a real one from the real provider, checked by the app's own provider client.
"""

from __future__ import annotations

import asyncio
import secrets

import pytest

from panther_like.accounts.providers_client import BAD_ID_TOKEN, ProviderClient
from panther_like.exceptions import BadRequestAPIError
from panther_like.settings.providers import providers_setting
from tests.social.conftest import INTRUDER_CALLBACK
from tests.social.helpers import (
    exchange,
    fragment_of,
    local_account,
    provider_callback,
    provider_tokens,
    query_of,
    sign_in,
    start,
    unique,
)
from tests.social.provider import CLIENT_SECRET, authorize

pytestmark = pytest.mark.server


def test_a_state_that_is_not_this_browsers_is_refused(social):
    with social.cookies.client() as app:
        first = provider_callback(app, unique('alice'))
        start(app)  # a second sign-in in the same browser: its cookie now holds the second state
        answer = app.get(first)
    assert answer.status_code == 400 and 'start again' in answer.json()['detail']


def test_a_callback_from_another_browser_is_refused(social):
    with social.cookies.client() as app:
        callback = provider_callback(app, unique('alice'))
    with social.cookies.client() as other_browser:
        answer = other_browser.get(callback)
    assert answer.status_code == 400
    assert other_browser.cookies.get('access_token') is None


def test_a_callback_replayed_is_refused(social):
    with social.cookies.client() as app:
        callback = provider_callback(app, unique('alice'))
        cookie = app.cookies.get('provider_state')
        assert app.get(callback).status_code == 302
        app.cookies.set('provider_state', cookie, path='/auth/providers/')
        again = app.get(callback)
    assert again.status_code == 400


def test_a_code_already_exchanged_is_refused_in_a_new_sign_in(social):
    with social.cookies.client() as app:
        used = query_of(provider_callback(app, unique('alice')))
        assert app.get('/auth/providers/op/callback', params=used).status_code == 302
        fresh = query_of(start(app))['state']
        answer = app.get('/auth/providers/op/callback', params={**used, 'state': fresh})
    assert answer.status_code == 400 and 'refused' in answer.json()['detail']


def test_the_issuer_of_another_provider_in_the_response_is_refused(social):
    """RFC 9207: provider two's code and ``iss`` answered to provider one's sign-in (a mix-up)."""
    with social.cookies.client() as attacker:
        foreign = query_of(provider_callback(attacker, unique('mallory'), 'op2'))
    with social.cookies.client() as app:
        state = query_of(start(app, 'op'))['state']
        answer = app.get('/auth/providers/op/callback', params={**foreign, 'state': state})
    assert foreign['iss'] == social.two.issuer
    assert answer.status_code == 400 and 'another issuer' in answer.json()['detail']


def test_a_state_made_for_one_provider_is_refused_at_anothers_callback(social):
    with social.cookies.client() as attacker:
        foreign = query_of(provider_callback(attacker, unique('mallory'), 'op2'))
    with social.cookies.client() as app:
        state = query_of(start(app, 'op'))['state']
        answer = app.get('/auth/providers/op2/callback', params={**foreign, 'state': state})
    assert answer.status_code == 400 and 'start again' in answer.json()['detail']


def _client_for(issuer: str, name: str = 'op') -> ProviderClient:
    settings = providers_setting({name: {'issuer': issuer, 'client_id': 'app', 'client_secret': CLIENT_SECRET}})
    return ProviderClient(settings[name])


def test_an_id_token_from_another_sign_in_is_refused_for_its_nonce(social):
    client = _client_for(social.one.issuer)
    redirect_uri = f'{social.cookies.url}/auth/providers/op/callback'
    verifier = secrets.token_urlsafe(48)
    first_nonce = secrets.token_urlsafe(32)
    url = asyncio.run(client.authorization_url(redirect_uri, secrets.token_urlsafe(32), first_nonce, verifier))
    code = query_of(authorize(url, unique('alice'), until=redirect_uri))['code']
    with pytest.raises(BadRequestAPIError) as refused:
        asyncio.run(client.finish(redirect_uri, code, verifier, nonce=secrets.token_urlsafe(32)))
    assert refused.value.detail == BAD_ID_TOKEN


def test_an_id_token_issued_to_another_client_is_refused(social):
    tokens = provider_tokens(social.one.issuer, 'intruder', INTRUDER_CALLBACK, unique('alice'))
    client = _client_for(social.one.issuer)
    with pytest.raises(BadRequestAPIError) as refused:
        asyncio.run(client.identity_from_id_token(tokens['id_token'], tokens['nonce'], tokens['access_token']))
    assert refused.value.detail == BAD_ID_TOKEN


def test_an_unverified_address_of_an_existing_account_never_links_and_is_refused(social):
    login = unique('unverified')  # the provider does not vouch for the address
    with social.tokens.client() as app:
        owner = local_account(app, email=f'{login}@example.com', is_verified=True)
        answer = sign_in(app, login, 'op-autolink')
        listed = app.get('/auth/providers', headers={'Authorization': owner['Authorization']}).json()
    assert answer.status_code == 409 and 'already uses this e-mail address' in answer.json()['detail']
    assert listed == {'identities': []}


def test_a_verified_address_of_a_verified_account_links_when_auto_linking_is_on(social):
    login = unique('alice')
    with social.tokens.client() as app:
        owner = local_account(app, email=f'{login}@example.com', is_verified=True)
        code = fragment_of(sign_in(app, login, 'op-autolink'))['code']
        pair = exchange(app, code).json()
        me = app.get('/auth/me', headers={'Authorization': f'Bearer {pair["access_token"]}'}).json()
    assert me['id'] == owner['id']


def test_a_verified_address_of_an_unverified_account_does_not_link(social):
    login = unique('alice')
    with social.tokens.client() as app:
        local_account(app, email=f'{login}@example.com', is_verified=False)
        answer = sign_in(app, login, 'op-autolink')
    assert answer.status_code == 409


def test_without_auto_linking_a_verified_address_of_an_account_is_refused_not_duplicated(social):
    login = unique('alice')
    with social.tokens.client() as app:
        local_account(app, email=f'{login}@example.com', is_verified=True)
        answer = sign_in(app, login, 'op')
    assert answer.status_code == 409


def test_linking_an_identity_another_account_holds_is_a_409(social):
    login = unique('alice')
    with social.tokens.client() as app:
        assert sign_in(app, login).status_code == 302  # the identity now has an account of its own
        other = local_account(app)
        started = app.post('/auth/providers/op/link', headers={'Authorization': other['Authorization']})
        answer = app.get(authorize(started.json()['authorization_url'], login, until=str(app.base_url)))
    assert answer.status_code == 409 and 'already linked' in answer.json()['detail']


def test_a_provider_that_is_down_is_a_503_not_a_500(social):
    with social.cookies.client() as app:
        answer = app.get('/auth/providers/down/login')
    assert answer.status_code == 503 and 'unreachable' in answer.json()['detail']


def test_a_discovery_document_naming_another_issuer_is_not_believed(social):
    with social.cookies.client() as app:
        answer = app.get('/auth/providers/liar/login')
    assert answer.status_code == 503 and 'another issuer' in answer.json()['detail']
