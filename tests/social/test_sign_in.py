"""Signing in with a real OpenID provider, followed by hand with httpx (the browser test is in tests/browser).

Each test signs in as a provider account nobody used before (`unique`), filling the provider's pages as a
person would (`authorize`).
"""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest

from tests.social.helpers import exchange, fragment_of, local_account, sign_in, start, tokens_for, unique
from tests.social.provider import authorize

pytestmark = pytest.mark.server


def test_a_provider_sign_in_in_cookie_mode_sets_the_session_cookies_and_returns_to_the_site(social):
    login = unique('alice')
    with social.cookies.client() as app:
        answer = sign_in(app, login)
        assert answer.status_code == 302, answer.text
        assert answer.headers['location'] == '/auth/me'
        me = app.get('/auth/me')
    assert me.status_code == 200, me.text
    assert me.json()['username'] == login


def test_the_login_redirect_carries_state_nonce_and_a_pkce_s256_challenge(social):
    with social.cookies.client() as app:
        query = parse_qs(urlsplit(start(app)).query)
    assert query['code_challenge_method'] == ['S256'] and len(query['code_challenge'][0]) == 43
    assert len(query['state'][0]) >= 43 and len(query['nonce'][0]) >= 43
    assert query['client_id'] == ['app'] and 'openid' in query['scope'][0].split()


def test_in_token_mode_the_page_exchanges_a_one_time_code_from_the_fragment_for_the_pair(social):
    with social.tokens.client() as app:
        answer = sign_in(app, unique('alice'))
        assert answer.status_code == 302, answer.text
        location = answer.headers['location']
        assert urlsplit(location).query == '' and 'access_token' not in location
        code = fragment_of(answer)['code']
        pair = exchange(app, code)
        assert pair.status_code == 200, pair.text
        bearer = {'Authorization': f'Bearer {pair.json()["access_token"]}'}
        assert app.get('/auth/me', headers=bearer).status_code == 200


def test_an_exchange_code_works_once(social):
    with social.tokens.client() as app:
        code = fragment_of(sign_in(app, unique('alice')))['code']
        assert exchange(app, code).status_code == 200
        again = exchange(app, code)
    assert again.status_code == 401


def test_a_first_sign_in_creates_an_account_with_the_verified_address_and_no_password(social):
    login = unique('alice')
    with social.tokens.client() as app:
        bearer = {'Authorization': f'Bearer {tokens_for(app, login)["access_token"]}'}
        me = app.get('/auth/me', headers=bearer).json()
        password_login = app.post('/auth/login', json={'username': login, 'password': ''})
    assert me['username'] == login and me['email'] == f'{login}@example.com' and me['is_verified'] is True
    assert password_login.status_code in (401, 422)


def test_a_second_sign_in_with_the_same_identity_finds_the_same_account(social):
    login = unique('alice')

    def whoami() -> str:
        with social.cookies.client() as app:
            assert sign_in(app, login).status_code == 302
            return app.get('/auth/me').json()['id']

    assert whoami() == whoami()


def test_an_unknown_provider_is_a_404(social):
    with social.cookies.client() as app:
        assert app.get('/auth/providers/nowhere/login').status_code == 404


def test_a_user_with_a_second_factor_is_asked_for_it_after_a_provider_sign_in(social):
    login = unique('alice')
    with social.tokens.client() as app:
        owner = local_account(app)
        totp = _with_totp(app, owner)
        _link(app, owner, login)
        answer = sign_in(app, login)
        assert answer.status_code == 302, answer.text
        fragment = fragment_of(answer)
        assert fragment['mfa_required'] == 'true' and 'code' not in fragment
        second = app.post('/auth/login/mfa', json={'mfa_token': fragment['mfa_token'], 'code': totp.now()})
    assert second.status_code == 200, second.text


def test_trust_mfa_lets_the_providers_second_factor_stand_in_for_the_local_one(social):
    login = unique('mfa')  # the provider says it checked a second factor
    with social.tokens.client() as app:
        owner = local_account(app)
        _with_totp(app, owner)
        _link(app, owner, login)
        fragment = fragment_of(sign_in(app, login, 'op-mfa'))
    assert 'code' in fragment and 'mfa_token' not in fragment


def test_without_trust_mfa_the_providers_second_factor_is_not_enough(social):
    login = unique('mfa')
    with social.tokens.client() as app:
        owner = local_account(app)
        _with_totp(app, owner)
        _link(app, owner, login)
        fragment = fragment_of(sign_in(app, login, 'op'))
    assert fragment['mfa_required'] == 'true'


def _with_totp(app, owner) -> pyotp.TOTP:
    bearer = {'Authorization': owner['Authorization']}
    totp = pyotp.TOTP(app.post('/auth/mfa/totp', headers=bearer).json()['secret'])
    confirmed = app.post('/auth/mfa/totp/confirm', json={'code': totp.at(time.time() - 30)}, headers=bearer)
    assert confirmed.status_code == 200, confirmed.text
    return totp


def _link(app, owner, login: str, provider: str = 'op') -> None:
    started = app.post(f'/auth/providers/{provider}/link', headers={'Authorization': owner['Authorization']})
    assert started.status_code == 200, started.text
    callback = authorize(started.json()['authorization_url'], login, until=str(app.base_url))
    linked = app.get(callback)
    assert linked.status_code == 302 and fragment_of(linked) == {'linked': provider}, linked.text


def test_a_plain_oauth2_provider_signs_in_with_the_userinfo_id_and_the_primary_listed_address(social):
    login = unique('alice')
    with social.tokens.client() as app:
        start_url = start(app, 'plain')
        assert 'nonce' not in parse_qs(urlsplit(start_url).query)
        answer = app.get(authorize(start_url, login, until=str(app.base_url)))
        assert answer.status_code == 302, answer.text
        pair = exchange(app, fragment_of(answer)['code'])
        me = app.get('/auth/me', headers={'Authorization': f'Bearer {pair.json()["access_token"]}'}).json()
    assert me['username'] == login and me['email'] == f'{login}@users.example.com' and me['is_verified']


def test_in_token_mode_a_sign_in_needs_the_pages_code_challenge(social):
    with social.tokens.client() as app:
        answer = app.get('/auth/providers/op/login')
    assert answer.status_code == 400 and 'code_challenge' in answer.json()['detail']


def test_an_exchange_code_is_refused_without_the_verifier_of_the_page_that_began_the_sign_in(social):
    """Login CSRF in token mode: an attacker's own code, planted in the victim's page, is useless there."""
    with social.tokens.client() as app:
        code = fragment_of(sign_in(app, unique('mallory')))['code']
        planted = exchange(app, code, verifier='the-victim-page-secret-' + 'y' * 30)
        assert planted.status_code == 401
        still = exchange(app, code)  # a wrong verifier does not spend the code
    assert still.status_code == 200
