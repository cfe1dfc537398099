"""One Redis connection for the stores that keep shared state there (revocations, change feed, login throttle).

Why a class: a redis.asyncio client belongs to the event loop that made it
(tests and some servers run several loops in one process), and every
failure to reach Redis must become a 503 with a reason, never a 500.

With Sentinel (``REDIS = {'sentinels': [...], 'service_name': ...}``) the
client asks the sentinels where the primary is whenever it opens a
connection, so a promoted replica is followed without a restart. While no
primary answers, every command fails with a 503: a worker that cannot
read revocations refuses rather than trusts.

Why `failovers`: a reader of the change feed keeps a position in a Redis
stream; a new primary may have lost the last entries the old one gave out
(they were never acknowledged) and assigns new entry ids from its own
clock. A reader that sees the primary change therefore starts over
(`panther_like.login_state.change_feed`).

Why `refusal`: while Redis fails over, a server that answers may still
refuse the command (a primary short of replicas says ``NOREPLICAS``, a
demoted one ``READONLY``, a restarted one ``LOADING``). That is the store
being unavailable, not a wrong command, so it is the same 503 as a server
that does not answer: for one command, a pipeline and a MULTI/EXEC alike
(where redis-py reports the first refused command, raised from an
``ExecAbortError``, or the ``EXECABORT`` itself when EXEC was the command
refused). Every call to redis-py goes through `RedisConnection._call`, the
one place where this mapping is made; any other error reply stays an error
(a 500: a bug to fix, not a reason to retry).

Why `check_persistence` at start-up: a Redis that keeps nothing on disk
forgets every logout and every spent refresh token when it restarts, and a
spent refresh token is then accepted again. The app refuses to start on
one, unless ``REDIS['allow_no_persistence']`` says it is meant (a warning
then). A Redis that does not let the app read its configuration (managed
services often rename ``CONFIG``) gets a warning: the app cannot tell.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

from panther_like.exceptions import ConfigError, StoreUnavailableError
from panther_like.settings.deployment import REDIS_TIMEOUT, RedisSettings

logger = logging.getLogger('panther_like')
NO_PERSISTENCE = (
    'keeps nothing on disk (appendonly no, save ""): when it restarts it forgets every logout and every spent '
    'refresh token. Turn on the append-only file (CONFIG SET appendonly yes, and appendonly yes in redis.conf) '
    'or snapshots (save 60 1)'
)

#: Error replies that mean "this server cannot take the command now" (it is failing over), not "the command is
#: wrong".
FAILOVER_REFUSALS = frozenset({'NOREPLICAS', 'READONLY', 'LOADING', 'MASTERDOWN', 'TRYAGAIN', 'CLUSTERDOWN'})
#: Where an error message names its reply's code: at the start ("NOREPLICAS Not enough ..."), after redis-py's
#: note on a pipeline ("Command # 1 (ZADD ...) of pipeline caused error: NOREPLICAS ...") or in an aborted EXEC
#: ("Transaction discarded because of: NOREPLICAS ...").
_REPLY_CODE = re.compile(r'(?:^|caused error: |because of: )-?([A-Z][A-Z0-9_]*)\b')


class NotReplicatedError(StoreUnavailableError):
    """The primary took a write but too few replicas confirmed it in time (``WAIT``); `result` is its reply."""

    def __init__(self, result: Any, wanted: int, confirmed: int) -> None:
        super().__init__('Redis', f'{confirmed} of {wanted} replicas confirmed the write in time')
        self.result = result


class RedisConnection:
    """`operations` counts round trips to Redis made by this process (see `Database.operations`)."""

    operations = 0
    #: How many times this process saw Sentinel name a different primary.
    failovers = 0

    def __init__(self, settings: RedisSettings | str, *, timeout: float = REDIS_TIMEOUT) -> None:
        self.settings = RedisSettings(url=settings) if isinstance(settings, str) else settings
        self._timeout = timeout
        self._clients: dict[asyncio.AbstractEventLoop, tuple[Any, Any]] = {}  # loop -> (client, sentinel or None)
        self._primary: Any = None

    def _client(self) -> Any:
        loop = asyncio.get_running_loop()
        known = self._clients.get(loop)
        if known is None:
            known = self._connect()
            self._clients = {other: pair for other, pair in self._clients.items() if not other.is_closed()}
            self._clients[loop] = known
        return known[0]

    def _connect(self) -> tuple[Any, Any]:
        import redis.asyncio
        from redis.asyncio.retry import Retry
        from redis.asyncio.sentinel import Sentinel
        from redis.backoff import NoBackoff

        # One retry, at once: it replaces a pooled connection the server has closed (an idle timeout, a failover);
        # redis-py's default (ten, with back-off) would hold a request for seconds before its 503.
        options: dict[str, Any] = {
            'socket_timeout': self._timeout,
            'socket_connect_timeout': self._timeout,
            'retry': Retry(NoBackoff(), 1),
        }
        settings = self.settings
        if settings.url:
            return redis.asyncio.from_url(settings.url, **options), None
        sentinel = Sentinel(
            list(settings.sentinels),
            sentinel_kwargs={**options, 'password': settings.sentinel_password},
            **options,
        )
        client = sentinel.master_for(
            settings.service_name or '',
            username=settings.username,
            password=settings.password,
            db=settings.db,
            **options,
        )
        return client, sentinel

    def _note_primary(self, client: Any) -> None:
        address = getattr(client.connection_pool, 'master_address', None)
        if address is not None and address != self._primary:
            if self._primary is not None:
                self.failovers += 1
            self._primary = address

    async def _call(self, work: Any) -> Any:
        import redis.exceptions

        self.operations += 1
        client = self._client()
        try:
            result = await work(client)
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError) as exc:
            raise StoreUnavailableError('Redis', type(exc).__name__) from None
        except redis.exceptions.ResponseError as exc:
            code = refusal(exc)
            if code is None:
                raise
            raise StoreUnavailableError('Redis', f'{code} reply') from None
        finally:
            if self.settings.sentinels:
                self._note_primary(client)
        return result

    def pubsub(self) -> Any:
        """A redis-py ``PubSub`` on the current primary, for a listener that subscribes and reads.

        A subscription is no command a request waits on, so it does not go through `_call`: the
        listener (`panther_like.login_state.broadcast`) catches its failures and subscribes again.
        """
        return self._client().pubsub()

    async def run(self, command: str, *args: Any, **kwargs: Any) -> Any:
        """One command; a Redis that does not answer is a 503."""
        return await self._call(lambda client: getattr(client, command)(*args, **kwargs))

    async def write(self, command: str, *args: Any, **kwargs: Any) -> Any:
        """One write that must outlive the primary: with ``wait_replicas``, ``WAIT`` follows in the same round trip.

        Raises `NotReplicatedError` (a 503) when fewer replicas confirmed it
        within ``wait_timeout``: the write may still be on the primary, but it
        is not acknowledged.
        """
        wanted = self.settings.wait_replicas
        if not wanted:
            return await self.run(command, *args, **kwargs)

        async def write_and_wait(client: Any) -> list[Any]:
            async with client.pipeline(transaction=False) as pipe:
                getattr(pipe, command)(*args, **kwargs)
                pipe.wait(wanted, int(self.settings.wait_timeout * 1000))
                results: list[Any] = await pipe.execute()
                return results

        result, confirmed = await self._call(write_and_wait)
        if confirmed < wanted:
            raise NotReplicatedError(result, wanted, confirmed)
        return result

    async def transaction(self, *commands: tuple[Any, ...]) -> list[Any]:
        """``(name, *args)`` commands in one MULTI/EXEC; a Redis that does not answer is a 503."""

        async def multi_exec(client: Any) -> list[Any]:
            async with client.pipeline(transaction=True) as pipe:
                for name, *args in commands:
                    getattr(pipe, name)(*args)
                results: list[Any] = await pipe.execute()
                return results

        done: list[Any] = await self._call(multi_exec)
        return done

    async def check_persistence(self) -> None:
        """Refuse (`ConfigError`) a Redis that keeps nothing on disk, or warn; see the module docstring."""
        import redis.exceptions

        try:
            appendonly = await self.run('config_get', 'appendonly')
            save = await self.run('config_get', 'save')
        except StoreUnavailableError as exc:
            logger.warning(
                'Redis (%s) not reachable at start-up, so its persistence was not checked: %s',
                self.settings.describe(),
                exc.detail,
            )
            return
        except redis.exceptions.ResponseError as exc:  # CONFIG renamed or not allowed (a managed Redis)
            logger.warning(
                'could not read the persistence settings of Redis (%s): %s; make sure it keeps '
                'its data on disk (AOF or snapshots), or a restart forgets every logout',
                self.settings.describe(),
                str(exc)[:200],
            )
            return
        if _setting(appendonly, 'appendonly') == 'yes' or _setting(save, 'save').strip():
            return
        if self.settings.allow_no_persistence:
            logger.warning(
                'Redis (%s) %s; started anyway: REDIS["allow_no_persistence"] is True',
                self.settings.describe(),
                NO_PERSISTENCE,
            )
            return
        raise ConfigError(
            'REDIS',
            self.settings.describe(),
            f'this Redis {NO_PERSISTENCE}; or set REDIS["allow_no_persistence"] = True to start anyway',
        )

    async def close(self) -> None:
        clients, self._clients = self._clients, {}
        running = asyncio.get_running_loop()
        for loop, (client, sentinel) in clients.items():
            if loop is running:
                await client.aclose()
                if sentinel is not None:
                    await sentinel.aclose()


def refusal(exc: BaseException) -> str | None:
    """The code of the failover refusal that `exc` (an error reply) is, ``EXECABORT`` for an EXEC refused for a
    reason not named, or None: an error of the command itself."""
    import redis.exceptions

    cause: BaseException | None = exc
    while cause is not None:  # a refused command of a MULTI is raised from the ExecAbortError
        for code in _reply_codes(cause):
            if code in FAILOVER_REFUSALS:
                return code
        cause = cause.__cause__
    return 'EXECABORT' if isinstance(exc, redis.exceptions.ExecAbortError) else None


def _reply_codes(exc: BaseException) -> list[str]:
    """What names `exc`'s reply code: redis-py's ``status_code`` (8.0 on), its class, its message."""
    import redis.exceptions

    codes = [getattr(exc, 'status_code', None) or '']
    # Before redis-py 8, the class was all that was left of the codes it has a class for (it strips them).
    for error, code in (
        (redis.exceptions.ReadOnlyError, 'READONLY'),
        (redis.exceptions.TryAgainError, 'TRYAGAIN'),
        (redis.exceptions.MasterDownError, 'MASTERDOWN'),
        (redis.exceptions.ClusterDownError, 'CLUSTERDOWN'),
        (redis.exceptions.BusyLoadingError, 'LOADING'),
    ):
        if isinstance(exc, error):
            codes.append(code)
            break
    named = _REPLY_CODE.search(str(exc))
    if named:
        codes.append(named.group(1))
    return codes


def _setting(reply: Any, name: str) -> str:
    """One value of a ``CONFIG GET`` reply (a dict in redis-py; bytes or str)."""
    value = reply.get(name, '') if isinstance(reply, dict) else ''
    return value.decode('utf-8', 'replace') if isinstance(value, bytes) else str(value)
