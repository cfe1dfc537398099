"""A real headless chromium signs in with a real OpenID provider (node oidc-provider) and comes back logged in.

The app (tests/social/app.py, cookie mode) and the providers are tests/social's; the browser is Debian's
chromium driven by playwright-core, as for the /docs tests: skipped on a developer machine without them,
failing under CI.
"""

from __future__ import annotations

import pytest

from tests.browser.test_docs_in_browser import ARTIFACTS, _require_a_browser, _run_in_browser
from tests.social.conftest import social  # noqa: F401  (the providers and the app under uvicorn)
from tests.social.helpers import unique
from tests.social.provider import PASSWORD

pytestmark = pytest.mark.browser


def test_a_browser_signs_in_with_the_provider_and_is_logged_in_back_on_the_site(social):  # noqa: F811
    _require_a_browser()
    username = unique('browser')
    outcome = _run_in_browser(
        'social_login.mjs',
        ARTIFACTS / 'social-login.png',
        BASE_URL=social.cookies.url,
        PROVIDER='op',
        USERNAME=username,
        PASSWORD=PASSWORD,
    )
    assert outcome['providerPage'] == social.one.issuer, outcome
    assert outcome['consentTitle'].startswith('Let app see'), outcome
    assert outcome['landed'] == f'{social.cookies.url}/auth/me', outcome
    assert outcome['shown']['username'] == username, outcome
    assert outcome['again'] == {'status': 200, 'body': outcome['shown']}, outcome
    cookies = {cookie['name']: cookie['httpOnly'] for cookie in outcome['cookies']}
    assert cookies.get('access_token') is True and cookies.get('csrftoken') is False, outcome
    assert outcome['failures'] == [], outcome['failures']
