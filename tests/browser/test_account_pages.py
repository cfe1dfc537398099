"""The account pages in a real headless chromium, served by a real uvicorn running the example app.

A person's path through them: sign up, sign in, set up TOTP from the secret the page shows (the code is
computed in node as an authenticator app would), sign out, sign in with password and code. Every page is
photographed into test-artifacts/pages/, the pages before a login pass axe-core's accessibility check, and
no page loads anything from another origin. Served at ``http://localhost:PORT``: WebAuthn needs a domain.
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
