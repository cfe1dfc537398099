"""A real uvicorn serving any ``module:app`` of this repository, started and stopped by PID.

The example project has its own launcher (tests/e2e/server.py, which
copies the project into a fresh directory); this one serves a test app
module in place, with settings passed through the environment.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.servers import free_port
from tests.uvicorn import UvicornProcess

REPO = Path(__file__).resolve().parents[2]


@dataclass(kw_only=True)
class UvicornServer(UvicornProcess):
    """A test app module served in place, with settings passed through the environment."""

    app: str
    env: dict[str, str]
    #: ``info`` when a test reads the access log.
    log_level: str = 'warning'

    def start(self) -> None:
        env = {key: value for key, value in os.environ.items() if key != 'PANTHER_LIKE_CONFIGS'}
        env.update(self.env, PYTHONPATH=str(REPO))
        self.launch(
            self.app,
            ['--log-level', self.log_level],
            cwd=REPO,
            env=env,
            ready=lambda: httpx.get(self.url + '/openapi.json', timeout=1.0).status_code == 200,
        )


def serve(
    app: str, directory: Path, env: dict[str, str], *, name: str | None = None, log_level: str = 'warning'
) -> Iterator[UvicornServer]:
    """Start, yield, stop; then fail if the server logged a traceback (every failure we provoke is a 4xx)."""
    server = UvicornServer(
        name=name or app, app=app, port=free_port(), log_file=directory / 'uvicorn.log', env=env, log_level=log_level
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()
    server.assert_no_traceback()
