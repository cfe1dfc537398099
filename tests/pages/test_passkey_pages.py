"""Passkeys on the account pages through ASGI: offered only when on, listed, renamed and removed by the forms.

The browser's part (the WebAuthn ceremonies in ``passkeys.js``) runs in chromium: tests/browser/test_account_pages.py.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest_asyncio

from panther_like import Panther
from panther_like.testing import TestClient
from tests.accounts.conftest import PASSWORD, settings_module
from tests.pages.conftest import form_csrf, sign_up_and_in
from tests.pages.test_security_page import SECURITY, post_on_security_page, set_up_totp
from tests.passkeys_authenticator import SoftAuthenticator

PASSKEY_ORIGIN = 'http://localhost:8000'
WEBAUTHN = {'rp_id': 'localhost', 'rp_name': 'Example', 'origins': [PASSKEY_ORIGIN]}
SCRIPT = '<script src="/auth/ui/static/passkeys.js" defer></script>'


@pytest_asyncio.fixture
async def passkey_browser(tmp_path, clock) -> AsyncIterator[TestClient]:
    settings = settings_module(
        {'path': str(tmp_path / 'pk.sqlite3')}, None, {'cookies': True, 'pages': True, 'webauthn': WEBAUTHN}
    )
    async with TestClient(Panther(configs=settings, clock=clock)) as client:
        yield client


async def add_passkey(client: TestClient, device: SoftAuthenticator, name: str) -> None:
    """What passkeys.js does on the security page: the JSON routes, with the page's CSRF token."""
    csrf = {'X-CSRFToken': form_csrf((await client.get(SECURITY)).text)}
    options = await client.post('/auth/passkeys/register/options', headers=csrf)
    assert options.status_code == 200, options.text
    body = {'credential': device.create(options.json()), 'name': name}
    assert (await client.post('/auth/passkeys/register', json=body, headers=csrf)).status_code == 201


def passkey_names(html: str) -> list[str]:
    section = html.split('id="passkey-list"', 1)[1].split('</ul>', 1)[0]
    return re.findall(r'<strong>([^<]*)</strong>', section)


async def test_the_sign_in_page_offers_a_passkey_with_the_served_script_when_passkeys_are_on(passkey_browser):
    shown = await passkey_browser.get('/auth/ui/login')
    assert 'id="passkey-sign-in"' in shown.text and SCRIPT in shown.text
    assert 'data-options="/auth/passkeys/login/options"' in shown.text


async def test_without_passkeys_the_pages_offer_none_and_load_no_script(browser):
    await sign_up_and_in(browser)
    for path in ('/auth/ui/login', SECURITY):
        shown = await browser.get(path)
        assert 'passkey' not in shown.text.lower() and '<script' not in shown.text, path


async def test_the_security_page_lists_a_passkey_and_its_forms_rename_and_remove_it(passkey_browser):
    await sign_up_and_in(passkey_browser)
    assert passkey_names((await passkey_browser.get(SECURITY)).text) == []
    await add_passkey(passkey_browser, SoftAuthenticator(PASSKEY_ORIGIN), 'Laptop')
    page = (await passkey_browser.get(SECURITY)).text
    assert passkey_names(page) == ['Laptop'] and SCRIPT in page
    rename = re.search(r'action="(/auth/ui/passkeys/[A-Za-z0-9_-]+/rename)"', page).group(1)
    renamed = await post_on_security_page(passkey_browser, rename, {'name': 'Work laptop'})
    assert renamed.status_code == 303 and renamed.headers['location'].endswith('done=passkey-renamed')
    page = (await passkey_browser.get(SECURITY)).text
    assert passkey_names(page) == ['Work laptop']
    remove = re.search(r'action="(/auth/ui/passkeys/[A-Za-z0-9_-]+/remove)"', page).group(1)
    removed = await post_on_security_page(passkey_browser, remove)
    assert removed.status_code == 303 and removed.headers['location'].endswith('done=passkey-removed')
    assert passkey_names((await passkey_browser.get(SECURITY)).text) == []


async def test_renaming_another_users_passkey_shows_404(passkey_browser):
    await sign_up_and_in(passkey_browser)
    answer = await post_on_security_page(passkey_browser, '/auth/ui/passkeys/bm90LW1pbmU/rename', {'name': 'x'})
    assert answer.status_code == 404 and 'role="alert"' in answer.text


async def test_a_passkey_id_that_cannot_be_one_is_a_404_page(passkey_browser):
    await sign_up_and_in(passkey_browser)
    answer = await post_on_security_page(passkey_browser, '/auth/ui/passkeys/not%20an%20id/remove')
    assert answer.status_code == 404 and answer.headers['content-type'].startswith('text/html')


async def test_the_second_step_offers_the_passkey_of_a_user_who_has_one(passkey_browser, clock):
    await sign_up_and_in(passkey_browser)
    await set_up_totp(passkey_browser, clock)
    await add_passkey(passkey_browser, SoftAuthenticator(PASSKEY_ORIGIN), 'Phone')
    await post_on_security_page(passkey_browser, '/auth/ui/logout')
    shown = await passkey_browser.get('/auth/ui/login')
    step = await passkey_browser.post(
        '/auth/ui/login', data={'csrf': form_csrf(shown.text), 'username': 'ann', 'password': PASSWORD}
    )
    assert 'name="mfa_token"' in step.text
    assert 'Or use your passkey' in step.text and 'id="passkey-sign-in"' in step.text and SCRIPT in step.text


async def test_a_passkey_as_chromium_sends_it_with_its_algorithm_number_is_added(passkey_browser):
    """``credential.toJSON()`` in chromium carries ``response.publicKeyAlgorithm`` as a number (-7, -8...)."""
    await sign_up_and_in(passkey_browser)
    csrf = {'X-CSRFToken': form_csrf((await passkey_browser.get(SECURITY)).text)}
    options = (await passkey_browser.post('/auth/passkeys/register/options', headers=csrf)).json()
    credential = SoftAuthenticator(PASSKEY_ORIGIN).create(options)
    credential['response']['publicKeyAlgorithm'] = -7
    added = await passkey_browser.post('/auth/passkeys/register', json={'credential': credential}, headers=csrf)
    assert added.status_code == 201, added.text


async def test_a_user_whose_only_factor_is_a_passkey_makes_recovery_codes_on_the_security_page(passkey_browser):
    await sign_up_and_in(passkey_browser)
    assert 'Make new recovery codes' not in (await passkey_browser.get(SECURITY)).text
    await add_passkey(passkey_browser, SoftAuthenticator(PASSKEY_ORIGIN), 'Laptop')
    assert 'Make new recovery codes' in (await passkey_browser.get(SECURITY)).text
    made = await post_on_security_page(passkey_browser, '/auth/ui/mfa/recovery-codes')
    assert made.status_code == 200 and made.text.count('<li><code>') == 10, made.text
