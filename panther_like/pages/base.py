"""What every page route shares: its declaration, reading its form, the guards of a form post, the notices."""

from __future__ import annotations

from typing import ClassVar

from panther_like import status
from panther_like.exceptions import BadRequestAPIError
from panther_like.http.origins import origin_allowed
from panther_like.http.request import FORM_CONTENT_TYPE, Request
from panther_like.http.response import Response
from panther_like.pages.render import Safe, fill, form_token_matches, page, settings_of
from panther_like.routing.api import GenericAPI
from panther_like.security.csrf import CSRF_COOKIE

FOREIGN_ORIGIN = 'This form was sent from another site, and refused.'
STALE_FORM = 'This form has expired or was not sent by this site: reload the page and try again.'

#: The short notices a redirect may ask for (``?done=...``): fixed words, never text from the address.
NOTICES = {
    'signed-up': 'Your account is ready: sign in.',
    'signed-out': 'You are signed out.',
    'reset': 'Your password is set: sign in with it.',
    'password': 'Your password is changed; every other session has ended.',
    'reauthenticated': 'Thank you. You can go on with the change now.',
    'totp-removed': 'Two-step sign-in is off.',
    'email': 'Check the new address: the change waits for the link we sent there.',
    'session-ended': 'That session is signed out.',
    'passkey-added': 'Your passkey is added.',
    'passkey-renamed': 'The passkey is renamed.',
    'passkey-removed': 'The passkey is removed.',
}


class PageAPI(GenericAPI):
    """A page: no authentication of its own (it asks the account routes), and no place in the OpenAPI document."""

    auth = None
    include_in_schema: ClassVar[bool] = False


def read_form(request: Request) -> dict[str, str]:
    """The posted form; anything else (another content type, a broken body) as an empty one, which no check passes."""
    if request.content_type != FORM_CONTENT_TYPE:
        return {}
    try:
        return request.form
    except BadRequestAPIError:
        return {}


def second_factor_field(entered: str) -> dict[str, str]:
    """One form field for both kinds of code: an authenticator's code is all digits, a recovery code never is."""
    code = entered.strip().replace(' ', '')
    return {'code' if code.isdigit() else 'recovery_code': code}


def notice_of(request: Request) -> str | None:
    return NOTICES.get(request.query_params.get('done', ''))


def session_csrf(request: Request) -> str:
    """The login session's CSRF token, put into the forms of a signed-in page; the account routes check it."""
    return request.cookies.get(CSRF_COOKIE, '')


def refused(request: Request, form: dict[str, str], *, anonymous: bool) -> Response | None:
    """A 403 page for a post from another site, or (before a login) without the form's token; else None.

    A signed-in form's token is checked by the account route the post is handed to, as for any cookie request.
    """
    if not origin_allowed(request):
        return problem(request, FOREIGN_ORIGIN)
    if anonymous and not form_token_matches(request, form):
        return problem(request, STALE_FORM)
    return None


def problem(request: Request, message: str, status_code: int = status.HTTP_403_FORBIDDEN) -> Response:
    settings_of(request)
    content = fill(request, 'problem.html')
    return page(request, 'Something went wrong', Safe(content), status_code=status_code, error=message)
