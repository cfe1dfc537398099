"""What every peer target shares: the key, the users dict, the token shape and its check.

Peers look the user up in an in-process dict; panther_like looks it up in
its own configured store. ``BENCH_USERS=N`` adds N more users to the dict
(ids from `rotated_user_id`), for the shape where every request carries the
token of another user. Tokens have panther_like's claim shape
(user_id, token_type, iat, exp, jti, sid), HS256, made with PyJWT.
"""

from __future__ import annotations

import os
import secrets
import time
from typing import Any

import jwt

SECRET_KEY = os.environ.get('BENCH_SECRET_KEY', 'bench-secret-key-0123456789abcdef0123456789abcdef')
ALGORITHMS = ['HS256']
PUBLIC_BODY = {'message': 'hello'}
USER_ID = '65f000000000000000000001'
USERS: dict[str, dict[str, str]] = {USER_ID: {'id': USER_ID, 'username': 'bench'}}


def rotated_user_id(n: int) -> str:
    """The id of the n-th user of the rotated-token shape (24 hex digits, like an ObjectId)."""
    return f'65f1{n:020x}'


def rotated_username(n: int) -> str:
    return f'bench-user-{n}'


for _n in range(int(os.environ.get('BENCH_USERS') or 0)):
    USERS[rotated_user_id(_n)] = {'id': rotated_user_id(_n), 'username': rotated_username(_n)}


def make_token(user_id: str = USER_ID, *, key: str = SECRET_KEY, token_type: str = 'access', life: int = 86400) -> str:
    now = int(time.time())
    claims = {
        'user_id': user_id,
        'token_type': token_type,
        'iat': now,
        'exp': now + life,
        'jti': secrets.token_urlsafe(16),
        'sid': secrets.token_urlsafe(16),
    }
    return jwt.encode(claims, key, algorithm='HS256')


def user_for_token(token: str) -> dict[str, str] | None:
    """The user a valid access token names, else None (PyJWT verifies signature and exp)."""
    try:
        claims = jwt.decode(token, SECRET_KEY, algorithms=ALGORITHMS)
    except jwt.PyJWTError:
        return None
    if claims.get('token_type') != 'access':
        return None
    return USERS.get(claims.get('user_id'))


def bearer_token(header: str | None) -> str | None:
    if not header:
        return None
    parts = header.split()
    if len(parts) != 2 or parts[0].lower() != 'bearer':
        return None
    return parts[1]


def private_body(user: Any) -> dict[str, str]:
    return {'id': user['id'], 'username': user['username']}
