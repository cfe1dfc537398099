"""``REDIS`` through Sentinel, against a real primary, replica and Sentinel on 127.0.0.1.

The app asks Sentinel where the primary is, follows a failover without a
restart, answers 503 (never a 500, never a revoked token accepted) while no
primary takes its writes, and, with ``wait_replicas``, acknowledges a
revocation only once a replica holds it. The many-host version of these
claims, with the primary killed, is in tests/cluster.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import redis

from panther_like import API, Panther, Request
from panther_like.testing import TestClient
from tests.servers import ServerHandle, ServerUnavailable, start_redis, start_sentinel, unavailable
from tests.settings import settings_module

pytestmark = pytest.mark.server

KEY = 'q' * 32 + '0123456789abcdefghijklmnopqrstuv'
SERVICE = 'mymaster'
REVOKED = 'panther_like:revoked:sid:'
#: ``wait_timeout`` where a test needs the replica to confirm: these claims are about what an
#: acknowledgement means, and a busy 2-core machine can hold the replica's answer past the 0.5 s default.
PATIENT_WAIT = 1.9


@API(auth=True, methods=['GET'])
async def me(request: Request):
    return {'id': request.user.id}


@API(auth=True, methods=['POST'])
async def logout(request: Request):
    await request.user.logout()
    return {'detail': 'Logged out'}


@API(methods=['POST'])
async def refresh(request: Request):
    from panther_like.auth.authentication_classes import JWTAuthentication

    return await JWTAuthentication.refresh(request.data['refresh_token'])


def wait_for(predicate, what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f'{what} did not happen within {timeout:.0f} s')


@dataclass
class SentinelGroup:
    primary: ServerHandle
    replica: ServerHandle
    sentinel: ServerHandle

    def admin(self, server: ServerHandle) -> redis.Redis:
        return redis.Redis(port=server.port, socket_timeout=2, decode_responses=True)

    def setting(self, **extra: Any) -> dict[str, Any]:
        return {'sentinels': [('127.0.0.1', self.sentinel.port)], 'service_name': SERVICE, **extra}

    def primary_port(self) -> int:
        return int(self.admin(self.sentinel).sentinel_get_master_addr_by_name(SERVICE)[1])


@pytest.fixture
def group(tmp_path) -> Iterator[SentinelGroup]:
    started: list[ServerHandle] = []
    try:
        started.append(start_redis(tmp_path / 'primary'))
        started.append(start_redis(tmp_path / 'replica', replica_of=started[0].port))
        started.append(start_sentinel(tmp_path / 'sentinel', started[0].port, SERVICE))
    except (ServerUnavailable, OSError) as exc:
        for server in started:
            server.stop()
        unavailable(f'Redis Sentinel could not be started: {exc}')
    trio = SentinelGroup(*started)
    try:
        wait_for(
            lambda: trio.admin(trio.primary).info('replication').get('slave0', {}).get('state') == 'online',
            'the replica in sync',
        )
        yield trio
    finally:
        for server in reversed(started):
            server.stop()


def build(tmp_path, redis_setting: dict[str, Any], **settings: Any) -> Panther:
    module = settings_module(
        SECRET_KEY=KEY,
        AUTHENTICATION='panther_like.authentications.JWTAuthentication',
        DATABASE={'path': str(tmp_path / 'app.sqlite3')},
        REDIS=redis_setting,
        **settings,
    )
    return Panther(module, urls={'me': me, 'logout': logout, 'refresh': refresh})


async def logged_in(app: Panther, name: str = 'ann') -> dict[str, str]:
    user = await app.config.user_model.insert_one(username=name)
    return await user.login()


def failover_started(group: SentinelGroup) -> bool:
    """Ask Sentinel to fail over; False while it does not know the replica well enough yet (NOGOODSLAVE)."""
    try:
        return group.admin(group.sentinel).sentinel_failover(SERVICE)
    except redis.ResponseError as exc:
        if 'NOGOODSLAVE' in str(exc):
            return False
        raise


async def user_reads(app: Panther, client: TestClient, tokens: dict[str, str]) -> int:
    """How many times an authenticated request read the user from the database (0 when it was cached)."""
    before = app.database.operations
    assert (await client.get('/me', headers=bearer(tokens))).status_code == 200
    return app.database.operations - before


def bearer(tokens: dict[str, str]) -> dict[str, str]:
    return {'Authorization': f'Bearer {tokens["access_token"]}'}


async def test_revocations_are_written_to_the_primary_sentinel_names(group, tmp_path):
    app = build(tmp_path, group.setting())
    async with TestClient(app) as client:
        tokens = await logged_in(app)
        assert (await client.post('/logout', headers=bearer(tokens))).status_code == 200
        assert (await client.get('/me', headers=bearer(tokens))).status_code == 401
    assert group.admin(group.primary).keys(REVOKED + '*')


async def test_a_logout_is_acknowledged_only_once_a_replica_holds_it(group, tmp_path):
    app = build(tmp_path, group.setting(wait_replicas=1, wait_timeout=PATIENT_WAIT))
    async with TestClient(app) as client:
        tokens = await logged_in(app)
        response = await client.post('/logout', headers=bearer(tokens))
        assert response.status_code == 200, response.text
        assert group.admin(group.replica).keys(REVOKED + '*'), 'acknowledged, but not on the replica'


async def test_a_logout_too_few_replicas_confirm_in_time_is_a_503(group, tmp_path):
    # The one replica must confirm within the wait for the count to be 1: a busy machine held it past 0.2 s once.
    app = build(tmp_path, group.setting(wait_replicas=2, wait_timeout=PATIENT_WAIT))
    async with TestClient(app) as client:
        response = await client.post('/logout', headers=bearer(await logged_in(app)))
    assert response.status_code == 503
    assert (
        response.json()['detail'] == 'Redis is unavailable (1 of 2 replicas confirmed the write in time); '
        'try again shortly'
    )


async def test_a_refresh_whose_claim_was_not_replicated_can_be_retried(group, tmp_path):
    unconfirmed = build(tmp_path, group.setting(wait_replicas=2, wait_timeout=0.2))
    async with TestClient(unconfirmed) as client:
        tokens = await logged_in(unconfirmed)
        first = await client.post('/refresh', json={'refresh_token': tokens['refresh_token']})
    confirmed = build(tmp_path, group.setting(wait_replicas=1, wait_timeout=PATIENT_WAIT))
    async with TestClient(confirmed) as client:
        retried = await client.post('/refresh', json={'refresh_token': tokens['refresh_token']})
    assert first.status_code == 503
    assert retried.status_code == 200, 'the unacknowledged claim made the retry look like a stolen token'


async def test_a_primary_that_refuses_writes_gives_503_not_500(group, tmp_path):
    group.admin(group.primary).config_set('min-replicas-to-write', 5)
    app = build(tmp_path, group.setting())
    async with TestClient(app) as client:
        logout_answer = await client.post('/logout', headers=bearer(await logged_in(app)))
    assert logout_answer.status_code == 503
    assert 'NOREPLICAS' in logout_answer.json()['detail']


async def test_the_app_follows_a_failover_without_a_restart(group, tmp_path):
    """With ``wait_replicas``: until the old primary is demoted, a pooled connection may still write there, and
    only the replicas' silence (WAIT answers 0) keeps such a write from being acknowledged and then lost."""
    # revocation_ttl 0: the feed is read on every request, so the caches start over at the next one.
    app = build(tmp_path, group.setting(wait_replicas=1, wait_timeout=0.3), AUTH_CACHE={'revocation_ttl': 0})
    async with TestClient(app) as client:
        tokens = await logged_in(app)
        assert (await client.get('/me', headers=bearer(tokens))).status_code == 200
        warm = await user_reads(app, client, tokens)
        wait_for(lambda: failover_started(group), 'Sentinel starting a failover')
        wait_for(lambda: group.primary_port() == group.replica.port, 'the replica promoted')
        wait_for(lambda: group.admin(group.replica).role()[0] == 'master', 'the new primary taking writes')
        answers = []
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:  # until the demoted primary follows the new one (WAIT 1)
            answers.append(
                (await client.post('/logout', headers=bearer(await logged_in(app, f'u{len(answers)}')))).status_code
            )
            if answers[-1] == 200:
                break
            time.sleep(0.2)
        after_failover = await user_reads(app, client, tokens)
    assert answers[-1] == 200 and set(answers) <= {200, 503}, answers
    assert group.admin(group.replica).keys(REVOKED + '*'), 'the revocation is not on the new primary'
    assert app.redis.failovers == 1
    # The feed's position on the old primary means nothing on the new one: the worker's caches started over.
    assert (warm, after_failover) == (0, 1)


async def test_no_reachable_primary_is_a_503_for_every_authenticated_request(group, tmp_path):
    app = build(tmp_path, group.setting(), AUTH_CACHE={'revocation_ttl': 0})
    async with TestClient(app) as client:
        tokens = await logged_in(app)
        assert (await client.get('/me', headers=bearer(tokens))).status_code == 200
        group.primary.kill()
        response = await client.get('/me', headers=bearer(tokens))
    assert response.status_code == 503
    assert response.json()['detail'].startswith('Redis is unavailable')
