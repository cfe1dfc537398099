"""/docs and its static assets through uvicorn: local assets, strict headers, no path traversal."""

from __future__ import annotations

import socket

import pytest

from panther_like import API, Panther
from panther_like.testing import TestClient
from tests.settings import settings_module


@pytest.mark.server
def test_docs_page_is_html_with_an_authorize_capable_swagger_ui(client):
    response = client.get('/docs')
    assert response.status_code == 200
    assert response.headers['content-type'].startswith('text/html')
    assert "script-src 'self'" in response.headers['content-security-policy']
    assert '/docs/static/swagger-ui-bundle.js' in response.text
    assert 'data-spec-url="/openapi.json"' in response.text
    assert 'http' not in response.text.replace('http-equiv', '')  # no CDN, no absolute URL


@pytest.mark.server
@pytest.mark.parametrize('name', ['swagger-ui-bundle.js', 'swagger-ui.css', 'init.js'])
def test_static_assets_are_served_from_the_package(client, name):
    response = client.get(f'/docs/static/{name}')
    assert response.status_code == 200
    assert response.headers['x-content-type-options'] == 'nosniff'
    assert len(response.content) > 100


def test_swagger_ui_bundle_renders_openapi_3_1():
    from panther_like.openapi.page import swagger_ui_directory

    major = int(swagger_ui_directory().name.rsplit('-', 1)[1].split('.')[0])
    assert major >= 5  # Swagger UI 4 refuses a 3.1 document


def raw_status(port: int, target: bytes) -> int:
    with socket.create_connection(('127.0.0.1', port), timeout=5) as sock:
        sock.sendall(b'GET ' + target + b' HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n')
        return int(sock.recv(1024).split(b' ', 2)[1])


@pytest.mark.server
@pytest.mark.parametrize(
    'target',
    [
        b'/docs/static/../../pyproject.toml',
        b'/docs/static/..%2F..%2Fpyproject.toml',
        b'/docs/static/%2e%2e%2fREADME.md',
        b'/docs/static/swagger-ui-bundle.js.map',
        b'/docs/static/index.html',
        b'/docs/static/..',
        b'/docs/static//etc/passwd',
        b'/docs/static/%00',
    ],
)
def test_static_route_serves_nothing_outside_its_allowlist(secured_server, target):
    assert raw_status(secured_server.port, target) == 404


async def test_docs_can_be_turned_off():
    app = Panther(settings_module(URLS={'x': API()(lambda request: {})}, OPENAPI={'enabled': False}))
    async with TestClient(app) as http:
        assert (await http.get('/docs')).status_code == 404
        assert (await http.get('/openapi.json')).status_code == 404


async def test_user_routes_win_over_the_docs_routes():
    app = Panther(settings_module(URLS={'docs': API()(lambda request: {'mine': True})}))
    async with TestClient(app) as http:
        assert (await http.get('/docs')).json() == {'mine': True}
        assert (await http.get('/openapi.json')).status_code == 200


async def test_the_docs_page_echoes_the_csrf_cookie_on_unsafe_methods():
    """So a route authenticated by a session cookie can be called from /docs (the browser test runs it)."""
    app = Panther(settings_module(URLS={'x': API()(lambda request: {})}))
    async with TestClient(app) as http:
        script = (await http.get('/docs/static/init.js')).text
    assert 'requestInterceptor: withCsrfToken' in script
    assert "readCookie('csrftoken')" in script and "request.headers['X-CSRFToken'] = token" in script
    assert "['GET', 'HEAD', 'OPTIONS', 'TRACE']" in script
