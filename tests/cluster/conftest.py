"""The cluster, built once per test session and always torn down; the figures, printed at the end.

The suite needs root (it creates network namespaces) and the ``ip``,
``haproxy``, ``redis-server`` and ``nx-27017`` programs (scripts/test.sh
installs them). Without them it is skipped on a developer machine and
fails under CI (``CI`` set), where a skipped suite would look green.
"""

from __future__ import annotations

import os
import secrets
import subprocess
from collections.abc import Iterator

import pytest

from tests.cluster.cluster import APP_HOSTS, Cluster
from tests.cluster.figures import FIGURES
from tests.servers import find_binary, unavailable

REQUIRED = ('ip', 'haproxy', 'redis-server', 'nx-27017', 'panther-like')


def missing_prerequisite() -> str | None:
    """Why this machine cannot build the cluster, or None."""
    if os.geteuid() != 0:
        return 'the cluster suite creates network namespaces and must run as root'
    missing = [name for name in REQUIRED if find_binary(name) is None]
    if missing:
        return f'the cluster suite needs {", ".join(missing)} (bash scripts/test.sh installs them)'
    probe = 'plcprobe' + secrets.token_hex(3)
    created = subprocess.run(['ip', 'netns', 'add', probe], capture_output=True, text=True)
    if created.returncode != 0:
        return (
            f'cannot create a network namespace here ({created.stderr.strip()}); the cluster suite needs '
            f'CAP_SYS_ADMIN and CAP_NET_ADMIN (a VM, or a container run with --privileged)'
        )
    subprocess.run(['ip', 'netns', 'del', probe], capture_output=True)
    return None


@pytest.fixture(scope='session')
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    problem = missing_prerequisite()
    if problem:
        unavailable(problem)
    built = Cluster(tmp_path_factory.mktemp('cluster'))
    try:
        built.start()
        yield built
    finally:
        leftovers = built.close()
    assert not leftovers, f'namespaces left behind: {leftovers}'
    # Every failure the tests provoke is an answer (503, 401, ...) or a closed connection, never a traceback.
    logged = [name for name in APP_HOSTS if 'Traceback' in (built.workdir / f'{name}.log').read_text(errors='replace')]
    assert not logged, f'app hosts logged tracebacks: {logged} (logs in {built.workdir})'


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if FIGURES:
        terminalreporter.section('cluster: three app hosts behind HAProxy, MongoDB-wire, Redis with Sentinel')
        width = max(len(name) for name, _ in FIGURES)
        for name, value in FIGURES:
            terminalreporter.write_line(f'{name.ljust(width)}  {value}')
