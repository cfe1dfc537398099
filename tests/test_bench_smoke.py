"""The bench/ harness pieces that can be checked without wrk or a server: target apps and wrk parsing.

Each target app must answer /public, and /private with a valid token (the
right user), and refuse no token, a bad signature, another key, an expired
token and garbage with a 401. Peers not installed in this venv (Starlette,
FastAPI, Panther live in bench/.venv) are not checked here; ``python3 bench/run.py
--check`` checks all of them in bench/.venv, and every benchmark run does too.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parent.parent / 'bench'
TARGET_MODULES = ('bench_common', 'raw_app', 'starlette_app', 'fastapi_app', 'panther_app', 'panther_db_app',
                  'panther_like_app', 'panther_like_settings')


def _load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def tasks(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[ModuleType]:
    """bench/tasks.py, with bench/targets importable and a fresh embedded store; target modules unloaded after."""
    monkeypatch.syspath_prepend(str(BENCH / 'targets'))
    monkeypatch.setenv('BENCH_EMBEDDED_PATH', str(tmp_path / 'bench.sqlite3'))
    monkeypatch.delenv('BENCH_MONGODB_URL', raising=False)
    monkeypatch.delenv('BENCH_REDIS_URL', raising=False)
    for name in TARGET_MODULES:
        sys.modules.pop(name, None)
    try:
        yield _load('bench_tasks', BENCH / 'tasks.py')
    finally:
        for name in TARGET_MODULES:
            sys.modules.pop(name, None)


async def test_raw_target_answers_and_refuses(tasks: ModuleType) -> None:
    # The peers (Starlette, FastAPI, Panther) live in bench/.venv; `python bench/run.py --check` checks them.
    assert (await tasks.check('raw'))['problems'] == []


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


def test_wrk_output_is_parsed() -> None:
    run = _load('bench_run', BENCH / 'run.py')
    result = run.parse_wrk(WRK_OUTPUT)
    assert result.rps == pytest.approx(20400.12)
    assert result.p50 == pytest.approx(0.85)
    assert result.p99 == pytest.approx(1200.0)
    assert result.requests == 204000
    assert (result.non_2xx, result.socket_errors, result.errors) == (7, 3, 10)
    clean = run.parse_wrk(WRK_OUTPUT.replace('  Socket errors: connect 0, read 2, write 0, timeout 1\n', '')
                          .replace('  Non-2xx or 3xx responses: 7\n', ''))
    assert clean.errors == 0
