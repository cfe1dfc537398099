"""Clients of the cluster: single calls that say which host answered, and a bounded load of many clients.

Every request goes to HAProxy. ``X-Target: app2`` asks HAProxy to send it to
that host while the host is in the pool; ``X-Served-By`` in the answer
names the host that served it (HAProxy sets it, on its own errors too).

`run_load` runs `clients` concurrent clients, each signing up a new user,
logging in, calling an ``auth=True`` route, refreshing and logging out, in
a loop bounded both by `duration` and by `max_rounds`; `events` are
callables run in a thread at given offsets (kill a host, stop a store).
Every request is recorded with its start and end time, status and host, and
carries an ``X-Request-Id`` that HAProxy logs with the host it chose, so a
request that got no answer at all can still be traced to a host.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

TIMEOUT = 15.0
#: Long and uncommon enough for any password policy.
PASSWORD = 'a long enough password 4711'
#: What each kind of request answers when all is well.
EXPECTED = {'signup': 201, 'login': 200, 'me': 200, 'refresh': 200, 'logout': 200}


_request_ids = itertools.count()


@dataclass(frozen=True)
class Outcome:
    request_id: str  # sent as X-Request-Id; HAProxy logs it with the host it chose
    kind: str
    started: float
    ended: float
    status: int | None  # None: no HTTP answer at all
    served_by: str  # '' when HAProxy answered itself (no host)
    from_app: bool  # a JSON body: the app answered, not HAProxy
    detail: str = ''

    @property
    def ok(self) -> bool:
        return self.status == EXPECTED.get(self.kind)


def outcome(request_id: str, kind: str, started: float, response: httpx.Response | None, error: str = '') -> Outcome:
    if response is None:
        return Outcome(request_id, kind, started, time.time(), None, '', False, error)
    from_app = response.headers.get('content-type', '').startswith('application/json')
    detail = ''
    if from_app and response.status_code >= 400:
        try:
            detail = str(response.json().get('detail', ''))
        except ValueError:
            detail = response.text[:200]
    return Outcome(
        request_id,
        kind,
        started,
        time.time(),
        response.status_code,
        response.headers.get('x-served-by', ''),
        from_app,
        detail,
    )


async def call(
    http: httpx.AsyncClient,
    kind: str,
    method: str,
    path: str,
    *,
    target: str | None = None,
    token: str | None = None,
    headers: dict[str, str] | None = None,
    **kwargs: Any,
) -> tuple[Outcome, httpx.Response | None]:
    request_id = f'{kind}-{next(_request_ids)}'
    headers = {**(headers or {}), 'X-Request-Id': request_id}
    if target:
        headers['X-Target'] = target
    if token:
        headers['Authorization'] = f'Bearer {token}'
    started = time.time()
    try:
        response = await http.request(method, path, headers=headers, **kwargs)
    except httpx.HTTPError as exc:
        return outcome(request_id, kind, started, None, type(exc).__name__), None
    return outcome(request_id, kind, started, response), response


@dataclass
class LoadResult:
    outcomes: list[Outcome] = field(default_factory=list)
    signed_up: list[str] = field(default_factory=list)  # answered 201
    logged_out: list[str] = field(default_factory=list)  # access tokens whose logout answered 200
    events: dict[str, float] = field(default_factory=dict)  # name -> epoch when it ran
    extra: list[Any] = field(default_factory=list)  # what the `tasks` returned

    def failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.ok]

    def count(self, predicate: Callable[[Outcome], bool]) -> int:
        return sum(1 for o in self.outcomes if predicate(o))


async def _client(url: str, number: int, name: str, deadline: float, max_rounds: int, result: LoadResult) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=TIMEOUT) as http:
        for round_number in range(max_rounds):
            if time.time() >= deadline:
                return
            username = f'{name}-{number}-{round_number}'
            credentials = {'username': username, 'password': PASSWORD}
            done, _ = await _step(http, result, 'signup', 'POST', '/auth/signup', json=credentials)
            if not done.ok:
                await asyncio.sleep(0.05)  # a cluster that refuses everything is not spun against
                continue
            result.signed_up.append(username)
            done, response = await _step(http, result, 'login', 'POST', '/auth/login', json=credentials)
            if not done.ok:
                continue
            tokens = response.json()
            done, _ = await _step(http, result, 'me', 'GET', '/me', token=tokens['access_token'])
            if not done.ok:
                continue
            done, response = await _step(
                http, result, 'refresh', 'POST', '/auth/refresh', json={'refresh_token': tokens['refresh_token']}
            )
            if not done.ok:
                continue
            tokens = response.json()
            done, _ = await _step(http, result, 'me', 'GET', '/me', token=tokens['access_token'])
            if not done.ok:
                continue
            done, _ = await _step(http, result, 'logout', 'POST', '/auth/logout', token=tokens['access_token'])
            if done.ok:
                result.logged_out.append(tokens['access_token'])


async def _step(
    http: httpx.AsyncClient, result: LoadResult, kind: str, method: str, path: str, **kwargs: Any
) -> tuple[Outcome, httpx.Response | None]:
    done, response = await call(http, kind, method, path, **kwargs)
    result.outcomes.append(done)
    return done, response


async def _event(name: str, at: float, action: Callable[[], Any], result: LoadResult) -> None:
    await asyncio.sleep(max(0.0, at - time.time()))
    result.events[name] = time.time()
    await asyncio.to_thread(action)
    result.events[f'{name} done'] = time.time()


def run_load(
    url: str,
    name: str,
    *,
    clients: int = 20,
    duration: float = 8.0,
    max_rounds: int = 200,
    events: Sequence[tuple[float, str, Callable[[], Any]]] = (),
    tasks: Sequence[Callable[[], Awaitable[Any]]] = (),
) -> LoadResult:
    """`clients` clients for at most `duration` s and `max_rounds` rounds each.

    `events`: (offset in s, name, blocking action) run in a thread; `tasks`:
    coroutine functions run alongside, their results in `LoadResult.extra`.
    """
    result = LoadResult()

    async def main() -> None:
        start = time.time()
        deadline = start + duration
        load = [_client(url, number, name, deadline, max_rounds, result) for number in range(clients)]
        load += [_event(event_name, start + offset, action, result) for offset, event_name, action in events]
        everything = asyncio.gather(asyncio.gather(*load), *(task() for task in tasks))
        _, *result.extra = await asyncio.wait_for(everything, timeout=duration + 60)

    asyncio.run(main())
    return result
