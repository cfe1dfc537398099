"""Every error the framework raises on purpose.

Two families live here. `ConfigError` is raised while the app is built and
never reaches a client. `APIError` and its subclasses are raised while a
request is handled; the app turns each into a JSON response whose body is
``{"detail": ...}`` with the error's status code, so a handler, a model or
an authentication class can stop a request from anywhere by raising.
"""

from __future__ import annotations

from collections.abc import Mapping

from panther_like import status


class ConfigError(Exception):
    """A setting is wrong; raised at build time, naming setting, value and reason."""

    def __init__(self, setting: str, value: object, reason: str) -> None:
        self.setting = setting
        self.value = value
        self.reason = reason
        message = f'Invalid {setting!r}: {reason}'
        if repr(value) not in reason and str(value) not in reason:
            message += f' (got {value!r})'
        super().__init__(message)


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

    Built by `panther_like.validation.invalid` from a pydantic error, so the
    shape is the same for a request body, a model write and a query.
    """

    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    detail = 'Invalid input'

    def __init__(self, detail: str | None = None, errors: list[dict[str, object]] | None = None) -> None:
        self.errors = list(errors or [])
        super().__init__(detail)

    def body(self) -> dict[str, object]:
        return {'detail': self.detail, 'errors': self.errors}


class DuplicateKeyError(APIError):
    """A unique field already holds this value (a taken username, say): 409."""

    status_code = status.HTTP_409_CONFLICT

    def __init__(self, field: str) -> None:
        self.field = field
        super().__init__(detail=f'{field} already exists')


class StoreUnavailableError(APIError):
    """The database or Redis did not answer in time: 503, and the process stays up."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE

    def __init__(self, store: str, reason: str = 'unreachable') -> None:
        self.store = store
        super().__init__(detail=f'{store} is unavailable ({reason}); try again shortly')
