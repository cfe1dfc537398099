"""Every error the framework raises on purpose.

Three families live here. `ConfigError` is raised while the app is built and
never reaches a client. `APIError` and its subclasses are raised while a
request is handled; the app turns each into a JSON response whose body is
``{"detail": ...}`` with the error's status code, so a handler, a model or
an authentication class can stop a request from anywhere by raising.
`DomainError` and its subclasses are raised by the layers that know nothing
of HTTP (the stores, the username rules); the app maps each to a status in
one place (`panther_like.app.dispatch`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from panther_like import status

HIDDEN = '<hidden>'
#: A name holding one of these words holds a secret: its value is never shown.
_SECRET_WORDS = ('key', 'secret', 'password', 'passwd', 'token', 'credential')
_SUBSCRIPT = re.compile(r"\[(?:'([^']*)'|\"([^\"]*)\")\]")
_URL_PASSWORD = re.compile(r'(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^/@:\s]*:)(?P<password>[^@/\s]+)(?=@)')


class ConfigError(Exception):
    """A setting is wrong; raised at build time, naming setting, value and reason.

    The message is printed by the command line and shown in tracebacks, so
    it never holds a secret, whoever raised the error: where the setting's
    name (or a dict key inside the value) names a key, secret, password or
    token, its value is shown as ``'<hidden>'``, a password in a URL as
    ``***``, and either is also struck from the reason.
    """

    def __init__(self, setting: str, value: object, reason: str) -> None:
        secrets: list[str] = []
        value = _masked(value, secrets, hide=secret_name(setting))
        for secret in sorted(set(secrets), key=len, reverse=True):
            reason = reason.replace(secret, HIDDEN)
        self.setting = setting
        self.value = value
        self.reason = reason
        message = f'Invalid {setting!r}: {reason}'
        if repr(value) not in reason and str(value) not in reason:
            message += f' (got {value!r})'
        super().__init__(message)


def secret_name(setting: str) -> bool:
    """Whether a setting (``'SECRET_KEY'``, ``"REDIS['password']"``) or dict key names a secret.

    Route labels (``"auth of 'tokens/'"``, anything with a space) name no secret.
    """
    if not isinstance(setting, str) or ' ' in setting:
        return False
    parts = [setting.partition('[')[0], *(a or b for a, b in _SUBSCRIPT.findall(setting))]
    return any(word in part.lower() for part in parts for word in _SECRET_WORDS)


def _masked(value: object, secrets: list[str], *, hide: bool) -> object:
    """`value` with every secret in it replaced; each secret text is added to `secrets`."""
    if value == HIDDEN:
        return value
    if hide and value is not None and not isinstance(value, bool):
        _collect(value, secrets)
        return HIDDEN
    if isinstance(value, str):

        def hide_password(match: re.Match[str]) -> str:
            secrets.append(match['password'])
            return f'{match["head"]}***'

        return _URL_PASSWORD.sub(hide_password, value)
    if isinstance(value, Mapping):
        return {
            key: _masked(item, secrets, hide=isinstance(key, str) and secret_name(key)) for key, item in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        items = [_masked(item, secrets, hide=False) for item in value]
        return items if isinstance(value, list) else tuple(items)
    return value


def _collect(value: object, secrets: list[str]) -> None:
    """Every text inside a hidden value, long enough to find again in a reason (its repr too)."""
    if isinstance(value, bytes):
        value = value.decode('utf-8', 'replace')
    if isinstance(value, int | float):
        value = str(value)
    if isinstance(value, str):
        if len(value) >= 4:
            secrets.extend((repr(value), value))
    elif isinstance(value, Mapping):
        for item in value.values():
            _collect(item, secrets)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            _collect(item, secrets)


class APIError(Exception):
    """An error that becomes a JSON response: ``{"detail": detail}`` with `status_code`."""

    status_code: int = status.HTTP_400_BAD_REQUEST
    detail: str = 'Bad request'

    def __init__(
        self,
        detail: str | None = None,
        status_code: int | None = None,
        headers: Mapping[str, str | list[str]] | None = None,
    ) -> None:
        if detail is not None:
            self.detail = detail
        if status_code is not None:
            self.status_code = status_code
        #: Response headers; a list is several values of one header (``WWW-Authenticate`` challenges).
        self.headers: dict[str, str | list[str]] = dict(headers or {})
        super().__init__(self.detail)

    def body(self) -> dict[str, object]:
        """The JSON body of the response this error becomes."""
        return {'detail': self.detail}


class BadRequestAPIError(APIError):
    status_code = status.HTTP_400_BAD_REQUEST
    detail = 'Bad request'


class AuthenticationAPIError(APIError):
    """401: the request carries no credentials, or credentials that do not hold."""

    status_code = status.HTTP_401_UNAUTHORIZED
    detail = 'Authentication required'
    #: True when no credential was sent at all (a list then prefers another item's reason).
    missing_credentials: bool = False
    #: The account a refused credential belonged to, when that is known from verified claims (audit log).
    user_id: str | None = None


class AuthorizationAPIError(APIError):
    """403: the caller is known but not allowed."""

    status_code = status.HTTP_403_FORBIDDEN
    detail = 'Permission denied'


class NotFoundAPIError(APIError):
    status_code = status.HTTP_404_NOT_FOUND
    detail = 'Not found'


class MethodNotAllowedAPIError(APIError):
    status_code = status.HTTP_405_METHOD_NOT_ALLOWED
    detail = 'Method not allowed'


class PayloadTooLargeAPIError(APIError):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    detail = 'Request body too large'


class ValidationAPIError(APIError):
    """422: well-formed input that is not what a model declares; `errors` names each field.

    Built by `panther_like.http.validation.invalid` from a pydantic error, so the
    shape is the same for a request body, a model write and a query.
    """

    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    detail = 'Invalid input'

    def __init__(self, detail: str | None = None, errors: list[dict[str, object]] | None = None) -> None:
        self.errors = list(errors or [])
        super().__init__(detail)

    def body(self) -> dict[str, object]:
        return {'detail': self.detail, 'errors': self.errors}


class DomainError(Exception):
    """A rule below the web layer was broken: a taken unique key, a store that does not answer, a bad username.

    Not an `APIError`: the stores and the username rules know nothing of
    HTTP. The app gives each one its status in one place
    (`panther_like.app.dispatch`); the response body is ``{"detail": detail}``.
    """

    def __init__(self, detail: str) -> None:
        #: What went wrong, in a sentence a client or an operator may read (never a secret).
        self.detail = detail
        super().__init__(detail)


class DuplicateKeyError(DomainError):
    """A unique field already holds this value (a taken username, say); the app answers 409."""

    def __init__(self, field: str) -> None:
        self.field = field
        super().__init__(f'{field} already exists')


class StoreUnavailableError(DomainError):
    """The database or Redis did not answer in time; the app answers 503, and the process stays up."""

    def __init__(self, store: str, reason: str = 'unreachable') -> None:
        self.store = store
        self.reason = reason
        super().__init__(f'{store} is unavailable ({reason}); try again shortly')
