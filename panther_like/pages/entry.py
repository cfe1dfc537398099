"""The pages before a login: sign in (and its second step), sign up, forgot password, reset password.

Each form post is handed to the JSON account route of the same name
(`panther_like.pages.inner`); a refusal is shown on the page with the
route's own status and words, a success moves on with a 303.
"""

from __future__ import annotations

import base64
from typing import Any

from panther_like import status
from panther_like.http.request import Request
from panther_like.http.response import Response
from panther_like.login_state.services import services_of
from panther_like.login_state.trusted_browsers import TRUSTED_COOKIE
from panther_like.pages.base import PageAPI, notice_of, read_form, refused, second_factor_field
from panther_like.pages.inner import call_route
from panther_like.pages.render import Safe, fill, form_token, mount_of, page, redirect, settings_of

PASSKEY_SCRIPT = ('passkeys.js',)


def has_passkeys(request: Request) -> bool:
    """Whether passkeys are on (``ACCOUNTS['webauthn']``): the pages then offer them."""
    return services_of(request).config.accounts.webauthn is not None


def _providers(request: Request) -> Safe:
    """A "Sign in with ..." link to each provider of ``ACCOUNTS['providers']``, in settings order; none: nothing."""
    providers = services_of(request).config.accounts.providers
    if not providers:
        return Safe('')
    buttons = ''.join(
        fill(request, 'provider_button.html', name=name, label=provider.label) for name, provider in providers.items()
    )
    return fill(request, 'provider_sign_in.html', buttons=Safe(buttons))


def _sign_in(
    request: Request, *, error: str | None = None, status_code: int = status.HTTP_200_OK, username: str = ''
) -> Response:
    passkeys = has_passkeys(request)
    passkey = fill(request, 'passkey_sign_in.html', heading='Or use a passkey') if passkeys else ''
    content = fill(
        request,
        'sign_in.html',
        csrf=form_token(request),
        username=username,
        passkey=Safe(passkey),
        providers=_providers(request),
    )
    return page(
        request,
        'Sign in',
        content,
        status_code=status_code,
        error=error,
        notice=notice_of(request),
        scripts=PASSKEY_SCRIPT if passkeys else (),
    )


def _second_step(
    request: Request,
    mfa_token: str,
    methods: list[Any],
    *,
    error: str | None = None,
    status_code: int = status.HTTP_200_OK,
) -> Response:
    days = services_of(request).config.accounts.trust_browser_days
    trust = fill(request, 'trust_browser.html', days=days) if days else ''
    passkey = 'webauthn' in methods and has_passkeys(request)
    offered = fill(request, 'passkey_sign_in.html', heading='Or use your passkey') if passkey else ''
    content = fill(
        request,
        'second_step.html',
        csrf=form_token(request),
        mfa_token=mfa_token,
        methods=' '.join(str(method) for method in methods),
        trust=Safe(trust),
        passkey=Safe(offered),
    )
    return page(
        request,
        'One more step',
        content,
        status_code=status_code,
        error=error,
        scripts=PASSKEY_SCRIPT if passkey else (),
    )


class SignIn(PageAPI):
    async def get(self, request: Request) -> Response:
        settings_of(request)
        return _sign_in(request)

    async def post(self, request: Request) -> Response:
        settings_of(request)
        form = read_form(request)
        if (refusal := refused(request, form, anonymous=True)) is not None:
            return refusal
        username = form.get('username', '')
        body = {'username': username, 'password': form.get('password', '')}
        answer = await call_route(request, mount_of(request), 'login', body=body)
        if answer.ok:
            return redirect(mount_of(request) + 'ui/security', answer.set_cookies)
        if answer.flag('mfa_required') and isinstance(answer.body.get('mfa_token'), str):
            return _second_step(request, answer.body['mfa_token'], list(answer.body.get('methods') or ()))
        return _sign_in(request, error=answer.detail(), status_code=answer.status, username=username)


class SecondStep(PageAPI):
    async def post(self, request: Request) -> Response:
        settings_of(request)
        form = read_form(request)
        if (refusal := refused(request, form, anonymous=True)) is not None:
            return refusal
        mfa_token = form.get('mfa_token', '')
        body: dict[str, Any] = {'mfa_token': mfa_token, **second_factor_field(form.get('code', ''))}
        if form.get('trust_browser') == '1':
            body['trust_browser'] = True
        mount = mount_of(request)
        answer = await call_route(request, mount, 'login/mfa', body=body)
        if answer.ok:
            return redirect(mount + 'ui/security', [_to_sign_in_page(cookie, mount) for cookie in answer.set_cookies])
        if 'mfa_token' in answer.detail():  # the step is over (used, expired): start again
            return _sign_in(request, error=answer.detail(), status_code=answer.status)
        methods = form.get('methods', '').split()
        return _second_step(request, mfa_token, methods, error=answer.detail(), status_code=answer.status)


def _to_sign_in_page(cookie: str, mount: str) -> str:
    """The trusted-browser cookie, sent back to the sign-in page rather than to the ``login`` route.

    The route limits it to the login routes' path; a browser signing in through the pages posts to
    ``ui/login``, and that page hands the cookie on to ``login`` with the rest.
    """
    if not cookie.startswith(TRUSTED_COOKIE + '='):
        return cookie
    return cookie.replace(f'; Path={mount}login;', f'; Path={mount}ui/login;', 1)


def _sign_up(
    request: Request, *, error: str | None = None, status_code: int = status.HTTP_200_OK, form: dict[str, str]
) -> Response:
    config = services_of(request).config
    email = ''
    if 'email' in config.user_model.editable_fields:
        email = fill(request, 'email_field.html', email=form.get('email', ''))
    content = fill(
        request,
        'sign_up.html',
        csrf=form_token(request),
        username=form.get('username', ''),
        email=Safe(email),
        min_length=config.accounts.password_min_length,
    )
    return page(request, 'Create an account', content, status_code=status_code, error=error)


class SignUp(PageAPI):
    async def get(self, request: Request) -> Response:
        settings_of(request)
        return _sign_up(request, form={})

    async def post(self, request: Request) -> Response:
        settings_of(request)
        form = read_form(request)
        if (refusal := refused(request, form, anonymous=True)) is not None:
            return refusal
        body = {'username': form.get('username', ''), 'password': form.get('password', '')}
        if form.get('email') and 'email' in services_of(request).config.user_model.editable_fields:
            body['email'] = form['email']
        answer = await call_route(request, mount_of(request), 'signup', body=body)
        if answer.ok:
            return redirect(mount_of(request) + 'ui/login?done=signed-up')
        return _sign_up(request, error=answer.detail(), status_code=answer.status, form=form)


def _forgot(
    request: Request,
    *,
    error: str | None = None,
    notice: str | None = None,
    status_code: int = status.HTTP_200_OK,
    identifier: str = '',
) -> Response:
    content = fill(request, 'forgot.html', csrf=form_token(request), identifier=identifier)
    return page(request, 'Forgot your password?', content, status_code=status_code, error=error, notice=notice)


class ForgotPassword(PageAPI):
    async def get(self, request: Request) -> Response:
        settings_of(request)
        return _forgot(request)

    async def post(self, request: Request) -> Response:
        settings_of(request)
        form = read_form(request)
        if (refusal := refused(request, form, anonymous=True)) is not None:
            return refusal
        identifier = form.get('identifier', '').strip()
        body = {'email' if '@' in identifier else 'username': identifier}
        answer = await call_route(request, mount_of(request), 'password/forgot', body=body)
        if answer.ok:
            return _forgot(request, notice=answer.detail(), status_code=answer.status)
        return _forgot(request, error=answer.detail(), status_code=answer.status, identifier=identifier)


def _reset(
    request: Request, token: str, *, error: str | None = None, status_code: int = status.HTTP_200_OK
) -> Response:
    content = fill(request, 'reset.html', csrf=form_token(request), token=token)
    return page(request, 'Choose a new password', content, status_code=status_code, error=error)


class ResetPassword(PageAPI):
    """The page the reset mail links to (``ACCOUNT_EMAILS['reset_url'] = 'https://.../auth/ui/password/reset?token='``)."""

    async def get(self, request: Request) -> Response:
        settings_of(request)
        return _reset(request, request.query_params.get('token', ''))

    async def post(self, request: Request) -> Response:
        settings_of(request)
        form = read_form(request)
        if (refusal := refused(request, form, anonymous=True)) is not None:
            return refusal
        token = form.get('token', '')
        body = {'token': token, 'new_password': form.get('new_password', '')}
        answer = await call_route(request, mount_of(request), 'password/reset', body=body)
        if answer.ok:
            return redirect(mount_of(request) + 'ui/login?done=reset')
        return _reset(request, token, error=answer.detail(), status_code=answer.status)


SVG_NAMESPACE = 'http://www.w3.org/2000/svg'


def data_uri(svg: str) -> str:
    """An SVG as an image address the Content-Security-Policy admits (``img-src data:``): no inline markup.

    The QR code comes as SVG for inlining into HTML, without the namespace an SVG *image* must declare.
    """
    start = svg.find('<svg')
    if start >= 0 and 'xmlns=' not in svg[start : svg.find('>', start)]:
        svg = f'{svg[: start + 4]} xmlns="{SVG_NAMESPACE}"{svg[start + 4 :]}'
    return 'data:image/svg+xml;base64,' + base64.b64encode(svg.encode('utf-8')).decode('ascii')
