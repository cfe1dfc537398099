"""Per-route security objects, the way Django Ninja users know them.

``@API(auth=MyBearer())``, ``auth=[APIKeyHeader(), SessionAuth()]``,
``auth=OptionalAuth(MyBearer())``: each object extracts a credential and
calls the ``authenticate`` you write. See docs/per-route-security.md.
"""

from panther_like.security.apikey import APIKeyBase, APIKeyCookie, APIKeyHeader, APIKeyQuery
from panther_like.security.base import (
    AuthBase,
    AuthErrorResponse,
    CredentialsMissing,
    SecurityObject,
    disabled_account,
    refuse_disabled,
)
from panther_like.security.http import HttpBasicAuth, HttpBearer
from panther_like.security.oidc import OIDCBearer
from panther_like.security.optional import ANONYMOUS, OptionalAuth
from panther_like.security.session import (
    SessionAuth,
    SessionAuthIsStaff,
    SessionAuthSuperUser,
    login_session,
    logout_session,
)

__all__ = [
    'ANONYMOUS',
    'APIKeyBase',
    'APIKeyCookie',
    'APIKeyHeader',
    'APIKeyQuery',
    'AuthBase',
    'AuthErrorResponse',
    'CredentialsMissing',
    'HttpBasicAuth',
    'HttpBearer',
    'OIDCBearer',
    'OptionalAuth',
    'SecurityObject',
    'SessionAuth',
    'SessionAuthIsStaff',
    'SessionAuthSuperUser',
    'disabled_account',
    'login_session',
    'logout_session',
    'refuse_disabled',
]
