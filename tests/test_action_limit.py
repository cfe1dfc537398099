"""`LoginThrottle.limit`: requests of one kind (a reset e-mail, a verification e-mail) per subject and address."""

from __future__ import annotations

import pytest

from panther_like import Panther
from panther_like.http.request import Request
from panther_like.login_state.throttle import ActionLimit, TooManyAttemptsAPIError
from tests.settings import settings_module

LIMIT = ActionLimit(per_subject=2, per_address=3, window=60)


@pytest.fixture
async def throttle(tmp_path):
    app = Panther(settings_module(DATABASE={'path': str(tmp_path / 'limit.sqlite3')}), urls={})
    await app.startup()
    yield app.login_throttle
    await app.shutdown()


def from_address(address: str) -> Request:
    return Request({'type': 'http', 'method': 'POST', 'path': '/', 'headers': [], 'client': (address, 1)})


async def test_requests_beyond_the_limit_per_subject_get_429_with_retry_after(throttle):
    for _ in range(2):
        await throttle.limit(from_address('10.0.0.1'), 'password_reset', 'ann', LIMIT)
    with pytest.raises(TooManyAttemptsAPIError) as refused:
        await throttle.limit(from_address('10.0.0.2'), 'password_reset', 'ann', LIMIT)
    assert 1 <= refused.value.retry_after <= 60
    assert refused.value.headers['Retry-After'] == str(refused.value.retry_after)


async def test_requests_beyond_the_limit_per_address_get_429_whatever_the_subject(throttle):
    for name in ('a', 'b', 'c'):
        await throttle.limit(from_address('10.0.0.3'), 'verify', name, LIMIT)
    with pytest.raises(TooManyAttemptsAPIError):
        await throttle.limit(from_address('10.0.0.3'), 'verify', 'd', LIMIT)


async def test_each_action_counts_on_its_own(throttle):
    for _ in range(2):
        await throttle.limit(from_address('10.0.0.4'), 'password_reset', 'bob', LIMIT)
    await throttle.limit(from_address('10.0.0.4'), 'verify', 'bob', LIMIT)
