"""A Redis that answers but refuses, as servers do while they fail over, is the documented 503, never a 500.

Each refusal comes from a real redis-server started here, made to refuse
the way it does during a failover: a primary with ``min-replicas-to-write
1`` and no replica answers writes with NOREPLICAS, a replica (started with
``--replicaof``) answers them with READONLY, and one that may not serve
stale data while its primary is away answers MASTERDOWN. The refusal must
become `StoreUnavailableError` in `RedisConnection` for a single command, a
pipeline (``write`` with ``wait_replicas``) and a MULTI/EXEC (the login
throttle's ``hit``) alike, and reach the client as a 503 with a JSON
``detail``. An error of the command itself stays an error. (TRYAGAIN and
CLUSTERDOWN come from Redis Cluster only, LOADING from a server loading a
large data set; the same mapping covers them.)
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, suppress

import pytest
import redis
import redis.exceptions

from panther_like import Panther
from panther_like.accounts import accounts_urls
from panther_like.exceptions import StoreUnavailableError
from panther_like.login_state.redis_connection import RedisConnection
from panther_like.settings.deployment import RedisSettings
from panther_like.testing import TestClient
from tests.servers import ServerHandle, free_port, own_redis
from tests.settings import settings_module

PASSWORD = 'correct horse battery'
#: The login throttle's MULTI/EXEC, as `RedisThrottleStore.hit` sends it: writes, then reads.
THROTTLE_HIT = (
    ('zremrangebyscore', 'throttled', '-inf', 0),
    ('zadd', 'throttled', {'m': 1.0}),
    ('zcard', 'throttled'),
    ('expire', 'throttled', 60),
)


@pytest.fixture(scope='module')
def short_of_replicas(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerHandle]:
    """A primary that wants one replica for every write and has none: writes answer NOREPLICAS."""
    yield from own_redis(tmp_path_factory.mktemp('short_of_replicas'), extra_args=('--min-replicas-to-write', '1'))


@pytest.fixture(scope='module')
def replica(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerHandle]:
    """A replica (of a primary that is gone, as after a failover that left it behind): writes answer READONLY."""
    yield from own_redis(tmp_path_factory.mktemp('replica'), replica_of=free_port())


@pytest.fixture(scope='module')
def cut_off_replica(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerHandle]:
    """A replica that may not serve stale data and whose primary is gone: reads answer MASTERDOWN."""
    yield from own_redis(
        tmp_path_factory.mktemp('cut_off'), replica_of=free_port(), extra_args=('--replica-serve-stale-data', 'no')
    )


@pytest.fixture
def own_primary(tmp_path) -> Iterator[ServerHandle]:
    """A primary of this test's own, which it reconfigures."""
    yield from own_redis(tmp_path)


@asynccontextmanager
async def connected(url: str, **settings: object) -> AsyncIterator[RedisConnection]:
    connection = RedisConnection(RedisSettings(url=url, **settings))
    try:
        yield connection
    finally:
        await connection.close()


async def refusal_of(work: Callable[[], Awaitable[object]]) -> str:
    """The 503's detail that `work` raised."""
    with pytest.raises(StoreUnavailableError) as refused:
        await work()
    return refused.value.detail


# -- through the wrapper ----------------------------------------------------------------------------------


async def test_a_write_a_primary_short_of_replicas_refuses_is_a_503(short_of_replicas) -> None:
    async with connected(short_of_replicas.url) as connection:
        detail = await refusal_of(lambda: connection.run('set', 'key', b'1'))
    assert detail == 'Redis is unavailable (NOREPLICAS reply); try again shortly'


async def test_a_multi_exec_a_primary_short_of_replicas_refuses_is_a_503(short_of_replicas) -> None:
    async with connected(short_of_replicas.url) as connection:
        detail = await refusal_of(lambda: connection.transaction(*THROTTLE_HIT))
    assert detail == 'Redis is unavailable (NOREPLICAS reply); try again shortly'


async def test_a_multi_exec_whose_first_refused_command_is_not_the_first_is_a_503(short_of_replicas) -> None:
    async with connected(short_of_replicas.url) as connection:
        detail = await refusal_of(lambda: connection.transaction(('zcard', 'throttled'), *THROTTLE_HIT))
    assert 'NOREPLICAS' in detail


async def test_a_pipelined_write_and_wait_a_primary_short_of_replicas_refuses_is_a_503(short_of_replicas) -> None:
    async with connected(short_of_replicas.url, wait_replicas=1, wait_timeout=0.1) as connection:
        detail = await refusal_of(lambda: connection.write('set', 'key', b'1'))
    assert detail == 'Redis is unavailable (NOREPLICAS reply); try again shortly'


async def test_a_read_from_a_primary_short_of_replicas_is_answered(short_of_replicas) -> None:
    async with connected(short_of_replicas.url) as connection:
        assert await connection.run('exists', 'key') == 0


async def test_a_write_to_a_replica_is_a_503(replica) -> None:
    async with connected(replica.url) as connection:
        detail = await refusal_of(lambda: connection.run('set', 'key', b'1'))
    assert detail == 'Redis is unavailable (READONLY reply); try again shortly'


async def test_a_multi_exec_on_a_replica_is_a_503(replica) -> None:
    async with connected(replica.url) as connection:
        detail = await refusal_of(lambda: connection.transaction(*THROTTLE_HIT))
    assert detail == 'Redis is unavailable (READONLY reply); try again shortly'


async def test_a_read_from_a_replica_cut_off_from_its_primary_is_a_503(cut_off_replica) -> None:
    async with connected(cut_off_replica.url) as connection:
        detail = await refusal_of(lambda: connection.run('exists', 'key'))
    assert detail == 'Redis is unavailable (MASTERDOWN reply); try again shortly'


async def test_an_exec_refused_after_its_commands_were_queued_is_a_503(own_primary) -> None:
    """The primary loses its replica between MULTI and EXEC (a failover under way): EXEC itself is refused,
    ``EXECABORT Transaction discarded because of: NOREPLICAS``. A relay holds the EXEC back until the
    commands are queued and the primary wants a replica it has not got; see `HoldingExec`."""
    admin = redis.Redis(port=own_primary.port, socket_timeout=2)
    relay = HoldingExec(own_primary.port, before_exec=lambda: lose_replicas(admin, queued=len(THROTTLE_HIT)))
    async with relay, connected(f'redis://127.0.0.1:{relay.port}/0') as connection:
        detail = await refusal_of(lambda: connection.transaction(*THROTTLE_HIT))
    assert detail == 'Redis is unavailable (NOREPLICAS reply); try again shortly'
    assert relay.held, 'the EXEC was never held back: the refusal came from elsewhere'


async def test_a_multi_exec_with_a_wrong_command_is_an_error_not_a_503(redis_url) -> None:
    async with connected(redis_url) as connection:
        with pytest.raises(redis.exceptions.ResponseError, match='unknown command') as failed:
            await connection.transaction(('zcard', 'throttled'), ('execute_command', 'NO-SUCH-COMMAND'))
    assert not isinstance(failed.value, StoreUnavailableError)


async def test_a_command_on_the_wrong_type_is_an_error_not_a_503(redis_url) -> None:
    async with connected(redis_url) as connection:
        await connection.run('set', 'refusals:a-string', b'x')
        with pytest.raises(redis.exceptions.ResponseError, match='WRONGTYPE'):
            await connection.run('zcard', 'refusals:a-string')


# -- through the HTTP layer -------------------------------------------------------------------------------


def accounts_app(redis_url: str, tmp_path) -> Panther:
    return Panther(
        configs=settings_module(
            SECRET_KEY='refusals-test-secret-0123456789-abcdefghij',
            URLS={'auth/': accounts_urls},
            AUTHENTICATION='panther_like.auth.authentication_classes.JWTAuthentication',
            DATABASE={'path': str(tmp_path / 'accounts.sqlite3')},
            REDIS={'url': redis_url},
        )
    )


async def test_a_signup_whose_throttle_redis_refuses_writes_answers_503_with_a_detail(
    short_of_replicas,
    tmp_path,
) -> None:
    async with TestClient(accounts_app(short_of_replicas.url, tmp_path)) as client:
        response = await client.post('/auth/signup', json={'username': 'ann', 'password': PASSWORD})
    assert response.status_code == 503, response.text
    assert response.json()['detail'] == 'Redis is unavailable (NOREPLICAS reply); try again shortly'


async def test_a_login_whose_throttle_redis_is_a_replica_answers_503_with_a_detail(replica, tmp_path) -> None:
    app = accounts_app(replica.url, tmp_path)
    async with TestClient(app) as client:
        await app.config.user_model.insert_one(username='ann', password=PASSWORD)
        response = await client.post('/auth/login', json={'username': 'ann', 'password': PASSWORD})
    assert response.status_code == 503, response.text
    assert response.json()['detail'] == 'Redis is unavailable (READONLY reply); try again shortly'


# -- helpers ----------------------------------------------------------------------------------------------


def lose_replicas(admin: redis.Redis, *, queued: int) -> None:
    """Once the relayed client has `queued` commands in its MULTI, make the primary want a replica it lacks."""
    deadline = time.monotonic() + 5
    while not any(int(client['multi']) == queued for client in admin.client_list()):
        assert time.monotonic() < deadline, 'the relayed commands were never queued'
        time.sleep(0.01)
    admin.config_set('min-replicas-to-write', 1)


class HoldingExec:
    """A TCP relay to a real Redis on `port` that stops before an ``EXEC`` until `before_exec` has run.

    Why a relay: redis-py sends MULTI, the commands and EXEC in one write, and the server state that refuses
    EXEC alone (a primary losing its replica mid-transaction) has to change in between. Only bytes pass
    through it; every reply is the real server's.
    """

    EXEC = b'*1\r\n$4\r\nEXEC\r\n'

    def __init__(self, port: int, before_exec: Callable[[], None]) -> None:
        self._target = port
        self._before_exec = before_exec
        self._server: asyncio.Server | None = None
        self._pumps: set[asyncio.Task] = set()
        self.port = 0
        self.held = False

    async def __aenter__(self) -> HoldingExec:
        self._server = await asyncio.start_server(self._relay, '127.0.0.1', 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._server is not None
        self._server.close()
        for pump in self._pumps:
            pump.cancel()
        with suppress(asyncio.CancelledError):
            await asyncio.gather(*self._pumps, return_exceptions=True)

    async def _relay(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        server_reader, server_writer = await asyncio.open_connection('127.0.0.1', self._target)
        for pump in (self._requests(client_reader, server_writer), self._pipe(server_reader, client_writer)):
            task = asyncio.create_task(pump)
            self._pumps.add(task)

    async def _requests(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(65536):
            at = data.find(self.EXEC)
            if at >= 0 and not self.held:
                writer.write(data[:at])
                await writer.drain()
                await asyncio.to_thread(self._before_exec)
                self.held, data = True, data[at:]
            writer.write(data)
            await writer.drain()
        writer.close()

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
        writer.close()
