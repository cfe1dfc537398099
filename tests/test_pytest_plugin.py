"""The pytest plugin's ``user`` fixture on a project whose user model has a required field of its own.

Run as a user runs it: ``pytest`` in a project directory, in a child process.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.server  # a child pytest

PROJECT = {
    'models.py': """
        from panther_like.db.models import BaseUser

        class User(BaseUser):
            email: str
    """,
    'configs.py': """
        SECRET_KEY = 'plugin-test-secret' * 4
        USER_MODEL = 'models.User'
        URLS = {}
    """,
    'conftest.py': """
        pytest_plugins = ['panther_like.testing.pytest_plugin']
    """,
    'pytest.ini': """
        [pytest]
        asyncio_mode = auto
        pythonpath = .
    """,
    'test_user.py': """
        async def test_the_user_fixture(user):
            assert user.username == 'testuser'
            assert user.email == 'test@example.com'
    """,
}
USER_FIELDS = """
    import pytest

    @pytest.fixture
    def user_fields():
        return {'email': 'test@example.com'}
"""


def run_pytest(directory: Path, *args: str, **env_values: str) -> subprocess.CompletedProcess[str]:
    """A user's ``pytest``; this suite's own choice of password hashes (the variable) is not passed on."""
    dropped = ('PANTHER_LIKE_CONFIGS', 'PYTHONPATH', 'PANTHER_LIKE_FAST_PASSWORD_HASH')
    env = {key: value for key, value in os.environ.items() if key not in dropped}
    env.update(env_values)
    return subprocess.run(
        [sys.executable, '-m', 'pytest', '-p', 'no:cacheprovider', '-q', *args],
        cwd=directory,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def write_project(directory: Path, **extra: str) -> None:
    for name, text in {**PROJECT, **extra}.items():
        (directory / name).write_text(textwrap.dedent(text))


def test_a_required_field_missing_says_to_override_user_fields_and_shows_no_hash(tmp_path):
    write_project(tmp_path)
    result = run_pytest(tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert 'user_fields' in output
    assert 'email' in output and 'Field required' in output
    assert '$argon2' not in output
    assert 'ValidationError' not in output
    assert 'input_value' not in output and 'During handling' not in output


def test_overriding_user_fields_creates_the_user_with_them(tmp_path):
    write_project(tmp_path, **{'conftest.py': textwrap.dedent(PROJECT['conftest.py']) + textwrap.dedent(USER_FIELDS)})
    result = run_pytest(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert '1 passed' in result.stdout


HASH_PARAMETERS = """
    from panther_like.crypto.passwords import hash_password

    def test_the_hash_parameters():
        print('HASHED', hash_password('pw'))
"""


def test_the_plugin_gives_the_projects_tests_cheap_password_hashes(tmp_path):
    write_project(tmp_path, **{'test_user.py': HASH_PARAMETERS})
    result = run_pytest(tmp_path, '-s')
    assert result.returncode == 0, result.stdout + result.stderr
    assert 'm=1024,t=1,p=1' in result.stdout


def test_the_fast_hash_variable_at_0_keeps_real_password_hashes_in_the_projects_tests(tmp_path):
    write_project(tmp_path, **{'test_user.py': HASH_PARAMETERS})
    result = run_pytest(tmp_path, '-s', PANTHER_LIKE_FAST_PASSWORD_HASH='0')
    assert result.returncode == 0, result.stdout + result.stderr
    assert 'HASHED $argon2id$' in result.stdout
    assert 'm=1024,t=1,p=1' not in result.stdout


STORE_NAME = """
    async def test_the_store(panther_app, user):
        print('STORE', panther_app.database.name, panther_app.config.database.get('url') or '')
"""


def test_the_store_option_runs_the_projects_tests_on_a_mongodb_server(tmp_path, mongodb_url):
    write_project(
        tmp_path,
        **{
            'conftest.py': textwrap.dedent(PROJECT['conftest.py']) + textwrap.dedent(USER_FIELDS),
            'test_user.py': STORE_NAME,
        },
    )
    result = run_pytest(tmp_path, '-s', f'--panther-like-store={mongodb_url}')
    assert result.returncode == 0, result.stdout + result.stderr
    assert 'STORE mongodb' in result.stdout
    assert '/test_' in result.stdout  # a database of its own


def test_without_the_store_option_the_projects_tests_use_an_embedded_file(tmp_path):
    write_project(
        tmp_path,
        **{
            'conftest.py': textwrap.dedent(PROJECT['conftest.py']) + textwrap.dedent(USER_FIELDS),
            'test_user.py': STORE_NAME,
        },
    )
    result = run_pytest(tmp_path, '-s')
    assert result.returncode == 0, result.stdout + result.stderr
    assert 'STORE embedded' in result.stdout


def test_another_store_option_is_a_usage_error(tmp_path):
    write_project(tmp_path, **{'test_user.py': STORE_NAME})
    result = run_pytest(tmp_path, '--panther-like-store=postgres://db')
    assert result.returncode != 0
    assert 'expected embedded or a mongodb:// URL' in result.stdout + result.stderr


def test_the_documented_pytest_ini_raises_no_deprecation_warning(tmp_path):
    testing = (Path(__file__).parent.parent / 'docs' / 'testing.md').read_text()
    documented = testing.split('```ini file=pytest.ini\n', 1)[1].split('```', 1)[0]
    write_project(
        tmp_path,
        **{
            'pytest.ini': documented,
            'conftest.py': textwrap.dedent(PROJECT['conftest.py']) + textwrap.dedent(USER_FIELDS),
            'test_user.py': STORE_NAME,
        },
    )
    result = run_pytest(tmp_path, '-W', 'error::DeprecationWarning')
    assert result.returncode == 0, result.stdout + result.stderr
    assert 'Deprecation' not in result.stdout + result.stderr
