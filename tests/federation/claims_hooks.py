"""Claims hooks named by dotted path in the tests' ``JWTConfig['claims']``."""

from __future__ import annotations

from typing import Any


async def tenant(user: Any) -> dict[str, Any]:
    return {'tenant': f'tenant-of-{user.username}', 'roles': ['reader']}


async def sets_the_subject(user: Any) -> dict[str, Any]:
    return {'sub': user.username}


def not_async(user: Any) -> dict[str, Any]:
    return {}
