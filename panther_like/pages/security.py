"""The security page of a signed-in user, and the forms on it.

The page is drawn from what the JSON routes answer the browser's own cookie
(``me``, ``mfa``, ``sessions``, ``passkeys``); each form is handed to the
route that does the change, with the form's CSRF token as the
``X-CSRFToken`` header, so the route checks it against the login session.
A change that needs a recent authentication answers with the page and its
"Confirm it's you" form (the step-up), which renews the session with the
password through ``reauthenticate``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from panther_like import status
from panther_like.http.request import Request
from panther_like.http.response import Response
from panther_like.pages.base import PageAPI, notice_of, problem, read_form, refused, second_factor_field, session_csrf
from panther_like.pages.entry import PASSKEY_SCRIPT, data_uri, has_passkeys
from panther_like.pages.inner import Answer, call_route
from panther_like.pages.render import Safe, escape, fill, join, mount_of, page, redirect, settings_of

#: What a session or passkey id in a page's address may be: anything else never reaches a route.
ID_PATTERN = re.compile(r'[A-Za-z0-9_-]{1,1400}')  # a credential id is at most 1023 bytes
STEP_UP_NEEDED = 'This change needs a recent sign-in: confirm your password below, then make it again.'


def when(value: Any) -> str:
    """A time a route answered (ISO text or seconds since 1970) as the page shows it."""
    if value is None or value == '':
        return 'never'
    try:
        moment = (
            datetime.fromtimestamp(float(value), UTC)
            if isinstance(value, int | float)
            else datetime.fromisoformat(str(value))
        )
    except (ValueError, OverflowError, OSError):
        return str(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime('%Y-%m-%d %H:%M UTC')


def _rows(answer: Answer | None) -> list[Mapping[str, Any]]:
    if answer is None or not answer.ok or not isinstance(answer.body, list):
        return []
    return [row for row in answer.body if isinstance(row, Mapping)]


def _has_totp(mfa: Answer) -> bool:
    if not mfa.ok or not isinstance(mfa.body, Mapping):
        return False
    factors = [factor for factor in mfa.body.get('factors') or () if isinstance(factor, Mapping)]
    return any(factor.get('type') == 'totp' and factor.get('confirmed') for factor in factors)


def _recovery_codes_left(mfa: Answer) -> object:
    return mfa.body.get('recovery_codes_remaining', 0) if mfa.ok and isinstance(mfa.body, Mapping) else 0


def _totp(request: Request, mfa: Answer, csrf: str) -> str:
    if not mfa.ok or not isinstance(mfa.body, Mapping):
        return ''
    if _has_totp(mfa):
        return fill(request, 'totp_on.html', csrf=csrf, remaining=_recovery_codes_left(mfa))
    return fill(request, 'totp_off.html', csrf=csrf)


def _passkeys(request: Request, answer: Answer | None, mfa: Answer, csrf: str) -> str:
    if answer is None or not answer.ok:
        return ''
    # A passkey is a second factor: without TOTP (whose card offers them) its recovery codes are offered here.
    recovery = ''
    if _rows(answer) and not _has_totp(mfa):
        recovery = fill(request, 'passkey_recovery.html', csrf=csrf, remaining=_recovery_codes_left(mfa))
    rows = [
        fill(
            request,
            'passkey_row.html',
            csrf=csrf,
            id=str(row.get('id', '')),
            name=str(row.get('name') or 'Passkey'),
            created=when(row.get('created')),
            last_used=when(row.get('last_used')),
        )
        for row in _rows(answer)
    ]
    return fill(request, 'passkeys.html', rows=join(rows), recovery=Safe(recovery))


def _sessions(request: Request, answer: Answer, csrf: str) -> list[Safe]:
    rows = []
    for row in _rows(answer):
        current = row.get('current') is True
        rows.append(
            fill(
                request,
                'session_row.html',
                csrf=csrf,
                device=(row.get('user_agent') or 'Unknown browser')[:120] + (' (this device)' if current else ''),
                client=row.get('client') or 'unknown address',
                created=when(row.get('created')),
                last_used=when(row.get('last_used')),
                action='logout' if current else f'sessions/{row.get("sid", "")}/end',
                button='Sign out this device' if current else 'Sign out',
            )
        )
    return rows


async def security_page(
    request: Request,
    *,
    error: str | None = None,
    status_code: int = status.HTTP_200_OK,
    step_up: bool = False,
) -> Response:
    """The page, or a 303 to the sign-in page for a browser that is not signed in."""
    settings_of(request)
    mount = mount_of(request)
    me = await call_route(request, mount, 'me', 'GET')
    if me.status == status.HTTP_401_UNAUTHORIZED or not isinstance(me.body, Mapping):
        return redirect(mount + 'ui/login')
    if not me.ok:
        return problem(request, me.detail(), me.status)
    csrf = session_csrf(request)
    mfa = await call_route(request, mount, 'mfa', 'GET')
    sessions = await call_route(request, mount, 'sessions', 'GET')
    passkeys = await call_route(request, mount, 'passkeys', 'GET') if has_passkeys(request) else None
    email = ''
    if 'email' in me.body:
        pending = me.body.get('pending_email')
        waiting = f' (waiting for confirmation: {pending})' if pending else ''
        email = fill(request, 'email.html', csrf=csrf, current=me.body.get('email') or 'none', pending=waiting)
    content = fill(
        request,
        'security.html',
        csrf=csrf,
        username=me.body.get('username', ''),
        step_up=Safe(fill(request, 'step_up.html', csrf=csrf) if step_up else ''),
        totp=Safe(_totp(request, mfa, csrf)),
        passkeys=Safe(_passkeys(request, passkeys, mfa, csrf)),
        email=Safe(email),
        sessions=join(_sessions(request, sessions, csrf)),
    )
    return page(
        request,
        'Your account and security',
        content,
        status_code=status_code,
        error=error,
        notice=None if error else notice_of(request),
        scripts=PASSKEY_SCRIPT if passkeys is not None else (),
    )


async def _act(
    request: Request, route: str, method: str, body: Mapping[str, Any] | None, done: str, *, leave: bool = False
) -> tuple[Answer | None, Response]:
    """Hand the form to `route`; on success a 303 (to sign in again when `leave`), else the page with the refusal."""
    form = read_form(request)
    if (refusal := refused(request, form, anonymous=False)) is not None:
        return None, refusal
    mount = mount_of(request)
    answer = await call_route(request, mount, route, method, body, csrf=form.get('csrf', ''))
    if answer.ok:
        target = f'{mount}ui/login?done={done}' if leave else f'{mount}ui/security?done={done}'
        return answer, redirect(target, answer.set_cookies)
    return answer, await _refusal(request, answer)


async def _refusal(request: Request, answer: Answer) -> Response:
    if answer.flag('reauthentication_required'):
        return await security_page(request, error=STEP_UP_NEEDED, status_code=answer.status, step_up=True)
    return await security_page(request, error=answer.detail(), status_code=answer.status)


class Security(PageAPI):
    async def get(self, request: Request) -> Response:
        # ``?confirm=1``: the passkey script was told the change needs a recent sign-in.
        if request.query_params.get('confirm') == '1':
            return await security_page(request, error=STEP_UP_NEEDED, step_up=True)
        return await security_page(request)


class ChangePassword(PageAPI):
    async def post(self, request: Request) -> Response:
        settings_of(request)
        form = read_form(request)
        body = {'current_password': form.get('current_password', ''), 'new_password': form.get('new_password', '')}
        return (await _act(request, 'password/change', 'POST', body, 'password'))[1]


class ChangeEmail(PageAPI):
    async def post(self, request: Request) -> Response:
        settings_of(request)
        return (await _act(request, 'me', 'PATCH', {'email': read_form(request).get('email', '')}, 'email'))[1]


class Reauthenticate(PageAPI):
    async def post(self, request: Request) -> Response:
        settings_of(request)
        body = {'password': read_form(request).get('password', '')}
        return (await _act(request, 'reauthenticate', 'POST', body, 'reauthenticated'))[1]


class SignOut(PageAPI):
    async def post(self, request: Request) -> Response:
        settings_of(request)
        return (await _act(request, 'logout', 'POST', None, 'signed-out', leave=True))[1]


class SignOutEverywhere(PageAPI):
    async def post(self, request: Request) -> Response:
        settings_of(request)
        return (await _act(request, 'logout-all', 'POST', None, 'signed-out', leave=True))[1]


class EndSession(PageAPI):
    async def post(self, request: Request, sid: str) -> Response:
        settings_of(request)
        if not ID_PATTERN.fullmatch(sid):
            return problem(request, 'There is no such session.', status.HTTP_404_NOT_FOUND)
        return (await _act(request, f'sessions/{sid}', 'DELETE', None, 'session-ended'))[1]


class RenamePasskey(PageAPI):
    async def post(self, request: Request, passkey: str) -> Response:
        settings_of(request)
        if not ID_PATTERN.fullmatch(passkey):
            return problem(request, 'There is no such passkey.', status.HTTP_404_NOT_FOUND)
        body = {'name': read_form(request).get('name', '')}
        return (await _act(request, f'passkeys/{passkey}', 'PATCH', body, 'passkey-renamed'))[1]


class RemovePasskey(PageAPI):
    async def post(self, request: Request, passkey: str) -> Response:
        settings_of(request)
        if not ID_PATTERN.fullmatch(passkey):
            return problem(request, 'There is no such passkey.', status.HTTP_404_NOT_FOUND)
        return (await _act(request, f'passkeys/{passkey}', 'DELETE', None, 'passkey-removed'))[1]


# -- the authenticator app: set-up, confirmation, recovery codes, removal ---------------------------------


def _codes_page(request: Request, answer: Answer) -> Response:
    codes = answer.body.get('recovery_codes') if isinstance(answer.body, Mapping) else None
    items = [Safe(f'<li><code>{escape(code)}</code></li>') for code in codes or ()]
    return page(request, 'Your recovery codes', fill(request, 'recovery_codes.html', codes=join(items)))


def _setup_page(
    request: Request, csrf: str, new: Mapping[str, Any] | None, *, error: str | None = None, status_code: int = 200
) -> Response:
    qr = ''
    if new is not None:
        qr = fill(request, 'totp_qr.html', qr_src=data_uri(str(new.get('qr_svg', ''))), secret=new.get('secret', ''))
    content = fill(request, 'totp_setup.html', csrf=csrf, qr=Safe(qr))
    return page(request, 'Set up an authenticator app', content, status_code=status_code, error=error)


class BeginTOTP(PageAPI):
    async def post(self, request: Request) -> Response:
        settings_of(request)
        form = read_form(request)
        if (refusal := refused(request, form, anonymous=False)) is not None:
            return refusal
        answer = await call_route(request, mount_of(request), 'mfa/totp', 'POST', None, csrf=form.get('csrf', ''))
        if not answer.ok or not isinstance(answer.body, Mapping):
            return await _refusal(request, answer)
        return _setup_page(request, form.get('csrf', ''), answer.body)


class ConfirmTOTP(PageAPI):
    async def post(self, request: Request) -> Response:
        settings_of(request)
        form = read_form(request)
        if (refusal := refused(request, form, anonymous=False)) is not None:
            return refusal
        body = {'code': form.get('code', '').strip().replace(' ', '')}
        answer = await call_route(request, mount_of(request), 'mfa/totp/confirm', body=body, csrf=form.get('csrf', ''))
        if answer.ok:
            return _codes_page(request, answer)
        if answer.status == status.HTTP_400_BAD_REQUEST:  # a wrong code: the app still shows the right ones
            return _setup_page(request, form.get('csrf', ''), None, error=answer.detail(), status_code=answer.status)
        return await _refusal(request, answer)


class RemoveTOTP(PageAPI):
    async def post(self, request: Request) -> Response:
        settings_of(request)
        body = second_factor_field(read_form(request).get('code', ''))
        return (await _act(request, 'mfa/totp', 'DELETE', body, 'totp-removed'))[1]


class NewRecoveryCodes(PageAPI):
    async def post(self, request: Request) -> Response:
        settings_of(request)
        form = read_form(request)
        if (refusal := refused(request, form, anonymous=False)) is not None:
            return refusal
        answer = await call_route(request, mount_of(request), 'mfa/recovery-codes', csrf=form.get('csrf', ''))
        if answer.ok:
            return _codes_page(request, answer)
        return await _refusal(request, answer)
