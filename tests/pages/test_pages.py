"""The account pages through ASGI: what each page shows, its headers, its forms' guards, and the errors it shows."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from panther_like.exceptions import ConfigError
from panther_like.pages import CONTENT_SECURITY_POLICY
from panther_like.testing import TestClient
from tests.accounts.conftest import PASSWORD
from tests.pages.conftest import ORIGIN, form_csrf, sign_up_and_in, submit

ANONYMOUS_PAGES = ('/auth/ui/login', '/auth/ui/signup', '/auth/ui/password/forgot', '/auth/ui/password/reset?token=t')
STRICT_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; connect-src 'self'"
)


class _Markup(HTMLParser):
    """The inputs, labels, scripts and inline styles of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.inputs: list[dict[str, str | None]] = []
        self.labelled: set[str] = set()
        self.inline_scripts = 0
        self.styles = 0
        self.external: list[str] = []
        self._in_label = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if 'style' in found or tag == 'style' or any(name.startswith('on') for name in found):
            self.styles += 1
        if tag == 'script' and not found.get('src'):
            self.inline_scripts += 1
        for name in ('src', 'href', 'action'):
            value = found.get(name) or ''
            if value and not value.startswith(('/', 'data:')):
                self.external.append(value)
        if tag == 'label' and found.get('for'):
            self.labelled.add(found['for'] or '')
        if tag == 'input' and found.get('type') != 'hidden':
            self.inputs.append(found)


def markup(html: str) -> _Markup:
    parser = _Markup()
    parser.feed(html)
    return parser


def error_text(html: str) -> str:
    found = re.search(r'<p class="message error" role="alert">(.*?)</p>', html, re.S)
    assert found, html
    return found.group(1)


# -- turning them on -------------------------------------------------------------------------------------


async def test_pages_are_off_by_default_and_answer_404(make_pages_app):
    async with TestClient(make_pages_app(pages=False)) as client:
        assert (await client.get('/auth/ui/login')).status_code == 404
        assert (await client.get('/auth/ui/static/pages.css')).status_code == 404


def test_pages_without_cookie_mode_are_a_config_error(make_pages_app):
    with pytest.raises(ConfigError, match=r"ACCOUNTS\['cookies'\]"):
        make_pages_app(cookies=False)


@pytest.mark.parametrize(
    'value',
    ['yes', 1, {'template': '/tmp'}, {'templates': '/no/such/directory'}, {'stylesheet': 'https://cdn.example/x.css'}],
)
def test_a_mistaken_pages_setting_is_a_config_error(make_pages_app, value):
    with pytest.raises(ConfigError, match=r"ACCOUNTS\['pages'\]"):
        make_pages_app(pages=value)


async def test_the_pages_are_left_out_of_the_openapi_document(browser):
    document = (await browser.get('/openapi.json')).json()
    assert not [path for path in document['paths'] if '/ui/' in path]
    assert '/auth/login' in document['paths']


# -- every page -------------------------------------------------------------------------------------------


@pytest.mark.parametrize('path', ANONYMOUS_PAGES)
async def test_every_page_sends_the_strict_content_security_policy(browser, path):
    response = await browser.get(path)
    assert response.status_code == 200
    assert response.headers['content-security-policy'] == STRICT_CSP == CONTENT_SECURITY_POLICY
    assert response.headers['x-frame-options'] == 'DENY' and response.headers['cache-control'] == 'no-store'
    assert response.headers['content-type'] == 'text/html; charset=utf-8'


@pytest.mark.parametrize('path', ANONYMOUS_PAGES)
async def test_no_page_has_inline_script_or_style_or_another_origin(browser, path):
    page = markup((await browser.get(path)).text)
    assert (page.inline_scripts, page.styles, page.external) == (0, 0, [])


@pytest.mark.parametrize('path', ANONYMOUS_PAGES)
async def test_every_input_of_a_page_has_a_label(browser, path):
    page = markup((await browser.get(path)).text)
    assert page.inputs
    assert all(field.get('id') in page.labelled for field in page.inputs), page.inputs


async def test_the_security_page_has_labels_the_policy_and_no_inline_code(signed_in):
    response = await signed_in.get('/auth/ui/security')
    page = markup(response.text)
    assert response.status_code == 200 and response.headers['content-security-policy'] == STRICT_CSP
    assert all(field.get('id') in page.labelled for field in page.inputs)
    assert (page.inline_scripts, page.styles, page.external) == (0, 0, [])


async def test_the_stylesheet_and_script_are_served_from_the_package(browser):
    css = await browser.get('/auth/ui/static/pages.css')
    script = await browser.get('/auth/ui/static/passkeys.js')
    assert css.status_code == 200 and css.headers['content-type'].startswith('text/css')
    assert script.status_code == 200 and 'parseCreationOptionsFromJSON' in script.text
    assert (await browser.get('/auth/ui/static/layout.html')).status_code == 404
    assert (await browser.get('/auth/ui/static/..%2F__init__.py')).status_code == 404


# -- signing in -------------------------------------------------------------------------------------------


async def test_signing_in_sets_the_session_cookies_and_goes_to_the_security_page(browser):
    answer = await sign_up_and_in(browser)
    assert answer.headers['location'] == '/auth/ui/security'
    assert {'access_token', 'refresh_token', 'csrftoken'} <= {
        c.split('=')[0] for c in answer.headers.get_list('set-cookie')
    }
    page = await browser.get('/auth/ui/security')
    assert page.status_code == 200 and 'Signed in as <strong>ann</strong>' in page.text


async def test_a_wrong_password_shows_the_error_on_the_page_with_401(browser):
    await browser.post('/auth/signup', json={'username': 'ann', 'password': PASSWORD})
    answer = await submit(browser, '/auth/ui/login', '/auth/ui/login', {'username': 'ann', 'password': 'wrong one!'})
    assert answer.status_code == 401
    assert error_text(answer.text) == 'Invalid username or password'
    assert 'value="ann"' in answer.text and 'access_token' not in answer.headers.get('set-cookie', '')


async def test_an_empty_form_shows_which_field_is_missing(browser):
    answer = await submit(browser, '/auth/ui/login', '/auth/ui/login', {'username': '', 'password': ''})
    assert answer.status_code in (400, 422) and 'username' in error_text(answer.text)


async def test_what_the_user_typed_comes_back_escaped(browser):
    answer = await submit(
        browser, '/auth/ui/login', '/auth/ui/login', {'username': '"><script>x()</script>', 'password': 'p'}
    )
    assert answer.status_code < 500
    assert '<script>x()' not in answer.text and '&quot;&gt;&lt;script&gt;' in answer.text


async def test_a_form_post_without_its_token_is_refused_403(browser):
    await browser.post('/auth/signup', json={'username': 'ann', 'password': PASSWORD})
    await browser.get('/auth/ui/login')
    answer = await browser.post(
        '/auth/ui/login', data={'username': 'ann', 'password': PASSWORD}, headers={'Origin': ORIGIN}
    )
    assert answer.status_code == 403 and 'expired' in error_text(answer.text)
    assert 'access_token' not in answer.headers.get('set-cookie', '')


async def test_a_form_post_with_another_token_is_refused_403(browser):
    await browser.get('/auth/ui/login')
    answer = await browser.post('/auth/ui/login', data={'csrf': 'x' * 43, 'username': 'a', 'password': 'b'})
    assert answer.status_code == 403


async def test_a_form_post_from_another_site_is_refused_403(browser):
    await browser.post('/auth/signup', json={'username': 'ann', 'password': PASSWORD})
    token = form_csrf((await browser.get('/auth/ui/login')).text)
    answer = await browser.post(
        '/auth/ui/login',
        data={'csrf': token, 'username': 'ann', 'password': PASSWORD},
        headers={'Origin': 'https://evil.example'},
    )
    assert answer.status_code == 403 and 'another site' in error_text(answer.text)


async def test_a_body_that_is_not_a_form_is_refused_with_a_page_not_a_500(browser):
    await browser.get('/auth/ui/login')
    answer = await browser.post('/auth/ui/login', content=b'\xff\xfe', headers={'Content-Type': 'application/json'})
    assert answer.status_code == 403 and answer.headers['content-type'].startswith('text/html')


# -- signing up, forgetting the password -----------------------------------------------------------------


async def test_signing_up_creates_the_account_and_sends_to_sign_in(browser):
    answer = await submit(browser, '/auth/ui/signup', '/auth/ui/signup', {'username': 'bob', 'password': PASSWORD})
    assert answer.status_code == 303 and answer.headers['location'] == '/auth/ui/login?done=signed-up'
    shown = await browser.get(answer.headers['location'])
    assert 'Your account is ready' in shown.text
    login = await browser.post('/auth/login', json={'username': 'bob', 'password': PASSWORD})
    assert login.status_code == 200


async def test_signing_up_with_a_weak_password_shows_why(browser):
    answer = await submit(browser, '/auth/ui/signup', '/auth/ui/signup', {'username': 'bob', 'password': 'bob'})
    assert 400 <= answer.status_code < 500 and 'password' in error_text(answer.text).lower()
    assert 'value="bob"' in answer.text


async def test_a_taken_username_shows_409(browser):
    await browser.post('/auth/signup', json={'username': 'bob', 'password': PASSWORD})
    answer = await submit(browser, '/auth/ui/signup', '/auth/ui/signup', {'username': 'bob', 'password': PASSWORD})
    assert answer.status_code == 409 and error_text(answer.text)


async def test_forgot_password_answers_the_same_notice_for_anyone(browser):
    answer = await submit(browser, '/auth/ui/password/forgot', '/auth/ui/password/forgot', {'identifier': 'nobody'})
    assert answer.status_code == 202 and 'role="status"' in answer.text


async def test_a_reset_with_a_bad_token_shows_the_error(browser):
    answer = await submit(
        browser,
        '/auth/ui/password/reset?token=abc',
        '/auth/ui/password/reset',
        {'token': 'abc', 'new_password': PASSWORD},
    )
    assert answer.status_code == 400 and error_text(answer.text)
    assert 'name="token" value="abc"' in answer.text


# -- theming and the reset link --------------------------------------------------------------------------


async def test_a_project_template_replaces_the_packaged_one_of_the_same_name(make_pages_app, tmp_path):
    templates = tmp_path / 'my_templates'
    templates.mkdir()
    (templates / 'sign_in.html').write_text(
        '<p class="mine">Welcome back, $username</p><input type="hidden" value="$csrf">'
    )
    async with TestClient(make_pages_app(pages={'templates': str(templates)})) as client:
        shown = await client.get('/auth/ui/login')
        assert '<p class="mine">Welcome back, </p>' in shown.text
        assert '<h1>Sign in</h1>' in shown.text  # the layout is still the packaged one
        assert 'action="/auth/ui/signup"' in (await client.get('/auth/ui/signup')).text


async def test_a_project_stylesheet_and_site_name_replace_the_packaged_ones(make_pages_app):
    pages = {'stylesheet': '/static/site.css', 'site_name': 'Acme <Books>'}
    async with TestClient(make_pages_app(pages=pages)) as client:
        shown = (await client.get('/auth/ui/login')).text
        assert '<link rel="stylesheet" href="/static/site.css">' in shown and 'pages.css' not in shown
        assert 'Acme &lt;Books&gt;' in shown


async def test_the_reset_link_of_the_mail_opens_the_reset_page_which_sets_the_new_password(tmp_path, smtp_server):
    from tests.recovery.setup import build_app, client_from_own_address, mail_settings, new_user

    settings = mail_settings(
        smtp_server,
        DATABASE={'path': str(tmp_path / 'reset.sqlite3')},
        ACCOUNTS={'cookies': True, 'pages': True, 'cookie_secure': False},  # a plain httpx client over http
        ACCOUNT_EMAILS={'reset_url': 'https://app.example.com/auth/ui/password/reset?token='},
    )
    app = build_app(settings)
    async with client_from_own_address(app) as client:
        user = await new_user(app)
        asked = await submit(client, '/auth/ui/password/forgot', '/auth/ui/password/forgot', {'identifier': user.email})
        assert asked.status_code == 202
        await app.outbox.drain()
        mail = smtp_server.wait_for(user.email)[0].get_content()
        link = re.search(r'https://app\.example\.com(/auth/ui/password/reset\?token=[A-Za-z0-9_-]+)', mail).group(1)
        token = link.rsplit('=', 1)[1]
        answer = await submit(client, link, '/auth/ui/password/reset', {'token': token, 'new_password': PASSWORD})
        assert answer.status_code == 303 and answer.headers['location'] == '/auth/ui/login?done=reset'
        login = await client.post('/auth/login', json={'username': user.username, 'password': PASSWORD})
        assert login.status_code == 200


# -- bad input -------------------------------------------------------------------------------------------

JUNK_BODIES = [
    (b'', 'application/x-www-form-urlencoded'),
    (b'csrf=x&csrf=y', 'application/x-www-form-urlencoded'),
    (b'\xff\xfe=\x00', 'application/x-www-form-urlencoded'),
    (b'code=' + b'9' * 5000 + b'&name=' + b'%00' * 50, 'application/x-www-form-urlencoded'),
    (b'{"username": ["a"]}', 'application/json'),
    (b'--x\r\n', 'multipart/form-data; boundary=x'),
]


async def test_no_page_answers_junk_with_a_500(signed_in):
    from panther_like.pages import pages_urls

    paths = [path.replace('<sid>', 'abc').replace('<passkey>', 'abc') for path in pages_urls if 'static' not in path]
    token = form_csrf((await signed_in.get('/auth/ui/security')).text)
    for path in paths:
        for body, content_type in [
            *JUNK_BODIES,
            (f'csrf={token}&code=%F0%9F%98%80&name=x'.encode(), 'application/x-www-form-urlencoded'),
        ]:
            answer = await signed_in.post(
                f'/auth/{path}', content=body, headers={'Content-Type': content_type, 'Origin': ORIGIN}
            )
            assert answer.status_code < 500, (path, body[:40], answer.text[:300])
