"""The uvicorn the tests start hashes passwords cheaply unless a test asks for the real parameters.

What runs is the launcher's top level, as each spawned uvicorn worker runs it (``__mp_main__``).
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.uvicorn import BOOT

AS_A_WORKER = (
    'import runpy, sys; runpy.run_path(sys.argv[1], run_name="__mp_main__"); '
    "from panther_like.crypto.passwords import hash_password; print(hash_password('pw'))"
)
FAST = 'm=1024,t=1,p=1'


def hash_in_a_worker(value: str) -> str:
    env = {**os.environ, 'PANTHER_LIKE_FAST_PASSWORD_HASH': value}
    result = subprocess.run(
        [sys.executable, '-P', '-c', AS_A_WORKER, str(BOOT)], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_a_test_server_hashes_cheaply_when_the_variable_is_1() -> None:
    assert FAST in hash_in_a_worker('1')


@pytest.mark.parametrize('value', ['0', ''])
def test_a_test_server_hashes_for_real_otherwise(value: str) -> None:
    stored = hash_in_a_worker(value)
    assert stored.startswith('$argon2id$')
    assert FAST not in stored
