"""Linking an identity at a provider to the account one is logged in to, listing the links, unlinking them."""

from __future__ import annotations

import pytest

from tests.passkeys_authenticator import SoftAuthenticator
from tests.social.helpers import PASSKEY_ORIGIN, fragment_of, local_account, tokens_for, unique
from tests.social.provider import authorize

pytestmark = pytest.mark.server


def _link(app, owner, login: str, provider: str = 'op'):
    started = app.post(f'/auth/providers/{provider}/link', headers={'Authorization': owner['Authorization']})
    assert started.status_code == 200, started.text
    return app.get(authorize(started.json()['authorization_url'], login, until=str(app.base_url)))


def test_a_linked_identity_signs_in_to_the_account_that_linked_it(social):
    login = unique('alice')
    with social.tokens.client() as app:
        owner = local_account(app)
        linked = _link(app, owner, login)
        assert linked.status_code == 302 and fragment_of(linked) == {'linked': 'op'}
        pair = tokens_for(app, login)
        me = app.get('/auth/me', headers={'Authorization': f'Bearer {pair["access_token"]}'}).json()
    assert me['id'] == owner['id']


def test_get_providers_lists_the_accounts_links_with_the_provider_names(social):
    login = unique('alice')
    with social.tokens.client() as app:
        owner = local_account(app)
        _link(app, owner, login)
        listed = app.get('/auth/providers', headers={'Authorization': owner['Authorization']})
    assert listed.status_code == 200
    [identity] = listed.json()['identities']
    assert identity['subject'] == login and identity['issuer'] == social.one.issuer
    assert identity['provider'] == 'op'  # the first of the entries that share this issuer
    assert identity['email'] == f'{login}@example.com' and identity['email_verified'] is True


def test_linking_needs_a_login(social):
    with social.tokens.client() as app:
        assert app.post('/auth/providers/op/link').status_code == 401


def test_an_account_with_a_password_may_unlink_its_identity(social):
    login = unique('alice')
    with social.tokens.client() as app:
        owner = local_account(app)
        _link(app, owner, login)
        bearer = {'Authorization': owner['Authorization']}
        assert app.delete('/auth/providers/op', headers=bearer).status_code == 204
        assert app.get('/auth/providers', headers=bearer).json() == {'identities': []}
        again = app.delete('/auth/providers/op', headers=bearer)
    assert again.status_code == 404


def test_unlinking_the_only_way_to_sign_in_is_refused(social):
    with social.tokens.client() as app:
        pair = tokens_for(app, unique('alice'))  # an account made by the provider: no password
        answer = app.delete('/auth/providers/op', headers={'Authorization': f'Bearer {pair["access_token"]}'})
    assert answer.status_code == 409 and 'only way to sign in' in answer.json()['detail']


def test_an_account_with_a_passkey_may_unlink_its_only_identity(social):
    with social.tokens.client() as app:
        pair = tokens_for(app, unique('alice'))  # no password, but a passkey below
        bearer = {'Authorization': f'Bearer {pair["access_token"]}'}
        options = app.post('/auth/passkeys/register/options', headers=bearer)
        assert options.status_code == 200, options.text
        credential = SoftAuthenticator(PASSKEY_ORIGIN).create(options.json())
        added = app.post('/auth/passkeys/register', json={'credential': credential, 'name': 'Key'}, headers=bearer)
        assert added.status_code == 201, added.text
        answer = app.delete('/auth/providers/op', headers=bearer)
    assert answer.status_code == 204, answer.text


def test_after_unlinking_the_identity_makes_a_new_account_of_its_own(social):
    login = unique('alice')
    with social.tokens.client() as app:
        owner = local_account(app)
        _link(app, owner, login)
        assert app.delete('/auth/providers/op', headers={'Authorization': owner['Authorization']}).status_code == 204
        pair = tokens_for(app, login)
        me = app.get('/auth/me', headers={'Authorization': f'Bearer {pair["access_token"]}'}).json()
    assert me['id'] != owner['id']


@pytest.mark.parametrize(
    'query',
    [
        {},
        {'state': 'x'},
        {'state': 'x' * 5000, 'code': 'y'},
        {'error': 'access_denied', 'state': 'x'},
        {'code': '\u00e9\u0000', 'state': '\u00e9'},
        {'iss': 'https://evil.example.com', 'code': 'c', 'state': 's'},
    ],
)
def test_bad_callbacks_are_refused_with_a_400_never_a_500(social, query):
    with social.cookies.client() as app:
        answer = app.get('/auth/providers/op/callback', params=query)
    assert answer.status_code == 400, answer.text


@pytest.mark.parametrize(
    'body',
    [
        {},
        {'code': ''},
        {'code': 'x' * 500, 'code_verifier': 'v' * 43},
        {'code': 5, 'code_verifier': 'v' * 43},
        {'code': 'unknown', 'code_verifier': 'v' * 43},
        {'code': 'unknown', 'code_verifier': 'short'},
    ],
)
def test_bad_exchange_codes_are_refused_never_a_500(social, body):
    with social.tokens.client() as app:
        answer = app.post('/auth/providers/exchange', json=body)
    assert answer.status_code in (401, 422), answer.text


def test_a_denied_consent_at_the_provider_is_a_400(social):
    with social.cookies.client() as app:
        login = app.get('/auth/providers/op/login')
        state = dict(login.next_request.url.params)['state'] if login.next_request else ''
        answer = app.get('/auth/providers/op/callback', params={'error': 'access_denied', 'state': state})
    assert answer.status_code == 400
