"""Three app hosts behind HAProxy, shared MongoDB-wire and Redis with Sentinel: what holds when hosts and stores die.

Each test is one claim of docs/scaling.md, measured through HAProxy the way
a client sees it; the figures are printed at the end of the run. Tests that
take something down bring it back before they end, so each starts from the
full cluster.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import functools
import json
import statistics
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.cluster.cluster import APP_HOSTS, DRAIN_SECONDS, Cluster
from tests.cluster.figures import record
from tests.cluster.load import PASSWORD, Outcome, call, run_load
from tests.cluster.network import wait_until

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(300)]

#: The example project's login throttle: failures allowed per username (configs/, LOGIN_MAX_FAILURES unset).
MAX_FAILURES = 5
REVOKED_KEY = 'panther_like:revoked:sid:{}'


def run(cluster: Cluster, work: Callable[[httpx.AsyncClient], Awaitable[Any]]) -> Any:
    async def main() -> Any:
        async with httpx.AsyncClient(base_url=cluster.url, timeout=15.0) as http:
            return await work(http)

    return asyncio.run(main())


async def new_session(http: httpx.AsyncClient, name: str, *, target: str | None = None) -> dict[str, str]:
    """Sign a new user up and log in; the token pair."""
    credentials = {'username': f'{name}-{time.monotonic_ns()}', 'password': PASSWORD}
    done, _ = await call(http, 'signup', 'POST', '/auth/signup', json=credentials, target=target)
    assert done.status == 201, done
    done, response = await call(http, 'login', 'POST', '/auth/login', json=credentials, target=target)
    assert done.status == 200, done
    return response.json()


async def me(http: httpx.AsyncClient, token: str, target: str | None = None) -> Outcome:
    return (await call(http, 'me', 'GET', '/me', token=token, target=target))[0]


async def once_writable(
    request: Callable[[], Awaitable[tuple[Outcome, httpx.Response | None]]], deadline: float
) -> tuple[Outcome, httpx.Response | None]:
    """Send `request` again while it is a 503 (the stores not taking writes yet), until `deadline`."""
    while True:
        done, response = await request()
        if done.status != 503 or time.time() > deadline:
            return done, response
        await asyncio.sleep(0.2)


def session_id(token: str) -> str:
    payload = token.split('.')[1]
    return json.loads(base64.urlsafe_b64decode(payload + '=' * (-len(payload) % 4)))['sid']


def seconds(value: float) -> str:
    return f'{value:.3f} s'


async def trickled_signup(cluster: Cluster, target: str, *, lasting: float, sending: asyncio.Event) -> Outcome:
    """A signup pinned to `target` whose body takes `lasting` s to arrive; `sending` is set once it is on its way."""
    body = json.dumps({'username': f'slow-{time.monotonic_ns()}', 'password': PASSWORD}).encode()
    pieces = [body[start : start + 6] for start in range(0, len(body), 6)]

    async def trickle():
        for piece in pieces:
            yield piece
            sending.set()
            await asyncio.sleep(lasting / len(pieces))

    async with httpx.AsyncClient(base_url=cluster.url, timeout=30.0) as http:
        done, _ = await call(
            http,
            'signup',
            'POST',
            '/auth/signup',
            target=target,
            content=trickle(),
            headers={'Content-Type': 'application/json'},
        )
    return done


@contextlib.contextmanager
def pool_watch(cluster: Cluster, host: str) -> Iterator[list[tuple[float, str]]]:
    """HAProxy's state of `host` every 50 ms while the block runs: (epoch, 'UP' / 'DOWN' / ...)."""
    states: list[tuple[float, str]] = []
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            states.append((time.time(), cluster.pool()[host]))
            time.sleep(0.05)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        yield states
    finally:
        done.set()
        watcher.join()


def left_pool(states: list[tuple[float, str]], after: float) -> float:
    """When HAProxy first had the host out of its pool after `after`."""
    return next(t for t, state in states if t > after and state != 'UP')


def uploads_then(
    cluster: Cluster, host: str, action: Callable[[], Any], *, start_at: float, count: int = 3, lasting: float = 3.0
) -> list[Callable[[], Awaitable[Any]]]:
    """`count` slow uploads pinned to `host` from `start_at` s, and `action` run (in a thread) once all are on
    their way: with `run_load(tasks=...)`, ``extra`` holds their outcomes, then (action began, action ended)."""
    sending = [asyncio.Event() for _ in range(count)]

    async def upload(event: asyncio.Event) -> Outcome:
        await asyncio.sleep(start_at)
        return await trickled_signup(cluster, host, lasting=lasting, sending=event)

    async def act() -> tuple[float, float]:
        await asyncio.wait_for(asyncio.gather(*(event.wait() for event in sending)), timeout=start_at + 30)
        await asyncio.sleep(0.3)  # the headers and the first bytes have reached the host
        began = time.time()
        await asyncio.to_thread(action)
        return began, time.time()

    return [*(functools.partial(upload, event) for event in sending), act]


# -- 1. logout ------------------------------------------------------------------------------------


def test_a_logout_on_one_host_is_refused_on_the_others_within_a_second(cluster):
    """After each logout on app1, app2 and app3 are polled for 1.5 s: when did they last accept the token?"""
    trials, windows, first_refusals, polls = 6, [], [], 0

    async def trial(http: httpx.AsyncClient) -> None:
        nonlocal polls
        tokens = await new_session(http, 'logout')
        for host in ('app2', 'app3'):
            for _ in range(4):  # both workers of each host have seen the session live
                assert (await me(http, tokens['access_token'], host)).status == 200
        done, _ = await call(http, 'logout', 'POST', '/auth/logout', token=tokens['access_token'], target='app1')
        assert done.status == 200 and done.served_by == 'app1', done
        acknowledged = done.ended
        last_accepted = dict.fromkeys(('app2', 'app3'), acknowledged)
        first_refused: dict[str, float] = {}
        while time.time() < acknowledged + 1.5:
            for host in ('app2', 'app3'):
                answer = await me(http, tokens['access_token'], host)
                polls += 1
                assert answer.served_by == host and answer.status in (200, 401), answer
                if answer.status == 200:
                    last_accepted[host] = answer.ended
                else:
                    first_refused.setdefault(host, answer.ended)
        assert set(first_refused) == {'app2', 'app3'}, 'a host never refused the revoked token'
        windows.append(max(last_accepted.values()) - acknowledged)
        first_refusals.append(max(first_refused.values()) - acknowledged)

    for _ in range(trials):
        run(cluster, trial)
    record(
        '1. logout on app1, refused on app2 and app3',
        f'worst window {seconds(max(windows))} (median {seconds(statistics.median(windows))}); every host refused '
        f'within {seconds(max(first_refusals))}; {trials} logouts, {polls} polls',
    )
    assert max(windows) < 1.0


# -- 2. login throttle ------------------------------------------------------------------------------


def test_login_failures_count_across_hosts_until_429(cluster):
    async def attempts(http: httpx.AsyncClient) -> list[Outcome]:
        username = f'throttled-{time.monotonic_ns()}'
        done, _ = await call(http, 'signup', 'POST', '/auth/signup', json={'username': username, 'password': PASSWORD})
        assert done.status == 201
        answers = []
        for attempt in range(MAX_FAILURES + 3):
            answer, _ = await call(
                http,
                'login',
                'POST',
                '/auth/login',
                target=APP_HOSTS[attempt % 3],
                json={'username': username, 'password': f'a wrong password {attempt}'},
            )
            answers.append(answer)
        right, _ = await call(
            http, 'login', 'POST', '/auth/login', target='app2', json={'username': username, 'password': PASSWORD}
        )
        return [*answers, right]

    answers = run(cluster, attempts)
    failures, refused = answers[:MAX_FAILURES], answers[MAX_FAILURES:]
    assert [a.status for a in failures] == [401] * MAX_FAILURES
    assert {a.served_by for a in failures} == set(APP_HOSTS), 'the failures did not reach every host'
    assert [a.status for a in refused] == [429] * len(refused)
    record(
        '2. login throttle across hosts',
        f'{MAX_FAILURES} failures served by {", ".join(a.served_by for a in failures)}; then '
        f'{len(refused)} x 429 (on {", ".join(a.served_by for a in refused)}), the right password included',
    )


# -- 3. refresh rotation ------------------------------------------------------------------------------


def test_a_refresh_token_spent_on_one_host_is_reuse_on_another_and_revokes_the_session(cluster):
    async def rotation(http: httpx.AsyncClient) -> dict[str, Any]:
        tokens = await new_session(http, 'rotation')
        spent, response = await call(
            http, 'refresh', 'POST', '/auth/refresh', target='app1', json={'refresh_token': tokens['refresh_token']}
        )
        assert spent.status == 200 and spent.served_by == 'app1', spent
        # Its successor used on app2: from then on the first token is a reuse, not a second tab's refresh.
        used, response = await call(
            http,
            'refresh',
            'POST',
            '/auth/refresh',
            target='app2',
            json={'refresh_token': response.json()['refresh_token']},
        )
        assert used.status == 200 and used.served_by == 'app2', used
        rotated = response.json()
        reuse, _ = await call(
            http, 'refresh', 'POST', '/auth/refresh', target='app3', json={'refresh_token': tokens['refresh_token']}
        )
        refused_at = {}
        while len(refused_at) < len(APP_HOSTS) and time.time() < reuse.ended + 2.0:
            for host in set(APP_HOSTS) - set(refused_at):
                answer = await me(http, rotated['access_token'], host)
                assert answer.status in (200, 401), answer
                if answer.status == 401:
                    refused_at[host] = answer.ended - reuse.ended
        again, _ = await call(
            http, 'refresh', 'POST', '/auth/refresh', target='app2', json={'refresh_token': rotated['refresh_token']}
        )
        return {'reuse': reuse, 'refused_at': refused_at, 'again': again}

    found = run(cluster, rotation)
    reuse = found['reuse']
    assert reuse.status == 401 and reuse.served_by == 'app3' and 'already used' in reuse.detail, reuse
    assert set(found['refused_at']) == set(APP_HOSTS), 'the rotated access token still works somewhere'
    assert found['again'].status == 401
    record(
        '3. refresh spent on app1, its successor used on app2, the first replayed on app3',
        f'401 "{reuse.detail}"; the rotated pair refused on every host within '
        f'{seconds(max(found["refused_at"].values()))}',
    )


# -- store round trips ----------------------------------------------------------------------------------


def test_store_round_trips_per_request(cluster):
    """What each kind of request asks MongoDB and Redis, one request at a time (the Store-Round-Trips header)."""

    def trips(response: httpx.Response) -> tuple[int, int]:
        parts = dict(part.strip().split('=') for part in response.headers['store-round-trips'].split(','))
        return int(parts['database']), int(parts['redis'])

    async def measure(http: httpx.AsyncClient) -> dict[str, list[tuple[int, int]]]:
        seen: dict[str, list[tuple[int, int]]] = {}

        async def send(kind: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
            _, response = await call(http, kind, method, path, target='app1', **kwargs)
            seen.setdefault(kind, []).append(trips(response))
            return response

        for number in range(5):
            credentials = {'username': f'trips-{number}-{time.monotonic_ns()}', 'password': PASSWORD}
            await send('signup', 'POST', '/auth/signup', json=credentials)
            tokens = (await send('login', 'POST', '/auth/login', json=credentials)).json()
            await send('me, first use of a token', 'GET', '/me', headers=_bearer(tokens))
            for _ in range(10):
                await send('me, again', 'GET', '/me', headers=_bearer(tokens))
            tokens = (
                await send('refresh', 'POST', '/auth/refresh', json={'refresh_token': tokens['refresh_token']})
            ).json()
            await send('logout', 'POST', '/auth/logout', headers=_bearer(tokens))
        return seen

    seen = run(cluster, measure)
    for kind, counts in seen.items():
        database = statistics.median(count[0] for count in counts)
        redis = statistics.median(count[1] for count in counts)
        record(
            f'round trips: {kind}', f'median MongoDB {database:g}, Redis {redis:g} (max {max(counts)} of {len(counts)})'
        )
    assert statistics.median(count[0] for count in seen['me, again']) == 0


def _bearer(tokens: dict[str, str]) -> dict[str, str]:
    return {'Authorization': f'Bearer {tokens["access_token"]}'}


# -- 4. SIGKILL -----------------------------------------------------------------------------------------


def test_a_host_killed_under_load_loses_only_its_requests_in_flight(cluster):
    """Besides the 20 clients, three slow uploads are in flight on the victim when it dies: they must fail,
    and whatever else fails must have been in flight on the victim; HAProxy must have seen failures nowhere else."""
    victim = 'app2'
    before = cluster.errors()
    with pool_watch(cluster, victim) as states:
        result = run_load(
            cluster.url,
            'kill',
            clients=20,
            duration=8.0,
            tasks=uploads_then(cluster, victim, cluster.processes[victim].kill_group, start_at=1.5),
        )
    # SIGKILL sent; the host's last process gone (until then the host accepts connections: see `kill_group`).
    *uploads, (killed, dead) = result.extra
    try:
        seen = {
            host: {name: count - before[host][name] for name, count in counts.items()}
            for host, counts in cluster.errors().items()
        }
        failures = [*result.failures(), *(o for o in uploads if not o.ok)]
        # A failed request may have no answer at all: when the host's connection dies under a request that is
        # not the first on the client's connection, HAProxy closes the client's connection without an answer
        # (so that the client may retry, as after a keep-alive close) and neither logs nor counts it. Otherwise
        # HAProxy's log and its counters say which host it was on.
        routed = cluster.haproxy_log()
        elsewhere = [
            f for f in failures if f.served_by not in ('', victim) or routed.get(f.request_id, (victim,))[0] != victim
        ]
        not_in_flight = [f for f in failures if not (f.started <= dead and f.ended >= killed)]
        failed_on = {host: counts['eresp'] + counts['srv_abrt'] for host, counts in seen.items()}
        after = [o for o in result.outcomes if o.served_by == victim and o.started > dead]
        missing = cluster.missing_users(result.signed_up)
        served_later = result.count(lambda o: o.ok and o.started > killed + 1.0)
        record(
            '4. app2 killed (SIGKILL) under 20 clients',
            f'{len(result.outcomes) + len(uploads)} requests, {len(failures)} failed, all in flight on '
            f'app2 ({", ".join(sorted(f"{f.kind} {f.status or f.detail}" for f in failures))}; HAProxy counted '
            f'{failed_on}); out of the pool {seconds(left_pool(states, killed) - killed)} after the kill; '
            f'{len(result.signed_up)} signups answered 201, {len(missing)} missing from the store; '
            f'{served_later} requests served after the kill',
        )
        assert not any(o.ok for o in uploads), f'an upload in flight on the dead host succeeded: {uploads}'
        assert not not_in_flight, (
            f'failures that were not in flight when {victim} died (SIGKILL at {killed:.3f}, gone at {dead:.3f}): '
            + '; '.join(
                f'{f} started {f.started - killed:+.3f} s, ended {f.ended - killed:+.3f} s after the '
                f'SIGKILL, HAProxy: {routed.get(f.request_id, "not logged")}'
                for f in not_in_flight[:5]
            )
        )
        assert not elsewhere, f'failures on another host: {elsewhere[:5]}'
        assert not any(failed_on[host] for host in APP_HOSTS if host != victim), failed_on
        assert not after, f'{victim} answered requests that started after it died: {after[:3]}'
        assert not missing, f'signups answered 201 but not stored: {missing[:5]}'
        assert served_later > 0
    finally:
        cluster.start_app_host(victim)
        cluster.wait_pool(set(APP_HOSTS), 60)


# -- 5. SIGTERM -----------------------------------------------------------------------------------------


def test_sigterm_takes_a_host_out_of_the_pool_before_it_stops_and_finishes_what_is_in_flight(cluster):
    victim = 'app3'
    host_watch = cluster.watch_host(victim, seconds=12.0)
    try:
        with pool_watch(cluster, victim) as states:
            result = run_load(
                cluster.url,
                'drain',
                clients=20,
                duration=7.0,
                tasks=uploads_then(cluster, victim, lambda: cluster.sigterm(victim, wait=30), start_at=1.0, count=1),
            )
    finally:
        probes = [json.loads(line) for line in host_watch.communicate(timeout=30)[0].splitlines()]
    try:
        slow, (terminated, exited_at) = result.extra
        out_of_pool = left_pool(states, terminated)
        stopped_serving = next(p['t'] for p in probes if p['t'] > terminated and p['status'] != 200)
        failures = result.failures()
        record(
            '5. SIGTERM on app3 under 20 clients',
            f'out of the pool after {seconds(out_of_pool - terminated)}, stopped serving after '
            f'{seconds(stopped_serving - terminated)} (drain {DRAIN_SECONDS} s); {len(result.outcomes)} requests, '
            f'{len(failures)} failed; a 3 s upload in flight answered {slow.status} at '
            f'+{seconds(slow.ended - terminated)}; the host exited at +{seconds(exited_at - terminated)}',
        )
        assert not cluster.processes[victim].running(), 'the host did not exit after SIGTERM'
        assert out_of_pool < stopped_serving, 'the host stopped serving before HAProxy took it out of the pool'
        assert not failures, f'requests failed during the drain: {failures[:5]}'
        assert slow.status == 201 and slow.served_by == victim and slow.ended > terminated + DRAIN_SECONDS, slow
    finally:
        cluster.start_app_host(victim)
        cluster.wait_pool(set(APP_HOSTS), 60)


# -- 6. Redis primary killed --------------------------------------------------------------------------------


def test_killing_the_redis_primary_fails_closed_then_follows_the_promoted_replica(cluster):
    old_primary = cluster.primary_host()
    processes_before = {host: cluster.app_processes(host) for host in APP_HOSTS}

    async def prepare(http: httpx.AsyncClient) -> tuple[list[str], list[str], float]:
        sessions = [await new_session(http, 'failover') for _ in range(8)]
        for tokens in sessions:
            for host in APP_HOSTS:
                assert (await me(http, tokens['access_token'], host)).status == 200
        revoked = [tokens['access_token'] for tokens in sessions[:4]]
        for number, token in enumerate(revoked[:3]):
            done, _ = await call(http, 'logout', 'POST', '/auth/logout', token=token, target=APP_HOSTS[number % 3])
            assert done.status == 200, done
        await asyncio.sleep(1.0)  # these three have reached every worker (within AUTH_CACHE['revocation_ttl'])
        done, _ = await call(http, 'logout', 'POST', '/auth/logout', token=revoked[3], target='app1')
        assert done.status == 200, done
        return revoked, [tokens['access_token'] for tokens in sessions[4:]], done.ended

    revoked, live, last_logout = run(cluster, prepare)
    killed = time.time()
    cluster.processes[f'redis-{old_primary}'].kill_group()  # right after the last acknowledged logout

    promoted: dict[str, Any] = {}

    def watch_sentinels() -> None:
        while 'host' not in promoted and time.time() < killed + 30:
            host = cluster.primary_host()
            if host not in (None, old_primary):
                promoted.update(host=host, at=time.time())
            time.sleep(0.1)

    watcher = threading.Thread(target=watch_sentinels, daemon=True)
    watcher.start()

    async def probe(http: httpx.AsyncClient) -> list[tuple[str, Outcome]]:
        seen: list[tuple[str, Outcome]] = []
        recovered_at = None
        number = 0
        while time.time() < killed + 40:
            host = APP_HOSTS[number % 3]
            seen.append(('revoked', await me(http, revoked[number % len(revoked)], host)))
            answer = await me(http, live[number % len(live)], host)
            seen.append(('live', answer))
            number += 1
            if recovered_at is None and 'host' in promoted and answer.status == 200:
                recovered_at = answer.ended
            if recovered_at is not None and answer.ended > recovered_at + 2.0:
                break
            await asyncio.sleep(0.02)
        return seen

    seen = run(cluster, probe)
    watcher.join()
    try:
        assert 'host' in promoted, 'Sentinel promoted no replica within 30 s'
        # The last logout may still be unread by other workers for AUTH_CACHE['revocation_ttl'] (0.5 s, at most 1 s).
        accepted_revoked = [
            o for kind, o in seen if kind == 'revoked' and o.status == 200 and o.started > last_logout + 1.0
        ]
        within_bound = sum(1 for kind, o in seen if kind == 'revoked' and o.status == 200)
        unexpected = [o for _, o in seen if o.status not in (200, 401, 503)]
        unavailable = [o for _, o in seen if o.status == 503]
        recovered = next(
            o
            for kind, o in seen
            if kind == 'live' and o.status == 200 and o.started > killed and o.ended > promoted['at']
        )

        async def after(http: httpx.AsyncClient) -> dict[str, Any]:
            found = {'revoked': [], 'live': []}
            for host in APP_HOSTS:
                for token in revoked:
                    found['revoked'].append(await me(http, token, host))
                for token in live:
                    found['live'].append(await me(http, token, host))
            # Until the other replica follows the new primary, the primary refuses writes (min-replicas-to-write 1)
            # and a signup (its throttle counts in Redis), a login or a logout is a 503; then each succeeds.
            credentials = {'username': f'after-failover-{time.monotonic_ns()}', 'password': PASSWORD}
            deadline = time.time() + 15
            found['signup'], _ = await once_writable(
                lambda: call(http, 'signup', 'POST', '/auth/signup', json=credentials), deadline
            )
            found['login'], response = await once_writable(
                lambda: call(http, 'login', 'POST', '/auth/login', json=credentials), deadline
            )
            token = response.json()['access_token'] if found['login'].status == 200 else None
            found['logout'], _ = await once_writable(
                lambda: call(http, 'logout', 'POST', '/auth/logout', token=token), deadline
            )
            return found

        found = run(cluster, after)
        new_primary = cluster.redis(promoted['host'])
        kept = [token for token in revoked if new_primary.exists(REVOKED_KEY.format(session_id(token)))]
        app_unavailable = sum(1 for o in unavailable if o.from_app)
        record(
            '6. Redis primary killed (SIGKILL)',
            f'{promoted["host"]} promoted after {seconds(promoted["at"] - killed)}; service back after '
            f'{seconds(recovered.ended - killed)}; meanwhile {len(unavailable)} x 503 ({app_unavailable} from the '
            f'app, the rest from HAProxy with no ready host); {within_bound} of '
            f'{sum(k == "revoked" for k, _ in seen)} revoked-token requests accepted (allowed only within 1 s of '
            f'their logout); '
            f'{len(kept)}/{len(revoked)} acknowledged revocations on the new primary; no app process restarted',
        )
        assert not accepted_revoked, f'a revoked token was accepted: {accepted_revoked[:3]}'
        assert not unexpected, f'answers other than 200/401/503: {unexpected[:5]}'
        assert unavailable, 'no request was refused while no primary was reachable'
        assert all(o.status == 401 for o in found['revoked'])
        assert all(o.status == 200 for o in found['live'])
        assert found['signup'].status == 201, found['signup']
        assert found['login'].status == 200, found['login']
        assert found['logout'].status == 200, found['logout']
        assert kept == revoked
        assert {host: cluster.app_processes(host) for host in APP_HOSTS} == processes_before
    finally:
        cluster.restart_redis(old_primary)  # it comes back as a replica of the new primary
        wait_until(lambda: cluster.redis(old_primary).role()[0] == b'slave', 60, what='the old primary following')


# -- 7. MongoDB stopped and restarted ------------------------------------------------------------------------


def test_the_store_stopped_and_restarted_under_load_gives_503_then_recovers_and_loses_nothing(cluster):
    mongo = cluster.processes['mongo']
    result = run_load(
        cluster.url,
        'mongo',
        clients=20,
        duration=12.0,
        events=[
            (2.5, 'stop', mongo.stop),
            (6.0, 'start', cluster.start_mongo),
        ],
    )
    stopped, started = result.events['stop done'], result.events['start done']
    during = [o for o in result.outcomes if stopped < o.started < started]
    unexpected = [o for o in result.outcomes if o.status not in (200, 201, 503)]
    recovered = min(
        (o.ended for o in result.outcomes if o.kind == 'signup' and o.ok and o.started > started), default=None
    )
    missing = cluster.missing_users(result.signed_up)

    async def still_revoked(http: httpx.AsyncClient) -> list[Outcome]:
        return [await me(http, token) for token in result.logged_out[-200:]]

    revoked_answers = run(cluster, still_revoked)
    unavailable = [o for o in result.outcomes if o.status == 503]
    record(
        '7. MongoDB-wire stopped for 3.5 s under 20 clients',
        f'{len(result.outcomes)} requests, {len(unavailable)} answered 503 ({sum(o.from_app for o in unavailable)} '
        f'by the app, the rest by HAProxy with no ready host); of {len(during)} sent while it was stopped, '
        f'{sum(o.ok for o in during)} answered from the caches; signups back '
        f'{seconds(recovered - started) if recovered else "never"} after the restart; '
        f'{len(result.signed_up)} signups answered 201, {len(missing)} missing; '
        f'{len(revoked_answers)} logged-out tokens still refused: {all(o.status == 401 for o in revoked_answers)}',
    )
    assert not unexpected, f'answers other than 200/201/503: {unexpected[:5]}'
    assert any(o.status == 503 for o in during), 'nothing was refused while the store was stopped'
    assert recovered is not None, 'no signup succeeded after the store came back'
    assert not missing, f'signups answered 201 but not stored: {missing[:5]}'
    assert all(o.status == 401 for o in revoked_answers)
