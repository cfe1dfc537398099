"""Two tabs of a real chromium refresh one cookie session at the same moment: both stay logged in.

Before the refresh window, one of the two refreshes was a reuse of a spent
refresh token: a 401, and the whole session revoked, so the user was logged
out of both tabs. As in test_docs_in_browser.py: Debian's chromium driven by
playwright-core, skipped on a developer machine without them and failing
under CI.
"""

from __future__ import annotations

import pytest

from tests.browser.test_docs_in_browser import ARTIFACTS, _require_a_browser, _run_in_browser
from tests.e2e.helpers import signup
from tests.e2e.server import launch

pytestmark = pytest.mark.browser


@pytest.fixture(scope='module')
def tabs_server(tmp_path_factory):
    servers = launch(tmp_path_factory, 'browsertabs')
    server = next(servers)
    yield server
    next(servers, None)


@pytest.fixture(scope='module')
def outcome(tabs_server) -> dict:
    _require_a_browser()
    with tabs_server.client() as http:
        username, password, _ = signup(http, 'tabs')
    return _run_in_browser(
        'two_tabs_refresh.mjs',
        ARTIFACTS / 'two-tabs-refresh.png',
        BASE_URL=tabs_server.url,
        USERNAME=username,
        PASSWORD=password,
    )


def test_two_tabs_refreshing_at_once_both_get_200(outcome):
    assert outcome['login'] == 200, outcome
    assert [refresh['status'] for refresh in outcome['refreshes']] == [200, 200], outcome
    assert outcome['rotated'], outcome  # the jar holds the successor, not the spent token


def test_a_cookie_refresh_answers_no_token_in_its_body(outcome):
    for refresh in outcome['refreshes']:
        assert 'access_token' not in refresh['body'] and 'refresh_token' not in refresh['body'], outcome


def test_after_the_race_both_tabs_are_still_logged_in(outcome):
    assert [me['status'] for me in outcome['mes']] == [200, 200], outcome
    assert outcome['mes'][0]['body']['id'] == outcome['mes'][1]['body']['id']


def test_after_the_race_the_session_is_not_revoked(outcome):
    assert outcome['again']['status'] == 200, outcome  # the successor refreshes again
    assert outcome['me_again']['status'] == 200, outcome
    assert outcome['failures'] == [], outcome['failures']
