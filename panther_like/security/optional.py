"""Optional authentication: the principal when credentials hold, ``None`` when none were sent.

``auth=OptionalAuth(MyBearer())`` and ``auth=[MyBearer(), ANONYMOUS]`` mean
the same: try the authenticators in order and, if none succeeds and no
credential was sent at all, run the handler with ``request.user = None``
(FastAPI's ``auto_error=False``, without having to write the fallback in
every handler). A credential that was sent and does not hold (an expired,
revoked or garbage bearer) is a 401, as on a route that requires it: a
handler that checks "is this the caller's own?" only when someone is logged
in must never see a bad credential as "nobody". What counts as "not sent"
is an authenticator raising `CredentialsMissing` (or a custom class or
callable answering None). A 403 from an authenticator (a failed CSRF
check, a non-staff user) still stops the request: optional means
"anonymous is fine", not "refusals are ignored".
"""

from __future__ import annotations

from typing import Any


class _Anonymous:
    """Last item of an ``auth=`` list: "nobody" is an acceptable answer."""

    _instance: _Anonymous | None = None

    def __new__(cls) -> _Anonymous:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return 'ANONYMOUS'


ANONYMOUS: Any = _Anonymous()


class OptionalAuth:
    """``OptionalAuth(auth)``: `auth` (anything ``auth=`` takes, a list too) made optional."""

    __slots__ = ('auth',)

    def __init__(self, auth: Any) -> None:
        if auth is None or auth is ANONYMOUS or isinstance(auth, OptionalAuth):
            raise ValueError(f'OptionalAuth needs an authenticator, not {auth!r}')
        self.auth = auth

    def as_list(self) -> list[Any]:
        items = list(self.auth) if isinstance(self.auth, list | tuple) else [self.auth]
        return [*items, ANONYMOUS]

    def __repr__(self) -> str:
        return f'OptionalAuth({self.auth!r})'
