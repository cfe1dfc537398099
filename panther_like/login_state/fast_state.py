"""Fast state: where revocations, the change feed and the throttle counters live, chosen once.

Every worker reads and writes the same fast state, so it lives in a shared
store: the database by default, Redis when ``REDIS`` is set. The choice is
made here and nowhere else (`open_fast_state`): a store is one class below
registered in `FAST_STATES` under a setting value, and the rest of the
package only sees the interfaces (`RevocationStore`, `ChangeFeed`,
`ThrottleStore`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from panther_like.common.clock import SYSTEM_CLOCK, Clock
from panther_like.db.backend import Database
from panther_like.login_state.change_feed import ChangeFeed, DatabaseChangeFeed, RedisChangeFeed
from panther_like.login_state.redis_connection import RedisConnection
from panther_like.login_state.revocation import DatabaseRevocationStore, RedisRevocationStore, RevocationStore
from panther_like.login_state.throttle_stores import DatabaseThrottleStore, RedisThrottleStore, ThrottleStore
from panther_like.settings.config import Config

DATABASE = 'database'
REDIS = 'redis'


@dataclass(frozen=True, slots=True)
class FastState:
    """The stores of one kind, and what readiness and shutdown need to know of them.

    `redis` is the connection when the stores live in Redis (readiness pings it, shutdown closes it,
    the round-trip header counts it), else None.
    """

    kind: str
    revocations: RevocationStore
    changes: ChangeFeed
    throttle: ThrottleStore
    redis: RedisConnection | None = None


def _in_database(config: Config, database: Database, clock: Clock) -> FastState:
    return FastState(
        DATABASE,
        DatabaseRevocationStore(database, clock=clock),
        DatabaseChangeFeed(database, clock=clock),
        DatabaseThrottleStore(database, clock=clock),
    )


def _in_redis(config: Config, database: Database, clock: Clock) -> FastState:
    if config.redis is None:
        raise ValueError('the redis fast state needs the REDIS setting')
    redis = RedisConnection(config.redis)
    return FastState(
        REDIS,
        RedisRevocationStore(redis, clock=clock),
        RedisChangeFeed(redis, clock=clock),
        RedisThrottleStore(redis, clock=clock),
        redis,
    )


#: Setting value -> how to open that store.
FAST_STATES: dict[str, Callable[[Config, Database, Clock], FastState]] = {DATABASE: _in_database, REDIS: _in_redis}


def fast_state_kind(config: Config) -> str:
    """The setting value: ``redis`` when ``REDIS`` is set, else ``database``."""
    return REDIS if config.redis else DATABASE


def open_fast_state(config: Config, database: Database, *, clock: Clock = SYSTEM_CLOCK) -> FastState:
    """The fast state the settings choose; nothing is connected yet."""
    return FAST_STATES[fast_state_kind(config)](config, database, clock)
