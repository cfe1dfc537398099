"""The CI variant of the load test (tests/load/loadgen.py): shorter, same bar.

Two uvicorn workers, revocations in the embedded store or in Redis, 20
concurrent clients, logouts and logins mixed in. The full run (50 clients,
20,000 requests) is ``python -m tests.load.loadgen`` (see docs/security.md, "How it is tested").
"""

from __future__ import annotations

import pytest

from tests.e2e.server import ExampleServer
from tests.load.loadgen import MAX_REVOCATION_LAG, run_load

pytestmark = pytest.mark.load

CLIENTS = 20
REQUESTS = 2500


def test_load_with_logouts_has_no_errors_and_revocation_holds_within_a_second(
    multiworker_server: ExampleServer,
) -> None:
    report = run_load(multiworker_server.url, clients=CLIENTS, requests=REQUESTS, max_seconds=45)
    print('\n'.join(report.lines()))
    assert report.served >= REQUESTS
    assert report.errors == []
    assert report.logouts >= 10 and report.expected_401 >= 100  # the revocation path was really exercised
    assert report.max_revocation_lag <= MAX_REVOCATION_LAG
