"""The audit trail: one JSON line per authentication decision, on the logger ``panther_like.audit``.

Why a separate logger: security events have a different audience (a SIEM,
an incident responder) and retention from the application log; a logger
of their own lets a deployment route them elsewhere without touching the
rest (see docs/security.md, "Shipping the audit log").

Why JSON: one self-describing object per line is what log shippers
(Vector, Fluent Bit, the CloudWatch/Datadog/Loki agents) parse without a
custom grammar, and escaping makes a hostile value unable to forge a line.

What a line holds: ``ts``, ``event`` (``auth.failure``, ``login``,
``login.failure``, ``login.throttled``, ``logout``, ``refresh``,
``refresh.repeat``, ``refresh.failure``, ``password_reset...``, ``verify...``, ``mail.sent``,
``mail.failure``), ``reason``, ``user_id`` (when known from a verified
token or the user record), ``client``, ``method``, ``path`` (never the
query string, which may carry a token) and event-specific fields. Never a
token, a password or a username as typed: callers pass none, and the
fields are fixed.

This module also keeps credentials out of the *server's* log:
`install_log_redaction` masks the values of credential query parameters
(``authorization``, ``access_token``, ``apikey``, ``X-API-Key``... and the
``param_name`` of every `APIKeyQuery`, names compared after
percent-decoding, so ``access%5Ftoken`` is no way around it) and anything
shaped like a JWT in uvicorn's access and handshake lines (uvicorn logs
``"WebSocket /ws/echo?authorization=<jwt>" [accepted]`` at INFO).
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_plus

import orjson

if TYPE_CHECKING:
    from panther_like.http.request import HTTPConnection

logger = logging.getLogger('panther_like.audit')

MAX_FIELD_LENGTH = 200


def _short(value: Any) -> Any:
    if isinstance(value, str) and len(value) > MAX_FIELD_LENGTH:
        return value[:MAX_FIELD_LENGTH] + '...'
    return value


def log_event(
    event: str,
    *,
    request: HTTPConnection | None = None,
    reason: str | None = None,
    user_id: str | None = None,
    **fields: Any,
) -> None:
    """Write one audit line; `request` (HTTP request or websocket) gives client, method and path."""
    if not logger.isEnabledFor(logging.INFO):
        return
    record: dict[str, Any] = {
        'ts': datetime.fromtimestamp(time.time(), UTC).isoformat(timespec='milliseconds'),
        'event': event,
        'reason': _short(reason),
        'user_id': _short(user_id),
    }
    if request is not None:
        scope = getattr(request, 'scope', {}) or {}
        client = scope.get('client')
        record['client'] = client[0] if client else None
        record['method'] = scope.get('method', 'WEBSOCKET' if scope.get('type') == 'websocket' else None)
        record['path'] = _short(scope.get('path'))
    for name, value in fields.items():
        record[name] = _short(value)
    line = orjson.dumps(record, default=str).decode()
    logger.info(line, extra={'audit': record})


def session_ref(session_id: str) -> str:
    """A short digest of a session id: correlates login, refresh and logout lines without the id itself."""
    return hashlib.sha256(session_id.encode()).hexdigest()[:16]


# -- keeping credentials out of the server log ------------------------------------------------

# Which query parameter names carry a credential: a rule, not a list, so that ``accessToken``,
# ``reset_token``, ``new_password`` or ``private_key`` are caught as well as ``token`` itself. A name
# is percent-decoded, split into words at camelCase humps and at '_', '-', ' ' and '.', and masked
# when any of its words belongs to a credential family below. Every `APIKeyQuery` adds its own name
# when it is created (`register_credential_param`), and projects may add theirs the same way.
CREDENTIAL_WORDS = frozenset(
    {
        'authorization', 'auth', 'bearer', 'token', 'jwt', 'credential', 'credentials',
        'password', 'passwd', 'pwd', 'pass', 'passphrase', 'secret', 'otp', 'code',
        'key', 'apikey', 'sessionid', 'session', 'csrftoken', 'signature', 'sig',
    }
)  # fmt: skip
_registered_params: set[str] = set()
# name=value where name starts a query (after '?', '&' or ';') or a logged word; value up to '&' or a blank.
_PARAM = re.compile(r'(?:(?<=[?&;\s"])|^)([^=&;?\s"]{1,200})=([^&\s"]*)')
_SEPARATORS = str.maketrans({'-': '_', ' ': '_', '.': '_'})
_HUMP = re.compile(r'(?<=[a-z0-9])(?=[A-Z])')
_JWT = re.compile(r'eyJ[A-Za-z0-9_\-%]*\.[A-Za-z0-9_\-%]*\.?[A-Za-z0-9_\-%]*')
REDACTED = '***'


def _normalized(name: str) -> str:
    return _HUMP.sub('_', unquote_plus(name).strip()).lower().translate(_SEPARATORS)


def register_credential_param(name: str) -> None:
    """Mask the query parameter `name` in the server's log from now on (an `APIKeyQuery` calls it)."""
    _registered_params.add(_normalized(name))


def is_credential_param(name: str) -> bool:
    """Whether a parameter of this name is masked: one of its words is a credential's, or it was registered."""
    normalized = _normalized(name)
    return normalized in _registered_params or not CREDENTIAL_WORDS.isdisjoint(normalized.split('_'))


def _mask(match: re.Match[str]) -> str:
    return match.group(1) + '=' + REDACTED if is_credential_param(match.group(1)) else match.group(0)


def redact(text: str) -> str:
    """`text` with credential query values and JWT-shaped strings replaced by ``***``."""
    if '=' in text:
        text = _PARAM.sub(_mask, text)
    if 'eyJ' in text:
        text = _JWT.sub(REDACTED, text)
    return text


class RedactCredentials(logging.Filter):
    """Masks credentials in a record's message and string arguments (formatters still get their args)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(arg) if isinstance(arg, str) else arg for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: redact(arg) if isinstance(arg, str) else arg for key, arg in record.args.items()}
        return True


REDACTED_LOGGERS = ('uvicorn.access', 'uvicorn.error', 'panther_like')


def install_log_redaction() -> None:
    """Add `RedactCredentials` to the loggers that print request lines (idempotent)."""
    for name in REDACTED_LOGGERS:
        target = logging.getLogger(name)
        if not any(isinstance(existing, RedactCredentials) for existing in target.filters):
            target.addFilter(RedactCredentials())
