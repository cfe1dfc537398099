"""Every ``panther-like`` subcommand, through a real subprocess, in a copy of the example project.

The copy has its own ``.env`` (secret, store file in the temp directory), so
nothing here touches the repository's store or settings.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.servers import free_port

pytestmark = pytest.mark.server

REPO = Path(__file__).resolve().parents[1]
CLI = Path(sys.executable).with_name('panther-like')
SECRET = 'cli-commands-secret-0123456789-abcdefghij'
#: A password the default policy accepts, as ``--password-stdin`` reads it.
PASSWORD_LINE = 'a long and uncommon passphrase 93\n'
INHERITED = ('SECRET_KEY', 'MONGODB_URL', 'DB_PATH', 'REDIS_URL', 'PANTHER_LIKE_CONFIGS', 'PYTHONPATH')


def copy_example(directory: Path, **env_values: str) -> Path:
    for name in ('configs', 'core', 'example_app'):
        shutil.copytree(REPO / name, directory / name, ignore=shutil.ignore_patterns('__pycache__', 'tests'))
    values = {'SECRET_KEY': SECRET, 'DB_PATH': str(directory / 'store.sqlite3'), **env_values}
    (directory / '.env').write_text(''.join(f'{key}={value}\n' for key, value in values.items()))
    return directory


def cli_env() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in INHERITED}
    env['PANTHER_LIKE_FAST_PASSWORD_HASH'] = '1'
    return env


def cli(project: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CLI), *args],
        cwd=project,
        env=cli_env(),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture(scope='module')
def project(tmp_path_factory) -> Path:
    return copy_example(tmp_path_factory.mktemp('project'))


def start_run(project: Path, *args: str) -> tuple[subprocess.Popen[str], list[str]]:
    """Start ``panther-like run`` and read its output until uvicorn says it is serving (or it exits)."""
    process = subprocess.Popen(
        [str(CLI), 'run', *args],
        cwd=project,
        env=cli_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: list[str] = []
    deadline = time.monotonic() + 30
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip('\n'))
        if 'Uvicorn running on' in line or 'Application startup complete' in line:
            break
    return process, lines


def stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)  # its own session: only what it started
        process.wait(timeout=10)


@pytest.mark.parametrize('command', ['check', 'run', 'routes', 'createuser', 'token', 'mfa'])
def test_every_subcommand_has_help(project, command):
    result = cli(project, command, '--help')
    assert result.returncode == 0
    assert '--configs' in result.stdout


def test_routes_lists_path_methods_and_authentication(project):
    result = cli(project, 'routes')
    assert result.returncode == 0, result.stderr
    me = next(line for line in result.stdout.splitlines() if line.startswith('/me '))
    assert me.split()[1:] == [
        'GET,',
        'HEAD',
        'panther_like.auth.authentication_classes.JWTAuthentication',
        '(AUTHENTICATION)',
    ]


def test_routes_shows_websocket_authentication(project):
    result = cli(project, 'routes')
    assert 'QueryParamJWTAuthentication (WS_AUTHENTICATION)' in result.stdout


def test_routes_names_a_route_level_authentication_class(project):
    result = cli(project, 'routes')
    assert 'HeaderOrCookieJWTAuthentication' in result.stdout


def test_routes_marks_public_routes_with_a_dash(project):
    signup = next(line for line in cli(project, 'routes').stdout.splitlines() if line.startswith('/auth/signup'))
    assert signup.split()[-1] == '-'


def test_createuser_from_stdin_creates_the_user(project):
    result = cli(project, 'createuser', '--username', 'carol', '--password-stdin', stdin=PASSWORD_LINE)
    assert result.returncode == 0, result.stderr
    assert "Created User 'carol'" in result.stdout


def test_createuser_refuses_a_password_the_policy_refuses(project):
    result = cli(project, 'createuser', '--username', 'kim', '--password-stdin', stdin='password1\n')
    assert result.returncode == 1
    assert 'one of the most common passwords' in result.stderr
    assert '--no-password-policy' in result.stderr


def test_createuser_refuses_the_username_as_password(project):
    result = cli(project, 'createuser', '--username', 'lorenzo99', '--password-stdin', stdin='Lorenzo99\n')
    assert result.returncode == 1
    assert 'must not be the username' in result.stderr


def test_createuser_with_no_password_policy_creates_the_user_anyway(project):
    result = cli(project, 'createuser', '--username', 'mo', '--password-stdin', '--no-password-policy', stdin='pw\n')
    assert result.returncode == 0, result.stderr
    assert "Created User 'mo'" in result.stdout


def test_createuser_twice_says_the_name_is_taken(project):
    cli(project, 'createuser', '--username', 'dave', '--password-stdin', stdin=PASSWORD_LINE)
    result = cli(project, 'createuser', '--username', 'dave', '--password-stdin', stdin=PASSWORD_LINE)
    assert result.returncode == 1
    assert "a user named 'dave' already exists" in result.stderr


def test_createuser_without_a_terminal_asks_for_password_stdin(project):
    result = cli(project, 'createuser', '--username', 'erin', stdin='')
    assert result.returncode == 1
    assert '--password-stdin' in result.stderr


def test_createuser_rejects_a_malformed_field(project):
    result = cli(
        project, 'createuser', '--username', 'fay', '--password-stdin', '--field', 'email', stdin=PASSWORD_LINE
    )
    assert result.returncode == 1
    assert '--field expects NAME=VALUE' in result.stderr


def test_createuser_flags_set_superuser_inactive_and_verified(project):
    result = cli(
        project,
        'createuser',
        '--username',
        'root',
        '--password-stdin',
        '--superuser',
        '--verified',
        '--inactive',
        stdin=PASSWORD_LINE,
    )
    assert result.returncode == 0, result.stderr
    assert "Created User 'root' [superuser, inactive, verified]" in result.stdout
    probe = (
        'import asyncio\nfrom panther_like import Panther\nfrom example_app.models import User\n'
        'async def main():\n    app = Panther(configs="configs")\n    await app.startup()\n'
        '    user = await User.find_one(username="root")\n'
        '    print(user.is_superuser, user.is_active, user.is_verified)\n    await app.shutdown()\n'
        'asyncio.run(main())\n'
    )
    shown = subprocess.run(
        [sys.executable, '-c', probe],
        cwd=project,
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert shown.stdout.split() == ['True', 'False', 'True'], shown.stderr


def test_createuser_refuses_a_lookalike_of_an_existing_username(project):
    cli(project, 'createuser', '--username', 'Quinn', '--password-stdin', stdin=PASSWORD_LINE)
    result = cli(project, 'createuser', '--username', 'QUINN', '--password-stdin', stdin=PASSWORD_LINE)
    assert result.returncode == 1
    assert "a user named 'QUINN' already exists" in result.stderr


def test_createuser_refuses_a_username_with_invisible_characters(project):
    result = cli(project, 'createuser', '--username', 'ro\u200bot', '--password-stdin', stdin=PASSWORD_LINE)
    assert result.returncode == 1
    assert 'invisible' in result.stderr


def test_createuser_field_cannot_set_a_flag(project):
    result = cli(
        project, 'createuser', '--username', 'zed', '--password-stdin', '--field', 'is_superuser=1', stdin=PASSWORD_LINE
    )
    assert result.returncode == 1
    assert '--superuser' in result.stderr


def test_createuser_refuses_an_unknown_field_and_creates_nothing(project):
    result = cli(
        project, 'createuser', '--username', 'dee', '--password-stdin', '--field', 'nickname=d', stdin=PASSWORD_LINE
    )
    assert result.returncode == 1
    assert 'nickname' in result.stderr and 'email' in result.stderr  # the field, and the ones there are
    assert 'nothing was created' in result.stderr
    assert "no user 'dee'" in cli(project, 'token', 'dee').stderr


def test_createuser_refuses_a_field_with_a_control_character(project):
    result = cli(
        project,
        'createuser',
        '--username',
        'eve2',
        '--password-stdin',
        '--field',
        'email=e\x1b@x.test',
        stdin=PASSWORD_LINE,
    )
    assert result.returncode == 1
    assert 'email' in result.stderr and 'control' in result.stderr
    assert "no user 'eve2'" in cli(project, 'token', 'eve2').stderr


def _legacy_store(directory: Path, *usernames: str) -> Path:
    """A copy of the example whose store holds users saved without a canonical username key."""
    project = copy_example(directory)
    rows = ', '.join(
        f"{{'_id': '{n:024x}', 'username': {name!r}, 'password': '', 'date_created': 0.0}}"
        for n, name in enumerate(usernames)
    )
    probe = (
        'import asyncio\nfrom panther_like import Panther\n'
        'async def main():\n    app = Panther(configs="configs")\n    await app.database.connect()\n'
        f'    for row in [{rows}]:\n        await app.database.collection("User").insert_one(row)\n'
        '    await app.shutdown()\nasyncio.run(main())\n'
    )
    done = subprocess.run(
        [sys.executable, '-c', probe],
        cwd=project,
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return project


def test_migrate_usernames_gives_old_users_their_key(tmp_path):
    project = _legacy_store(tmp_path, 'Ann', 'bob')
    assert 'migrate-usernames' in cli(project, 'token', 'Ann').stderr  # start-up refuses the old store
    dry = cli(project, 'migrate-usernames', '--dry-run')
    assert dry.returncode == 0 and '2 of 2 users' in dry.stdout and 'nothing written' in dry.stdout
    result = cli(project, 'migrate-usernames')
    assert result.returncode == 0, result.stderr
    assert cli(project, 'token', 'Ann', '--access').returncode == 0


def test_migrate_usernames_changes_nothing_when_two_users_collide(tmp_path):
    project = _legacy_store(tmp_path, 'Bob', 'BOB')
    result = cli(project, 'migrate-usernames')
    assert result.returncode == 1
    assert "'Bob'" in result.stderr and "'BOB'" in result.stderr and 'nothing was changed' in result.stderr
    assert 'migrate-usernames' in cli(project, 'token', 'Bob').stderr


def test_token_prints_an_access_and_refresh_pair(project):
    cli(project, 'createuser', '--username', 'gus', '--password-stdin', stdin=PASSWORD_LINE)
    result = cli(project, 'token', 'gus')
    assert result.returncode == 0, result.stderr
    assert set(json.loads(result.stdout)) == {'access_token', 'refresh_token'}


def test_token_access_prints_only_the_access_token(project):
    cli(project, 'createuser', '--username', 'hal', '--password-stdin', stdin=PASSWORD_LINE)
    result = cli(project, 'token', 'hal', '--access')
    assert result.stdout.strip().count('.') == 2


def test_token_for_an_unknown_user_says_how_to_create_one(project):
    result = cli(project, 'token', 'nobody')
    assert result.returncode == 1
    assert 'panther-like createuser --username nobody' in result.stderr


def test_check_suggests_the_nearest_class_name(tmp_path):
    copy_example(tmp_path)
    settings = tmp_path / 'configs' / '__init__.py'
    settings.write_text(
        settings.read_text().replace(
            "'panther_like.authentications.JWTAuthentication'", "'panther_like.authentications.JWTAuthenticaton'"
        )
    )
    result = cli(tmp_path, 'check')
    assert result.returncode == 2
    assert "did you mean 'JWTAuthentication'?" in result.stderr


def test_run_with_the_port_in_use_prints_one_line_and_exits_1(project):
    with socket.socket() as busy:
        busy.bind(('127.0.0.1', 0))
        busy.listen()
        result = cli(project, 'run', '--port', str(busy.getsockname()[1]))
    assert result.returncode == 1
    assert 'already in use' in result.stderr
    assert 'Traceback' not in result.stderr + result.stdout


def test_run_summary_names_settings_store_authentication_and_routes(project):
    process, lines = start_run(project, '--port', str(free_port()))
    stop(process)
    output = '\n'.join(lines)
    assert 'settings        configs' in output
    assert f'embedded store at {project / "store.sqlite3"}' in output
    assert 'HTTP: panther_like.auth.authentication_classes.JWTAuthentication' in output
    # One per path: `routes` gives a path whose methods are guarded differently a row per guard.
    route_count = len({line.split()[0] for line in cli(project, 'routes').stdout.splitlines()[1:]})
    assert f'routes          {route_count} ' in output


def test_run_summary_hides_the_mongodb_password_and_warns_it_is_unreachable(tmp_path):
    dead = free_port()
    project = copy_example(tmp_path, MONGODB_URL=f'mongodb://admin:hunter2@127.0.0.1:{dead}/app')
    process, lines = start_run(project, '--port', str(free_port()))
    stop(process)
    output = '\n'.join(lines)
    assert f'MongoDB at mongodb://127.0.0.1:{dead}/app' in output
    assert 'hunter2' not in output
    assert 'WARNING         MongoDB is unavailable' in output


def converse(project: Path, args: list[str], answers: list[tuple[str, str]]) -> tuple[int, str]:
    """Run the command on a pseudo-terminal, typing each answer once its prompt appears."""
    import pty

    pid, terminal = pty.fork()
    if pid == 0:  # the child: the pty is its controlling terminal, as in a real shell
        os.chdir(project)
        os.execve(str(CLI), [str(CLI), *args], cli_env())
    seen = b''
    try:
        for prompt, answer in answers:
            while prompt.encode() not in seen:
                seen += os.read(terminal, 1024)
            seen = seen.split(prompt.encode(), 1)[1]
            os.write(terminal, answer.encode() + b'\n')
        with contextlib.suppress(OSError):  # EIO once the child has exited
            while chunk := os.read(terminal, 1024):
                seen += chunk
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(terminal)
    return os.waitstatus_to_exitcode(status), seen.decode(errors='replace')


def test_createuser_asks_for_the_username_and_the_password_twice(project):
    code, output = converse(
        project,
        ['createuser'],
        [
            ('Username: ', 'ivy'),
            ('Password: ', 'tty secret'),
            ('Password (again): ', 'tty secret'),
        ],
    )
    assert code == 0, output
    assert "Created User 'ivy'" in output
    assert 'tty secret' not in output  # hidden input: never echoed


def test_createuser_refuses_two_different_passwords(project):
    code, output = converse(
        project,
        ['createuser', '--username', 'jon'],
        [
            ('Password: ', 'one'),
            ('Password (again): ', 'two'),
        ],
    )
    assert code == 1
    assert 'the two passwords differ' in output
