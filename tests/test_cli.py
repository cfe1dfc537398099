"""`panther-like check` in a real subprocess, the way a deploy script runs it.

Panther bug 1: a bad dotted path printed a raw traceback and exited with
status 0, so a deploy went ahead. Here it is one line and status 2.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import panther_like

pytestmark = pytest.mark.server

CLI = Path(sys.executable).with_name('panther-like')

URLS_MODULE = """
from panther_like import API


@API(methods=['GET'])
async def hello(request):
    return {'hello': 'world'}


@API(auth=True)
async def me(request):
    return {'id': request.user.id}


url_routing = {'hello': hello, 'me': me}
"""


def write_project(directory: Path, settings_name: str, authentication: str) -> None:
    (directory / 'cli_urls.py').write_text(URLS_MODULE)
    (directory / f'{settings_name}.py').write_text(
        textwrap.dedent(f"""
        SECRET_KEY = 'cli-test-secret' * 5
        URLS = 'cli_urls.url_routing'
        AUTHENTICATION = {authentication!r}
        DATABASE = {{'path': {str(directory / 's.sqlite3')!r}}}
    """)
    )


def run_check(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key not in ('PANTHER_LIKE_CONFIGS', 'PYTHONPATH')}
    return subprocess.run(
        [str(CLI), 'check', *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60, check=False
    )


@pytest.fixture(autouse=True)
def _cli_installed():
    if not CLI.exists():
        pytest.fail(f'the panther-like console script is not installed next to {sys.executable}')


def test_check_good_settings_exits_0_and_says_ok(tmp_path):
    write_project(tmp_path, 'good_settings', 'panther_like.authentications.JWTAuthentication')
    result = run_check(tmp_path, '--configs', 'good_settings')
    assert result.returncode == 0, result.stderr
    assert 'OK' in result.stdout
    assert 'good_settings' in result.stdout
    assert 'Traceback' not in result.stderr


def test_check_bad_authentication_path_exits_2(tmp_path):
    write_project(tmp_path, 'bad_settings', 'panther_like.authentications.Nope')
    result = run_check(tmp_path, '--configs', 'bad_settings')
    assert result.returncode == 2


def test_check_bad_authentication_path_prints_the_config_error(tmp_path):
    write_project(tmp_path, 'bad_settings', 'panther_like.authentications.Nope')
    result = run_check(tmp_path, '--configs', 'bad_settings')
    assert (
        "Invalid 'AUTHENTICATION': cannot import 'panther_like.authentications.Nope' "
        "(module 'panther_like.authentications' has no attribute 'Nope')"
    ) in result.stderr
    assert 'OK' not in result.stdout


def test_check_bad_authentication_path_prints_no_traceback(tmp_path):
    write_project(tmp_path, 'bad_settings', 'panther_like.authentications.Nope')
    result = run_check(tmp_path, '--configs', 'bad_settings')
    assert 'Traceback' not in result.stderr
    assert 'Traceback' not in result.stdout


def test_check_missing_settings_module_exits_2_without_traceback(tmp_path):
    result = run_check(tmp_path, '--configs', 'no_such_settings_module')
    assert result.returncode == 2
    assert "'no_such_settings_module'" in result.stderr
    assert 'Traceback' not in result.stderr


def test_check_reads_settings_module_from_environment(tmp_path):
    write_project(tmp_path, 'env_settings', 'panther_like.authentications.JWTAuthentication')
    env = {key: value for key, value in os.environ.items() if key != 'PYTHONPATH'}
    env['PANTHER_LIKE_CONFIGS'] = 'env_settings'
    result = subprocess.run(
        [str(CLI), 'check'], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert 'env_settings' in result.stdout


def test_version_prints_the_package_version(tmp_path):
    result = subprocess.run([str(CLI), '--version'], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f'panther-like {panther_like.__version__}'


def test_check_warns_about_an_upper_case_name_no_setting_reads(tmp_path):
    write_project(tmp_path, 'extra_settings', 'panther_like.authentications.JWTAuthentication')
    with (tmp_path / 'extra_settings.py').open('a') as settings:
        settings.write('PAGE_SIZE = 20\n')
    result = run_check(tmp_path, '--configs', 'extra_settings')
    assert result.returncode == 0, result.stderr
    assert 'warning: PAGE_SIZE is not a setting' in result.stderr
    assert 'SECRET_KEY' not in result.stderr


def test_check_says_when_the_store_cannot_be_reached_and_exits_1(tmp_path):
    write_project(tmp_path, 'dead_store_settings', 'panther_like.authentications.JWTAuthentication')
    dead = socket.socket()
    dead.bind(('127.0.0.1', 0))
    port = dead.getsockname()[1]
    dead.close()
    with (tmp_path / 'dead_store_settings.py').open('a') as settings:
        settings.write(f"DATABASE = {{'url': 'mongodb://127.0.0.1:{port}/app?serverSelectionTimeoutMS=500'}}\n")
    result = run_check(tmp_path, '--configs', 'dead_store_settings')
    assert result.returncode == 1, result.stdout + result.stderr
    assert 'cannot reach the store: MongoDB is unavailable' in result.stderr
    assert 'Traceback' not in result.stderr


def test_check_says_when_redis_cannot_be_reached_and_exits_1(tmp_path):
    write_project(tmp_path, 'dead_redis_settings', 'panther_like.authentications.JWTAuthentication')
    dead = socket.socket()
    dead.bind(('127.0.0.1', 0))
    port = dead.getsockname()[1]
    dead.close()
    with (tmp_path / 'dead_redis_settings.py').open('a') as settings:
        settings.write(f"REDIS = {{'url': 'redis://127.0.0.1:{port}/0'}}\n")
    result = run_check(tmp_path, '--configs', 'dead_redis_settings')
    assert result.returncode == 1, result.stdout + result.stderr
    assert 'cannot reach the store: Redis' in result.stderr
