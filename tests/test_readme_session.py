"""The README's curl session (sign up, log in, ``/me``, log out) prints what its comments say, on a real server.

Each ``curl`` line of that block that ends in ``# <answer>`` is run against
the example project under uvicorn, in order, in one shell (``TOKEN`` carries
over), and its answer compared with the comment: ``(status N)`` is the
status (200 when not said), the JSON after it the body, where ``"..."``
stands for any value (an id).
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.server import launch

pytestmark = pytest.mark.server

README = Path(__file__).resolve().parents[1] / 'README.md'
FENCE = re.compile(r'^```bash\n(.*?)^```\s*$', re.MULTILINE | re.DOTALL)
MARK = '@@answer@@'


def _session_block() -> str:
    return next(block for block in FENCE.findall(README.read_text()) if '/auth/logout' in block)


def _commented_lines(block: str) -> list[tuple[str, str]]:
    """``(command, comment)`` for each curl line that says what it answers."""
    lines = block.replace('\\\n', ' ').splitlines()
    return [(line.split(' # ', 1)[0].strip(), line.split(' # ', 1)[1].strip()) for line in lines if ' # ' in line]


def _script(block: str, port: int) -> str:
    """The block, each commented curl line also printing its status after a marker."""
    out = []
    for line in block.replace('\\\n', ' ').splitlines():
        line = line.replace('localhost:8000', f'127.0.0.1:{port}')
        if ' # ' in line:
            command = line.split(' # ', 1)[0].strip()
            out.append(f"echo {MARK}; {command} -w '\\n%{{http_code}}'; echo")
        else:
            out.append(line)
    return '\n'.join(out)


def _matches(expected: Any, actual: Any) -> bool:
    if expected == '...':
        return True
    if isinstance(expected, dict):
        return (
            isinstance(actual, dict)
            and set(expected) == set(actual)
            and all(_matches(value, actual[key]) for key, value in expected.items())
        )
    return expected == actual


@pytest.fixture(scope='module')
def example_server(tmp_path_factory):
    servers = launch(tmp_path_factory, 'readme')
    server = next(servers)
    yield server
    next(servers, None)


def test_the_readmes_curl_session_answers_what_its_comments_say(example_server):
    block = _session_block()
    expected = _commented_lines(block)
    result = subprocess.run(
        ['bash', '-euo', 'pipefail', '-c', _script(block, example_server.port)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    answers = result.stdout.split(MARK + '\n')[1:]
    assert len(answers) == len(expected) >= 4, result.stdout
    for (command, comment), answer in zip(expected, answers, strict=True):
        body, status = answer.strip().rsplit('\n', 1)
        said = re.fullmatch(r'(?:\(status (\d+)\) )?(.*)', comment)
        assert int(status) == int(said.group(1) or 200), (command, answer)
        assert _matches(json.loads(said.group(2)), json.loads(body)), (command, comment, body)
