"""The account pages in a real headless chromium, served by a real uvicorn running the example app.

A person's path through them: sign up, sign in, set up TOTP from the secret the page shows (the code is
computed in node as an authenticator app would), sign out, sign in with password and code. Passkeys with
the DevTools virtual authenticator: add one on the security page, sign in with it without a username;
another authenticator cannot; once removed, it signs in no more. Every page is photographed into
test-artifacts/pages/, the pages before a login pass axe-core's accessibility check, and no page loads
anything from another origin. Served at ``http://localhost:PORT``: WebAuthn needs a domain.
"""

from __future__ import annotations

import secrets

import pytest

from tests.browser.test_docs_in_browser import ARTIFACTS, _require_a_browser, _run_in_browser
from tests.e2e.server import launch

pytestmark = pytest.mark.browser

SHOTS = ARTIFACTS / 'pages'


def on_localhost(url: str) -> str:
    """The server's address by name: browsers give WebAuthn to ``localhost``, never to an IP address."""
    return url.replace('://127.0.0.1:', '://localhost:')


@pytest.fixture(scope='module')
def pages_server(tmp_path_factory):
    servers = launch(tmp_path_factory, 'pages')
    server = next(servers)
    # Passkeys are bound to the page's origin, whose port is known only now: restart with it in .env.
    server.stop()
    env_file = server.directory / '.env'
    env_file.write_text(env_file.read_text() + f'PASSKEY_ORIGINS={on_localhost(server.url)}\n')
    server.start()
    yield server
    next(servers, None)


@pytest.fixture(scope='module')
def totp_walk(pages_server) -> dict:
    _require_a_browser()
    SHOTS.mkdir(parents=True, exist_ok=True)
    return _run_in_browser(
        'pages_totp.mjs',
        SHOTS / 'unused.png',
        BASE_URL=on_localhost(pages_server.url),
        USERNAME=f'pages_{secrets.token_hex(4)}',
        PASSWORD='a long pass phrase 42',
        SHOTS=str(SHOTS),
    )


def test_signing_up_and_in_through_the_pages_shows_errors_on_the_page(totp_walk):
    assert 'password' in totp_walk['weak_password_error'].lower(), totp_walk
    assert totp_walk['after_signup'] == '/auth/ui/login?done=signed-up'
    assert totp_walk['wrong_password_error'] == 'Invalid username or password'
    assert totp_walk['after_login'] == '/auth/ui/security'


def test_totp_is_set_up_from_the_secret_the_page_shows_and_then_asked_at_sign_in(totp_walk):
    assert totp_walk['qr_loaded'] is True and totp_walk['recovery_codes'] == 10 and totp_walk['totp_on'] is True
    assert totp_walk['after_sign_out'] == '/auth/ui/login?done=signed-out'
    assert totp_walk['after_second_step'] == '/auth/ui/security'
    assert totp_walk['signed_in_as'].startswith('pages_')


def test_the_pages_load_nothing_from_another_origin_and_break_no_policy(totp_walk, pages_server):
    assert totp_walk['failures'] == [], totp_walk['failures']
    assert totp_walk['origins'] == [on_localhost(pages_server.url)]


def test_the_pages_before_a_login_have_no_serious_accessibility_violation(totp_walk):
    assert totp_walk['accessibility'] == {'login': [], 'signup': [], 'password/forgot': []}


def test_every_page_is_photographed(totp_walk):
    for name in totp_walk['shots']:
        assert (SHOTS / f'{name}.png').stat().st_size > 5_000, name
    assert {'signup', 'security', 'totp-setup', 'recovery-codes', 'second-step', 'step-up'} <= set(totp_walk['shots'])


def test_the_passkey_pages_are_photographed(passkey_walk):
    assert {'passkeys', 'login-with-passkey', 'passkey-refused'} <= set(passkey_walk['shots'])
    for name in passkey_walk['shots']:
        assert (SHOTS / f'{name}.png').stat().st_size > 5_000, name


@pytest.fixture(scope='module')
def passkey_walk(pages_server) -> dict:
    _require_a_browser()
    SHOTS.mkdir(parents=True, exist_ok=True)
    username, password = f'keys_{secrets.token_hex(4)}', 'a long pass phrase 43'
    with pages_server.client() as http:
        created = http.post('/auth/signup', json={'username': username, 'password': password})
        assert created.status_code == 201, created.text
    outcome = _run_in_browser(
        'pages_passkeys.mjs',
        SHOTS / 'unused.png',
        BASE_URL=on_localhost(pages_server.url),
        USERNAME=username,
        PASSWORD=password,
        SHOTS=str(SHOTS),
    )
    return {**outcome, 'username': username}


def test_a_passkey_added_on_the_security_page_is_listed_and_renamed(passkey_walk):
    assert passkey_walk['added'] == {'result': 'added', 'error': None}, passkey_walk
    assert passkey_walk['listed'] == ['Laptop'] and passkey_walk['held'] == 1, passkey_walk
    assert passkey_walk['renamed'] == ['Work laptop']


def test_the_passkey_signs_in_without_a_username(passkey_walk):
    assert passkey_walk['passkey_sign_in'] == {'result': 'signed in', 'error': None}, passkey_walk
    assert passkey_walk['after_passkey'] == '/auth/ui/security'
    assert passkey_walk['signed_in_as'] == passkey_walk['username']


def test_another_authenticator_cannot_sign_in_as_that_user(passkey_walk):
    assert passkey_walk['other_authenticator']['result'] != 'signed in', passkey_walk
    assert passkey_walk['other_signed_in_as'] == 401


def test_the_passkey_is_the_second_step_of_a_password_sign_in(passkey_walk):
    assert passkey_walk['second_step_offers_passkey'] is True, passkey_walk
    assert passkey_walk['second_step_passkey'] == {'result': 'signed in', 'error': None}, passkey_walk
    assert passkey_walk['second_step_signed_in_as'] == passkey_walk['username']


def test_a_removed_passkey_signs_in_no_more(passkey_walk):
    assert passkey_walk['after_removal'] == '/auth/ui/security?done=passkey-removed' and passkey_walk['left'] == 0
    assert passkey_walk['removed_passkey']['result'] == 'refused', passkey_walk
    assert passkey_walk['removed_signed_in_as'] == 401


def test_the_passkey_pages_load_nothing_from_another_origin(passkey_walk, pages_server):
    assert passkey_walk['failures'] == [], passkey_walk['failures']
    assert passkey_walk['origins'] == [on_localhost(pages_server.url)]
