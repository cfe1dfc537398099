"""The security page and its forms through ASGI: each change made by the JSON route it hands the form to."""

from __future__ import annotations

import base64
import re

import pyotp

from panther_like.testing import TestClient
from tests.accounts.conftest import PASSWORD, Member
from tests.clock import ManualClock
from tests.pages.conftest import ORIGIN, form_csrf, sign_up_and_in, submit
from tests.pages.test_pages import error_text

SECURITY = '/auth/ui/security'


async def post_on_security_page(client: TestClient, action: str, fields: dict[str, str] | None = None):
    return await submit(client, SECURITY, action, fields or {})


async def set_up_totp(client: TestClient, clock: ManualClock) -> tuple[pyotp.TOTP, list[str]]:
    """Through the pages: start the set-up, read the secret the page shows, confirm with a code."""
    shown = await post_on_security_page(client, '/auth/ui/mfa/totp')
    assert shown.status_code == 200, shown.text
    secret = re.search(r'<code id="totp-secret">([A-Z2-7]+)</code>', shown.text).group(1)
    totp = pyotp.TOTP(secret)
    confirmed = await client.post(
        '/auth/ui/mfa/totp/confirm',
        data={'csrf': form_csrf(shown.text), 'code': totp.at(clock.time())},
        headers={'Origin': ORIGIN},
    )
    assert confirmed.status_code == 200, confirmed.text
    clock.advance(30)  # a code works once: the next one is a new time step
    return totp, re.findall(r'<li><code>([^<]+)</code></li>', confirmed.text)


async def test_a_browser_that_is_not_signed_in_is_sent_to_the_sign_in_page(browser):
    answer = await browser.get(SECURITY)
    assert answer.status_code == 303 and answer.headers['location'] == '/auth/ui/login'


async def test_the_totp_set_up_shows_the_qr_code_as_an_svg_image_and_the_secret(signed_in):
    shown = await post_on_security_page(signed_in, '/auth/ui/mfa/totp')
    src = re.search(r'<img src="data:image/svg\+xml;base64,([^"]+)"', shown.text).group(1)
    svg = base64.b64decode(src).decode()
    # An SVG shown as an image (not inlined into the page) must declare its namespace, or the browser shows nothing.
    assert re.match(r'\s*<svg [^>]*xmlns="http://www.w3.org/2000/svg"', svg), svg[:200]
    assert re.search(r'<code id="totp-secret">[A-Z2-7]{16,}</code>', shown.text)
    assert '<label for="code">' in shown.text


async def test_confirming_totp_shows_ten_recovery_codes_once(signed_in, clock):
    _, codes = await set_up_totp(signed_in, clock)
    assert len(codes) == 10 and len(set(codes)) == 10
    page = await signed_in.get(SECURITY)
    assert 'Two-step sign-in is on' in page.text and not any(code in page.text for code in codes)


async def test_a_wrong_confirmation_code_shows_the_error_and_asks_again(signed_in):
    shown = await post_on_security_page(signed_in, '/auth/ui/mfa/totp')
    answer = await signed_in.post(
        '/auth/ui/mfa/totp/confirm', data={'csrf': form_csrf(shown.text), 'code': '000000'}, headers={'Origin': ORIGIN}
    )
    assert answer.status_code == 400 and error_text(answer.text) == 'Invalid code'
    assert 'action="/auth/ui/mfa/totp/confirm"' in answer.text


async def test_with_totp_on_signing_in_asks_for_the_code_then_signs_in(signed_in, clock):
    totp, _ = await set_up_totp(signed_in, clock)
    await post_on_security_page(signed_in, '/auth/ui/logout')
    step = await submit(signed_in, '/auth/ui/login', '/auth/ui/login', {'username': 'ann', 'password': PASSWORD})
    assert step.status_code == 200 and 'name="mfa_token"' in step.text
    assert 'access_token' not in step.headers.get('set-cookie', '')
    token = re.search(r'name="mfa_token" value="([^"]+)"', step.text).group(1)
    done = await signed_in.post(
        '/auth/ui/login/mfa',
        data={'csrf': form_csrf(step.text), 'mfa_token': token, 'code': totp.at(clock.time())},
        headers={'Origin': ORIGIN},
    )
    assert done.status_code == 303 and done.headers['location'] == SECURITY, done.text
    assert (await signed_in.get(SECURITY)).status_code == 200


async def test_a_recovery_code_is_a_second_step_too_and_a_wrong_code_shows_401(signed_in, clock):
    _, codes = await set_up_totp(signed_in, clock)
    await post_on_security_page(signed_in, '/auth/ui/logout')
    step = await submit(signed_in, '/auth/ui/login', '/auth/ui/login', {'username': 'ann', 'password': PASSWORD})
    token = re.search(r'name="mfa_token" value="([^"]+)"', step.text).group(1)
    fields = {'csrf': form_csrf(step.text), 'mfa_token': token}
    wrong = await signed_in.post('/auth/ui/login/mfa', data={**fields, 'code': '123456'}, headers={'Origin': ORIGIN})
    assert wrong.status_code == 401 and error_text(wrong.text) == 'Invalid code' and 'name="mfa_token"' in wrong.text
    done = await signed_in.post('/auth/ui/login/mfa', data={**fields, 'code': codes[0]}, headers={'Origin': ORIGIN})
    assert done.status_code == 303


async def test_a_signed_in_form_without_the_session_csrf_token_is_refused_403(signed_in):
    answer = await signed_in.post('/auth/ui/logout', data={}, headers={'Origin': ORIGIN})
    assert answer.status_code == 403 and 'CSRF' in error_text(answer.text)
    assert (await signed_in.get(SECURITY)).status_code == 200  # still signed in


async def test_a_signed_in_form_from_another_site_is_refused_403(signed_in):
    token = form_csrf((await signed_in.get(SECURITY)).text)
    answer = await signed_in.post('/auth/ui/logout', data={'csrf': token}, headers={'Origin': 'https://evil.example'})
    assert answer.status_code == 403
    assert (await signed_in.get(SECURITY)).status_code == 200


async def test_signing_out_ends_the_session_and_goes_to_sign_in(signed_in):
    answer = await post_on_security_page(signed_in, '/auth/ui/logout')
    assert answer.status_code == 303 and answer.headers['location'] == '/auth/ui/login?done=signed-out'
    assert (await signed_in.get(SECURITY)).status_code == 303
    assert (await signed_in.get('/auth/me')).status_code == 401


async def test_signing_out_everywhere_ends_every_session(signed_in):
    other = await (await Member.find_one(username='ann')).login()  # a session of another device
    answer = await post_on_security_page(signed_in, '/auth/ui/logout-all')
    assert answer.status_code == 303
    bearer = {'Authorization': f'Bearer {other["access_token"]}'}
    assert (await signed_in.get('/auth/me', headers=bearer)).status_code == 401


async def test_another_session_is_listed_and_can_be_signed_out(signed_in):
    other = await (await Member.find_one(username='ann')).login()  # a session of another device
    page = await signed_in.get(SECURITY)
    action = re.search(r'action="(/auth/ui/sessions/[^"]+/end)"', page.text).group(1)
    answer = await post_on_security_page(signed_in, action)
    assert answer.status_code == 303 and answer.headers['location'].endswith('done=session-ended')
    bearer = {'Authorization': f'Bearer {other["access_token"]}'}
    assert (await signed_in.get('/auth/me', headers=bearer)).status_code == 401
    assert (await signed_in.get(SECURITY)).status_code == 200


async def test_changing_the_password_through_the_page(signed_in):
    fields = {'current_password': PASSWORD, 'new_password': 'a brand new passphrase'}
    answer = await post_on_security_page(signed_in, '/auth/ui/password/change', fields)
    assert answer.status_code == 303 and answer.headers['location'].endswith('done=password')
    assert 'password is changed' in (await signed_in.get(answer.headers['location'])).text
    login = await signed_in.post('/auth/login', json={'username': 'ann', 'password': 'a brand new passphrase'})
    assert login.status_code == 200


async def test_a_wrong_current_password_shows_the_error(signed_in):
    fields = {'current_password': 'not it at all', 'new_password': 'a brand new passphrase'}
    answer = await post_on_security_page(signed_in, '/auth/ui/password/change', fields)
    assert answer.status_code == 400 and 'current password' in error_text(answer.text)


async def test_changing_the_email_address_waits_for_its_confirmation(signed_in):
    answer = await post_on_security_page(signed_in, '/auth/ui/email', {'email': 'ann@example.com'})
    assert answer.status_code == 303 and answer.headers['location'].endswith('done=email')
    page = await signed_in.get(SECURITY)
    assert 'waiting for confirmation: ann@example.com' in page.text


async def test_a_change_that_needs_a_recent_sign_in_shows_the_step_up_then_works_after_it(make_pages_app, clock):
    async with TestClient(make_pages_app(reauthentication_timeout=1)) as client:
        await sign_up_and_in(client)
        clock.advance(5)
        refused = await post_on_security_page(client, '/auth/ui/mfa/totp')
        assert refused.status_code == 401 and 'recent sign-in' in error_text(refused.text)
        assert 'action="/auth/ui/reauthenticate"' in refused.text
        confirmed = await client.post(
            '/auth/ui/reauthenticate',
            data={'csrf': form_csrf(refused.text), 'password': PASSWORD},
            headers={'Origin': ORIGIN},
        )
        assert confirmed.status_code == 303 and confirmed.headers['location'].endswith('done=reauthenticated')
        shown = await post_on_security_page(client, '/auth/ui/mfa/totp')
        assert shown.status_code == 200 and 'totp-secret' in shown.text


async def test_a_wrong_step_up_password_shows_401(signed_in):
    answer = await post_on_security_page(signed_in, '/auth/ui/reauthenticate', {'password': 'not it at all'})
    assert answer.status_code == 401 and error_text(answer.text) == 'Invalid username or password'


async def test_turning_totp_off_needs_a_code(signed_in, clock):
    totp, _ = await set_up_totp(signed_in, clock)
    wrong = await post_on_security_page(signed_in, '/auth/ui/mfa/totp/remove', {'code': '000000'})
    assert wrong.status_code == 400 and error_text(wrong.text) == 'Invalid code'
    answer = await post_on_security_page(signed_in, '/auth/ui/mfa/totp/remove', {'code': totp.at(clock.time())})
    assert answer.status_code == 303 and answer.headers['location'].endswith('done=totp-removed')
    assert 'Two-step sign-in is off' in (await signed_in.get(SECURITY)).text


async def test_new_recovery_codes_are_shown_once(signed_in, clock):
    _, first = await set_up_totp(signed_in, clock)
    answer = await post_on_security_page(signed_in, '/auth/ui/mfa/recovery-codes')
    codes = re.findall(r'<li><code>([^<]+)</code></li>', answer.text)
    assert answer.status_code == 200 and len(codes) == 10 and not set(codes) & set(first)


async def test_a_trusted_browser_skips_the_code_at_its_next_sign_in_through_the_pages(make_pages_app, clock):
    async with TestClient(make_pages_app(trust_browser_days=30)) as client:
        await sign_up_and_in(client)
        totp, _ = await set_up_totp(client, clock)
        await post_on_security_page(client, '/auth/ui/logout')
        step = await submit(client, '/auth/ui/login', '/auth/ui/login', {'username': 'ann', 'password': PASSWORD})
        token = re.search(r'name="mfa_token" value="([^"]+)"', step.text).group(1)
        assert '<label for="trust_browser">' in step.text
        fields = {'csrf': form_csrf(step.text), 'mfa_token': token, 'code': totp.at(clock.time()), 'trust_browser': '1'}
        done = await client.post('/auth/ui/login/mfa', data=fields, headers={'Origin': ORIGIN})
        trusted = [cookie for cookie in done.headers.get_list('set-cookie') if cookie.startswith('mfa_trusted=')]
        assert done.status_code == 303 and 'Path=/auth/ui/login;' in trusted[0]
        await post_on_security_page(client, '/auth/ui/logout')
        again = await submit(client, '/auth/ui/login', '/auth/ui/login', {'username': 'ann', 'password': PASSWORD})
        assert again.status_code == 303 and again.headers['location'] == SECURITY
