"""Tokens made by hand, the way an attacker (or a clock) would make them."""

from __future__ import annotations

import base64
import secrets
import time
from typing import Any

import jwt
import orjson


def claims(user_id: str = 'someone', token_type: str = 'access', **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    payload = {
        'user_id': user_id,
        'token_type': token_type,
        'iat': now,
        'exp': now + 600,
        'jti': secrets.token_urlsafe(8),
        'sid': secrets.token_urlsafe(8),
    }
    payload.update(overrides)
    return {k: v for k, v in payload.items() if v is not None}


def signed(payload: dict[str, Any], key: str, algorithm: str = 'HS256') -> str:
    return jwt.encode(payload, key, algorithm=algorithm)


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(data)).rstrip(b'=').decode()


def unsigned(payload: dict[str, Any]) -> str:
    """``alg: none``: a header, a payload and an empty signature."""
    return f'{_b64({"alg": "none", "typ": "JWT"})}.{_b64(payload)}.'


def tampered(token: str, **changes: Any) -> str:
    """The same header and signature over a changed payload."""
    header, payload, signature = token.split('.')
    data = orjson.loads(base64.urlsafe_b64decode(payload + '=' * (-len(payload) % 4)))
    data.update(changes)
    return f'{header}.{_b64(data)}.{signature}'
