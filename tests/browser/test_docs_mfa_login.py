"""A real headless chromium on /docs completes a login with a second factor, then calls a protected route.

As in test_docs_in_browser.py: Debian's chromium driven by playwright-core, skipped on a developer machine
without them and failing under CI. The code is computed with pyotp, as an authenticator app would.
"""

from __future__ import annotations

import time

import pyotp
import pytest

from tests.browser.test_docs_in_browser import ARTIFACTS, _require_a_browser, _run_in_browser
from tests.e2e.helpers import signup
from tests.e2e.server import launch

pytestmark = pytest.mark.browser


@pytest.fixture(scope='module')
def docs_server(tmp_path_factory):
    servers = launch(tmp_path_factory, 'browsermfa')
    server = next(servers)
    yield server
    next(servers, None)


def test_docs_page_asks_for_the_code_finishes_the_mfa_login_and_calls_a_protected_route(docs_server):
    _require_a_browser()
    with docs_server.client() as http:
        username, password, body = signup(http, 'docsmfa')
        tokens = http.post('/auth/login', json={'username': username, 'password': password}).json()
        bearer = {'Authorization': f'Bearer {tokens["access_token"]}'}
        totp = pyotp.TOTP(http.post('/auth/mfa/totp', headers=bearer).json()['secret'])
        confirmed = http.post('/auth/mfa/totp/confirm', json={'code': totp.at(time.time() - 30)}, headers=bearer)
        assert confirmed.status_code == 200, confirmed.text
    outcome = _run_in_browser(
        'docs_mfa_login.mjs',
        ARTIFACTS / 'docs-mfa-login.png',
        BASE_URL=docs_server.url,
        USERNAME=username,
        PASSWORD=password,
        CODE=totp.now(),
    )
    assert outcome['prompts'] == ['prompt'], outcome
    assert outcome['login'] == 401 and outcome['mfa'] == 200, outcome
    assert set(outcome['mfa_body']) == {'mfa_token', 'code'}, outcome
    assert outcome['status'] == 200 and outcome['authorization'] == 'Bearer', outcome
    assert outcome['body']['id'] == body['id'] and outcome['body']['username'] == username
    assert outcome['failures'] == [], outcome['failures']
