"""Templates, the page response and its headers, the anonymous forms' CSRF token, the served assets.

Templates are `string.Template` files (``$name``) from the package's
``templates/`` folder, each replaceable by a file of the same name in
``ACCOUNTS['pages']['templates']``. Every value is HTML-escaped when it
is put in, unless it is a `Safe` fragment the pages built from escaped parts,
so a username or an error message can never become markup.

Every page carries the strict `CONTENT_SECURITY_POLICY`: scripts and styles
from this site only (the packaged ``pages.css`` and ``passkeys.js``), no
inline script or style, forms posting to this site only, no framing.
"""

from __future__ import annotations

import functools
import hmac
import html
import secrets
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from string import Template

from panther_like import status
from panther_like.exceptions import NotFoundAPIError
from panther_like.http.request import Request
from panther_like.http.response import Response
from panther_like.login_state.services import services_of
from panther_like.settings.pages import PagesSettings

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; connect-src 'self'"
)
PAGE_HEADERS = {
    'Content-Security-Policy': CONTENT_SECURITY_POLICY,
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    # A reset page's address holds its token: never sent to another site. Not ``no-referrer``: with it a
    # browser posts the pages' forms with ``Origin: null``, which the same-site rule must refuse.
    'Referrer-Policy': 'same-origin',
    'Cache-Control': 'no-store',
}
#: The cookie of the forms shown before a login (sign in, sign up, reset): a random value the form echoes.
FORM_COOKIE = 'ui_csrf'
FORM_FIELD = 'csrf'
STATIC_FILES = {'pages.css': 'text/css; charset=utf-8', 'passkeys.js': 'text/javascript; charset=utf-8'}


class Safe(str):
    """Markup the pages built themselves from escaped parts: put into a template as it is."""

    __slots__ = ()


def escape(value: object) -> str:
    return value if isinstance(value, Safe) else html.escape(str(value), quote=True)


def join(fragments: list[Safe]) -> Safe:
    return Safe('\n'.join(fragments))


def settings_of(request: Request) -> PagesSettings:
    """The pages' settings; a 404 while ``ACCOUNTS['pages']`` is off, as for any route that is not there."""
    settings = services_of(request).config.accounts.pages
    if settings is None:
        raise NotFoundAPIError()
    return settings


@functools.lru_cache(maxsize=64)
def _template(directory: Path | None, name: str) -> Template:
    if directory is not None and (directory / name).is_file():
        return Template((directory / name).read_text(encoding='utf-8'))
    return Template(resources.files(__package__).joinpath('templates', name).read_text(encoding='utf-8'))


def fill(request: Request, name: str, /, **values: object) -> Safe:
    """Template `name` with `values`, each escaped unless `Safe`; a placeholder no value fills stays as it is."""
    template = _template(settings_of(request).templates, name)
    mount = mount_of(request)
    filled = {'mount': mount, 'ui': mount + 'ui/', **values}
    return Safe(template.safe_substitute({key: escape(value) for key, value in filled.items()}))


def mount_of(request: Request) -> str:
    """Where the account routes are mounted (``/auth/``), from the path of a request to one of the pages."""
    path = request.path
    index = path.rfind('/ui/')
    return path[: index + 1] if index >= 0 else '/'


def page(
    request: Request,
    title: str,
    content: Safe,
    *,
    status_code: int = status.HTTP_200_OK,
    error: str | None = None,
    notice: str | None = None,
    scripts: tuple[str, ...] = (),
) -> Response:
    """The whole page: `content` in the layout, with the strict headers and the form cookie."""
    settings = settings_of(request)
    ui = mount_of(request) + 'ui/'
    messages = []
    if error:
        messages.append(fill(request, 'message.html', kind='error', role='alert', text=error))
    if notice:
        messages.append(fill(request, 'message.html', kind='notice', role='status', text=notice))
    tags = [Safe(f'<script src="{escape(ui + "static/" + script)}" defer></script>') for script in scripts]
    body = fill(
        request,
        'layout.html',
        title=title,
        site=settings.site_name,
        stylesheet=settings.stylesheet or ui + 'static/pages.css',
        messages=join(messages),
        content=content,
        scripts=join(tags),
        ui=ui,
    )
    response = HTMLResponse(body, status_code)
    if FORM_COOKIE not in request.cookies:
        response.set_cookie(
            FORM_COOKIE,
            form_token(request),
            path=ui,
            secure=services_of(request).config.accounts.cookie_secure,
            samesite='strict',
        )
    return response


def form_token(request: Request) -> str:
    """The token an anonymous form carries: the form cookie's value (a new one if the browser has none)."""
    token = request.cookies.get(FORM_COOKIE) or request.state.get(FORM_COOKIE)
    if not token:
        token = request.state[FORM_COOKIE] = secrets.token_urlsafe(32)
    return token


def form_token_matches(request: Request, form: Mapping[str, str]) -> bool:
    """Double submit: a page of this site read the cookie into the form; another site can do neither."""
    cookie = request.cookies.get(FORM_COOKIE, '')
    sent = form.get(FORM_FIELD, '')
    return bool(cookie) and hmac.compare_digest(cookie.encode(), sent.encode('utf-8', 'surrogateescape'))


class HTMLResponse(Response):
    """A page: HTML, with the strict security headers."""

    __slots__ = ('content',)

    def __init__(self, content: str, status_code: int = status.HTTP_200_OK) -> None:
        super().__init__(None, status_code, {'Content-Type': 'text/html; charset=utf-8', **PAGE_HEADERS})
        self.content = content.encode('utf-8')

    @property
    def body(self) -> bytes:
        return self.content


class StaticResponse(Response):
    __slots__ = ('content',)

    def __init__(self, content: bytes, content_type: str) -> None:
        headers = {
            'Content-Type': content_type,
            'Cache-Control': 'public, max-age=3600',
            'X-Content-Type-Options': 'nosniff',
        }
        super().__init__(None, status.HTTP_200_OK, headers)
        self.content = content

    @property
    def body(self) -> bytes:
        return self.content


def redirect(location: str, set_cookies: list[str] | None = None) -> Response:
    """303 See Other: after a form, the browser loads `location` with a GET (a reload never posts twice)."""
    response = HTMLResponse('', status.HTTP_303_SEE_OTHER)
    response.headers['Location'] = location
    response.cookies.extend(set_cookies or ())
    return response


@functools.lru_cache(maxsize=8)
def static_file(name: str) -> tuple[bytes, str]:
    """One of the allowlisted assets; any other name is a 404, so no path can reach another file."""
    content_type = STATIC_FILES.get(name)
    if content_type is None:
        raise NotFoundAPIError()
    return resources.files(__package__).joinpath('static', name).read_bytes(), content_type
