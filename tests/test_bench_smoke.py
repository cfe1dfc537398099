"""The bench/ harness pieces that can be checked without wrk or a server.

Each target app must answer /public, and /private with a valid token (the
right user), and refuse no token, a bad signature, another key, an expired
token and garbage with a 401. Peers not installed in this venv (Starlette,
FastAPI, Panther live in bench/.venv) are not checked here; ``python3 bench/run.py
--check`` checks all of them in bench/.venv, and every benchmark run does too.
The rotated-token shape needs real users: in panther_like's store (made by
bench/tasks.py through the framework) and in the peers' dict (``BENCH_USERS``).
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import httpx
import pytest

BENCH = Path(__file__).resolve().parent.parent / 'bench'
TARGET_MODULES = (
    'bench_common',
    'raw_app',
    'limit_app',
    'starlette_app',
    'fastapi_app',
    'panther_app',
    'panther_db_app',
    'panther_like_app',
    'panther_like_settings',
)
HARNESS_MODULES = ('environment', 'servers', 'lineup', 'measuring', 'report_tables', 'reporting', 'profiling', 'run')


def _load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


def _forget(names: tuple[str, ...]) -> None:
    for name in names:
        sys.modules.pop(name, None)


@pytest.fixture
def tasks(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[ModuleType]:
    """bench/tasks.py, with bench/targets importable and a fresh embedded store; target modules unloaded after."""
    monkeypatch.syspath_prepend(str(BENCH / 'targets'))
    monkeypatch.setenv('BENCH_EMBEDDED_PATH', str(tmp_path / 'bench.sqlite3'))
    monkeypatch.delenv('BENCH_MONGODB_URL', raising=False)
    monkeypatch.delenv('BENCH_REDIS_URL', raising=False)
    monkeypatch.delenv('BENCH_USERS', raising=False)
    _forget(TARGET_MODULES)
    try:
        yield _load('bench_tasks', BENCH / 'tasks.py')
    finally:
        _forget(TARGET_MODULES)


@pytest.fixture
def harness(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """The bench/ modules run.py is made of, importable as run.py imports them (bench/ on sys.path)."""
    monkeypatch.syspath_prepend(str(BENCH))
    _forget(HARNESS_MODULES)
    try:
        yield importlib.import_module('run')
    finally:
        _forget(HARNESS_MODULES)


# -- the targets answer and refuse ---------------------------------------------------------------


async def test_raw_target_answers_and_refuses(tasks: ModuleType) -> None:
    # The peers (Starlette, FastAPI, Panther) live in bench/.venv; `python bench/run.py --check` checks them.
    assert (await tasks.check('raw'))['problems'] == []


async def test_limit_target_answers_and_refuses(tasks: ModuleType) -> None:
    # Each token verified once, then answered from a dict: an expired or forged token is still refused.
    assert (await tasks.check('limit'))['problems'] == []


async def test_panther_like_target_answers_and_refuses(tasks: ModuleType) -> None:
    # A real user in the embedded store, logged in, then /public, /private and five refusals.
    assert (await tasks.check('panther_like'))['problems'] == []


async def test_a_wrong_target_is_caught(tasks: ModuleType) -> None:
    """The check itself is not vacuous: an app that lets everything through is reported."""
    import orjson

    async def lets_everyone_in(scope, receive, send):
        await send({'type': 'http.response.start', 'status': 200, 'headers': []})
        await send({'type': 'http.response.body', 'body': orjson.dumps({'id': 'x', 'username': 'bench'})})

    from bench_common import USER_ID, make_token

    problems = await tasks.check_app(lets_everyone_in, make_token(USER_ID), USER_ID)
    assert any('/public' in p for p in problems)
    assert any('without a token' in p for p in problems)
    assert any('expired' in p for p in problems)


# -- users of the rotated-token shape ------------------------------------------------------------


async def _private(app: ModuleType, token: str) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url='http://127.0.0.1') as client:
        return await client.get('/private', headers={'Authorization': f'Bearer {token}'})


async def test_store_users_each_get_a_token_that_authenticates_as_them(tasks: ModuleType, tmp_path: Path) -> None:
    out = tmp_path / 'tokens.txt'
    made = await tasks.prepare_users(30, str(out), batch=7)
    tokens = out.read_text().split()
    assert (made['created'], made['existing'], len(tokens), len(set(tokens))) == (30, 0, 30, 30)
    app = tasks.load_app('panther_like')
    await app.startup()
    try:
        for n in (0, 13, 29):
            response = await _private(app, tokens[n])
            assert (response.status_code, response.json()['username']) == (200, f'bench-user-{n}')
    finally:
        await app.shutdown()


async def test_store_users_already_there_are_reused(tasks: ModuleType, tmp_path: Path) -> None:
    await tasks.prepare_users(5, str(tmp_path / 'first.txt'))
    made = await tasks.prepare_users(8, str(tmp_path / 'second.txt'))
    assert (made['created'], made['existing']) == (3, 5)
    assert len((tmp_path / 'second.txt').read_text().split()) == 8


async def test_peer_dict_holds_bench_users_users(tasks: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv('BENCH_USERS', '40')
    from bench_common import USERS, make_token, rotated_user_id

    app = tasks.load_app('raw')
    assert len(USERS) == 41  # the one-token user, and 40 more
    response = await _private(app, make_token(rotated_user_id(39)))
    assert (response.status_code, response.json()['username']) == (200, 'bench-user-39')
    assert (await _private(app, make_token(rotated_user_id(40)))).status_code == 401


# -- command line and target selection ------------------------------------------------------------


def test_user_counts_are_parsed(harness: ModuleType) -> None:
    assert harness.parse_user_counts('1000,10k,100_000') == [1000, 10_000, 100_000]
    assert harness.parse_user_counts('none') == []
    with pytest.raises(ValueError):
        harness.parse_user_counts('many')


def test_quick_defaults_to_the_headline_user_count(harness: ModuleType) -> None:
    assert harness.parse_args(['--quick']).users == [1000]
    assert harness.parse_args([]).users == [1000, 10_000, 100_000]
    assert harness.parse_args(['--quick', '--users', 'none']).users == []


def test_profiling_a_route_needs_its_users(harness: ModuleType) -> None:
    with pytest.raises(SystemExit):
        harness.parse_args(['--profile', '--profile-route', '/private@5000', '--users', '1000'])
    opts = harness.parse_args(['--profile', '--targets', 'raw', '--profile-target', 'panther_like_mongodb'])
    assert opts.targets == 'raw,panther_like_mongodb'


def test_targets_are_selected_by_name_or_alias_and_raw_is_always_in(harness: ModuleType, tmp_path: Path) -> None:
    lineup = sys.modules['lineup']
    opts = harness.parse_args(['--workers', '1'])
    everything = lineup.all_targets(opts, tmp_path, 'mongodb://127.0.0.1:1', None)
    chosen = lineup.select(everything, 'panther_like_embedded,panther-like-mongo')
    assert [t.name for t in chosen] == ['raw', 'panther_like', 'panther_like-mongo']
    with pytest.raises(SystemExit):
        lineup.select(everything, 'flask')


def test_peers_size_their_dict_per_user_count_and_panther_like_does_not(harness: ModuleType, tmp_path: Path) -> None:
    lineup = sys.modules['lineup']
    targets = {t.name: t for t in lineup.all_targets(harness.parse_args([]), tmp_path, None, None)}
    assert targets['raw'].env_for(10_000)['BENCH_USERS'] == '10000'
    assert 'BENCH_USERS' not in targets['raw'].env_for(0)
    assert targets['panther_like'].env_for(10_000) == targets['panther_like'].env
    assert not targets['panther-db'].rotates


# -- wrk output, profiles, the results file -------------------------------------------------------

WRK_OUTPUT = """\
Running 10s test @ http://127.0.0.1:41234/private
  1 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     3.10ms  512.00us  20.01ms   90.00%
    Req/Sec    20.50k     1.00k   22.00k    80.00%
  Latency Distribution
     50%  850.00us
     75%    3.20ms
     90%    3.50ms
     99%    1.20s
  204000 requests in 10.00s, 30.00MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 7
Requests/sec:  20400.12
Transfer/sec:      3.00MB
"""


def test_wrk_output_is_parsed(harness: ModuleType) -> None:
    measuring = sys.modules['measuring']
    result = measuring.parse_wrk(WRK_OUTPUT)
    assert result.rps == pytest.approx(20400.12)
    assert result.p50 == pytest.approx(0.85)
    assert result.p99 == pytest.approx(1200.0)
    assert result.requests == 204000
    assert (result.non_2xx, result.socket_errors, result.errors) == (7, 3, 10)
    clean = measuring.parse_wrk(
        WRK_OUTPUT.replace('  Socket errors: connect 0, read 2, write 0, timeout 1\n', '').replace(
            '  Non-2xx or 3xx responses: 7\n', ''
        )
    )
    assert clean.errors == 0


def test_a_token_file_makes_wrk_rotate_tokens(harness: ModuleType, tmp_path: Path) -> None:
    measuring = sys.modules['measuring']
    opts = harness.parse_args([])
    command, env = measuring.wrk_command(8000, '/private', tmp_path / 'users.txt', 10, opts, pinned=True)
    assert command[:3] == ['taskset', '-c', measuring.WRK_CPU]
    assert command[command.index('-s') + 1] == str(BENCH / 'rotate_tokens.lua')
    assert env['BENCH_TOKENS_FILE'] == str(tmp_path / 'users.txt')
    command, env = measuring.wrk_command(8000, '/private', 'abc', 10, opts, pinned=False)
    assert 'Authorization: Bearer abc' in command and env is None and command[0] == 'wrk'


COLLAPSED = """\
<module> (uvicorn:1);Runner.run (asyncio/runners.py:86) 6
<module> (uvicorn:1);Runner.run (asyncio/runners.py:86);Panther._http (panther_like/app.py:122) 3
<module> (uvicorn:1);Runner.run (asyncio/runners.py:86);Panther._http (panther_like/app.py:122);\
RequestResponseCycle.send (uvicorn/protocols/http/httptools_impl.py:463) 1
"""


def test_py_spy_stacks_are_counted_by_self_total_and_package(harness: ModuleType) -> None:
    profiling = sys.modules['profiling']
    stacks = profiling.parse_collapsed(COLLAPSED)
    http = 'Panther._http (panther_like/app.py:122)'
    assert stacks.samples == 10
    assert (stacks.self_counts[http], stacks.total_counts[http]) == (3, 4)
    assert stacks.package_counts == {'asyncio': 6, 'panther_like': 3, 'uvicorn': 1}
    # The start-up frame that only wraps the loop is left out of the totals table; the loop itself is not.
    assert set(stacks.inner_totals()) == {
        'Runner.run (asyncio/runners.py:86)',
        http,
        'RequestResponseCycle.send (uvicorn/protocols/http/httptools_impl.py:463)',
    }


def test_a_new_section_goes_first_and_older_ones_are_kept(harness: ModuleType, tmp_path: Path) -> None:
    reporting = sys.modules['reporting']
    results = tmp_path / 'RESULTS.md'
    results.write_text('# Benchmark results\n\nAn older header.\n\n## 2026-01-01 00:00 UTC: full\nold figures\n')
    reporting.write_results('## 2026-02-02 00:00 UTC: quick\nnew figures', results)
    text = results.read_text()
    assert text.startswith(reporting.HEADER)
    assert 'An older header' not in text
    assert text.index('new figures') < text.index('## 2026-01-01') < text.index('old figures')
