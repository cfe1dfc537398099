"""The test OpenID provider (node ``oidc-provider``, tests/browser/oidc_provider.mjs), started and stopped by PID.

A real provider rather than a stand-in: discovery, JWKS, PKCE, the code exchange, signed ID tokens,
RFC 9207's ``iss`` and JWT access tokens are its own. It needs node and ``npm ci`` in tests/browser;
without them a test skips on a developer machine and fails under CI=true.
"""

from __future__ import annotations

import json
import os
import selectors
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / 'tests' / 'browser' / 'oidc_provider.mjs'
PACKAGE = REPO / 'tests' / 'browser' / 'node_modules' / 'oidc-provider'
CLIENT_SECRET = 'test-client-secret-0123456789abcdef0123456789'
PASSWORD = 'correct horse'
RESOURCE = 'urn:panther-like:social-tests'
START_TIMEOUT = 20.0


@dataclass
class RunningProvider:
    issuer: str
    process: subprocess.Popen

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


def require_node() -> str:
    """The node binary, with oidc-provider installed; a skip on a developer machine, a failure under CI."""
    node = shutil.which('node')
    if node is None or not PACKAGE.is_dir():
        missing = 'node' if node is None else 'oidc-provider (npm ci in tests/browser)'
        if os.environ.get('CI', '').lower() == 'true':
            pytest.fail(f'the OpenID provider tests need {missing}')
        pytest.skip(f'the OpenID provider tests need {missing}')
    return node


def start_provider(clients: list[dict], log: Path) -> Iterator[RunningProvider]:
    """Start the provider with `clients` registered; yield it; stop it by its PID."""
    node = require_node()
    env = {**os.environ, 'OIDC_CLIENTS': json.dumps(clients), 'OIDC_RESOURCE': RESOURCE}
    with open(log, 'ab') as errors:
        process = subprocess.Popen(
            [node, str(SCRIPT)], stdout=subprocess.PIPE, stderr=errors, stdin=subprocess.DEVNULL, env=env, cwd=REPO
        )
    running = RunningProvider('', process)
    try:
        assert process.stdout is not None
        selector = selectors.DefaultSelector()
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(timeout=START_TIMEOUT):
            raise RuntimeError(f'the OpenID provider did not start: {log.read_text(errors="replace")[-2000:]}')
        line = process.stdout.readline()
        if not line:
            raise RuntimeError(f'the OpenID provider exited: {log.read_text(errors="replace")[-2000:]}')
        running.issuer = json.loads(line)['issuer']
        yield running
    finally:
        running.stop()


def client_entry(client_id: str, redirect_uris: list[str]) -> dict:
    return {'client_id': client_id, 'client_secret': CLIENT_SECRET, 'redirect_uris': redirect_uris}


def authorize(url: str, login: str, *, http: httpx.Client | None = None, until: str) -> str:
    """Follow the provider's pages from the authorization `url` as `login`: the URL it sends the browser back to.

    Fills the login and consent forms as a person would; `until` is where the app's callback begins. `http`
    keeps the provider's cookies (its session) between sign-ins.
    """
    own = http is None
    http = http or httpx.Client(timeout=10.0)
    try:
        response = http.get(url)
        for _ in range(20):
            if response.is_redirect:
                location = urljoin(str(response.url), response.headers['location'])
                if location.startswith(until):
                    return location
                response = http.get(location)
            elif response.status_code == 200 and 'method="post"' in response.text:
                page = response.text
                target = urljoin(str(response.url), page.split('action="', 1)[1].split('"', 1)[0])
                form = {'login': login, 'password': PASSWORD} if 'name="login"' in page else {}
                response = http.post(target, data=form)
            else:
                break
        raise AssertionError(f'the provider stopped at {response.status_code}: {response.text[:500]}')
    finally:
        if own:
            http.close()


def query_of(url: str) -> dict[str, str]:
    return dict(httpx.QueryParams(urlsplit(url).query))
