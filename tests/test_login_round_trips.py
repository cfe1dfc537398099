"""What one password login costs the shared stores, counted by the servers' own accounts.

A login is on the path of every user who comes back, and each round trip
to Redis or MongoDB adds its latency to it. Redis is counted with
``MONITOR`` on the real redis-server (a MULTI ... EXEC block is one round
trip however many commands it carries), MongoDB with pymongo's command
monitoring (one command, one round trip). Counts are deterministic, so they
are asserted exactly as bounds.
"""

from __future__ import annotations

import threading
import types
from collections.abc import AsyncIterator, Iterator

import pymongo.monitoring
import pytest
import pytest_asyncio
import redis

from panther_like import BaseUser, Panther
from panther_like.accounts import accounts_urls
from panther_like.testing import TestClient

SECRET_KEY = 'round-trips-secret-0123456789-abcdefghijkl'
PASSWORD = 'correct horse battery'
END = 'round-trips-end'


class CommandCounter(pymongo.monitoring.CommandListener):
    """The commands pymongo sends while `counting` (a registered listener cannot be removed, so it idles)."""

    def __init__(self) -> None:
        self.counting = False
        self.commands: list[str] = []

    def started(self, event: pymongo.monitoring.CommandStartedEvent) -> None:
        if self.counting:
            self.commands.append(f'{event.command_name} {event.command.get(event.command_name)}')

    def succeeded(self, event: pymongo.monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: pymongo.monitoring.CommandFailedEvent) -> None:
        pass


MONGODB_COMMANDS = CommandCounter()
pymongo.monitoring.register(MONGODB_COMMANDS)


class Member(BaseUser):
    pass


class RedisRoundTrips:
    """What redis-server's MONITOR saw between `start` and `stop`, grouped into round trips."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._ready = threading.Event()
        self.seen: list[str] = []
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        with redis.Redis.from_url(self._url).monitor() as monitor:
            self._ready.set()
            for entry in monitor.listen():
                command = entry['command']
                if END in command:
                    return
                self.seen.append(command)

    def start(self) -> None:
        self._thread.start()
        assert self._ready.wait(5)

    def stop(self) -> list[list[str]]:
        redis.Redis.from_url(self._url).echo(END)
        self._thread.join(5)
        trips: list[list[str]] = []
        in_multi = False
        for command in self.seen:
            name = command.split(' ', 1)[0].upper()
            if in_multi:
                trips[-1].append(command)
                in_multi = name != 'EXEC'
            else:
                trips.append([command])
                in_multi = name == 'MULTI'
        return trips


@pytest.fixture
def mongodb_commands() -> Iterator[CommandCounter]:
    MONGODB_COMMANDS.commands.clear()
    yield MONGODB_COMMANDS
    MONGODB_COMMANDS.counting = False


@pytest_asyncio.fixture
async def client(mongodb_url, redis_url) -> AsyncIterator[TestClient]:
    from tests.servers import fresh_database_url

    redis.Redis.from_url(redis_url).flushdb()
    module = types.ModuleType('round_trip_settings')
    module.SECRET_KEY = SECRET_KEY
    module.URLS = {'auth/': accounts_urls}
    module.AUTHENTICATION = 'panther_like.authentications.JWTAuthentication'
    module.USER_MODEL = Member
    module.DATABASE = {'url': fresh_database_url(mongodb_url)}
    module.REDIS = {'url': redis_url}
    async with TestClient(Panther(configs=module)) as test_client:
        response = await test_client.post('/auth/signup', json={'username': 'ann', 'password': PASSWORD})
        assert response.status_code == 201, response.text
        await log_in(test_client)  # the first login also creates indexes; the test counts a returning user's
        yield test_client


async def log_in(client: TestClient) -> None:
    response = await client.post('/auth/login', json={'username': 'ann', 'password': PASSWORD})
    assert response.status_code == 200, response.text


async def test_a_login_costs_at_most_three_round_trips_to_redis(client, redis_url):
    watch = RedisRoundTrips(redis_url)
    watch.start()
    await log_in(client)
    trips = watch.stop()
    assert len(trips) <= 3, trips


async def test_a_login_writes_last_login_without_reading_the_user_back(client, mongodb_commands):
    mongodb_commands.counting = True
    await log_in(client)
    mongodb_commands.counting = False
    assert [command for command in mongodb_commands.commands if command.startswith('find Member')] == ['find Member']


async def test_a_login_costs_at_most_three_round_trips_to_mongodb(client, mongodb_commands):
    mongodb_commands.counting = True
    await log_in(client)
    mongodb_commands.counting = False
    # The user, the session row and last_login: the user's own document says they hold no second factor.
    assert len(mongodb_commands.commands) <= 3, mongodb_commands.commands
