"""A real headless chromium on /docs: Authorize with a token, call a protected route, see the 200.

Debian's chromium driven by playwright-core (npm, tests/browser/package.json);
no browser is ever downloaded. Without chromium or node_modules the test is
skipped on a developer machine and FAILS under CI (``CI`` set), where
scripts/test.sh installs both. The screenshot lands in test-artifacts/.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.e2e.helpers import new_user
from tests.e2e.server import launch

pytestmark = pytest.mark.browser

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
CHROMIUM = os.environ.get('CHROMIUM', '/usr/bin/chromium')
ARTIFACTS = REPO / 'test-artifacts'


def _missing() -> str | None:
    if not Path(CHROMIUM).exists():
        return f'{CHROMIUM} is not installed (apt-get install chromium)'
    if shutil.which('node') is None:
        return 'node is not installed'
    if not (HERE / 'node_modules' / 'playwright-core').is_dir():
        return 'playwright-core is not installed (npm ci in tests/browser)'
    return None


@pytest.fixture(scope='module')
def docs_server(tmp_path_factory):
    servers = launch(tmp_path_factory, 'browser')
    server = next(servers)
    yield server
    next(servers, None)


def _require_a_browser() -> None:
    """Skip on a developer machine without chromium and node; fail in CI, where a skip would look green."""
    missing = _missing()
    if missing:
        if os.environ.get('CI'):
            pytest.fail(f'browser test cannot run in CI: {missing}')
        pytest.skip(missing)


def _run_in_browser(script: str, screenshot: Path, **env: str) -> dict:
    """Run a playwright-core script of this folder with node; the JSON outcome it prints last."""
    ARTIFACTS.mkdir(exist_ok=True)
    env = {**os.environ, **env, 'SCREENSHOT': str(screenshot), 'CHROMIUM': CHROMIUM}
    result = subprocess.run(['node', str(HERE / script)], cwd=HERE, env=env, capture_output=True, text=True, timeout=90)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_docs_page_authorizes_and_calls_a_protected_route(docs_server):
    _require_a_browser()
    with docs_server.client() as http:
        user = new_user(http, 'browser')
    screenshot = ARTIFACTS / 'docs-authorize.png'
    outcome = _run_in_browser('docs_authorize.mjs', screenshot, BASE_URL=docs_server.url, TOKEN=user.access_token)
    assert outcome['status'] == 200, outcome
    assert outcome['shown'] == '200'
    assert outcome['authorization'] == f'Bearer {user.access_token}'
    assert outcome['body'] == {'id': user.id, 'username': user.username}
    assert outcome['failures'] == [], outcome['failures']
    assert screenshot.stat().st_size > 10_000


def test_docs_page_logs_in_with_the_password_flow_and_calls_an_account_route(docs_server):
    """The Authorize button's OAuth2 password flow posts the form to /auth/login and uses the token it gets."""
    _require_a_browser()
    with docs_server.client() as http:
        user = new_user(http, 'passwordflow')
    outcome = _run_in_browser(
        'docs_password_flow.mjs',
        ARTIFACTS / 'docs-password-flow.png',
        BASE_URL=docs_server.url,
        USERNAME=user.username.upper(),
        PASSWORD=user.password,
    )
    assert outcome['login'] == 200, outcome
    assert outcome['login_content_type'].startswith('application/x-www-form-urlencoded')
    assert outcome['status'] == 200 and outcome['authorization'] == 'Bearer', outcome
    assert outcome['body']['id'] == user.id and outcome['body']['username'] == user.username
    assert outcome['failures'] == [], outcome['failures']


def test_docs_page_sends_the_csrf_token_so_a_cookie_session_can_post(docs_server):
    """Logged in by cookies only, "Try it out" on POST /auth/logout passes the CSRF check: the page echoes
    the csrftoken cookie in X-CSRFToken (without it the cookie-authenticated POST is a 403)."""
    _require_a_browser()
    with docs_server.client() as http:
        user = new_user(http, 'cookiesession')
    outcome = _run_in_browser(
        'docs_csrf.mjs',
        ARTIFACTS / 'docs-csrf.png',
        BASE_URL=docs_server.url,
        USERNAME=user.username,
        PASSWORD=user.password,
    )
    assert outcome['login'] == 200 and outcome['csrf'], outcome
    assert outcome['authorization'] is None, outcome  # the cookie, not a bearer token, authenticated the POST
    assert outcome['sent_csrf'] == outcome['csrf'], outcome
    assert outcome['status'] == 200, outcome
    assert outcome['failures'] == [], outcome['failures']
