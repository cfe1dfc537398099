"""``TRUSTED_ORIGINS`` and the origin comparison behind the cross-site checks (through real uvicorn: tests/security)."""

from __future__ import annotations

from typing import Any

import pytest

from panther_like import API, Panther
from panther_like.exceptions import ConfigError
from panther_like.http.origins import TrustedOrigins, parse_origin, request_origin
from panther_like.routing.websocket import GenericWebsocket
from panther_like.security import APIKeyCookie, SessionAuth
from panther_like.testing import TestClient
from panther_like.testing.websocket import WebsocketRefused
from tests.settings import settings_module


@API()
async def public(request):
    return {'ok': True}


class CookieKey(APIKeyCookie):
    def authenticate(self, request, key):
        return key


def build(tmp_path, **settings: Any) -> Panther:
    settings.setdefault('URLS', {'public': public})
    settings.setdefault('DATABASE', {'path': str(tmp_path / 's.sqlite3')})
    return Panther(configs=settings_module(**settings))


@pytest.mark.parametrize(
    'value',
    [
        'https://app.example.com/',
        'app.example.com',
        'ftp://x.example',
        'https://',
        'https://a.example:99999',
        ['https://ok.example', 3],
        42,
    ],
)
def test_a_trusted_origin_that_is_not_an_origin_is_a_config_error(tmp_path, value) -> None:
    with pytest.raises(ConfigError) as info:
        build(tmp_path, SECRET_KEY='k' * 24 + '0123456789abcdefghijklmn', TRUSTED_ORIGINS=value)
    assert 'TRUSTED_ORIGINS' in str(info.value)


def test_trusted_origins_take_a_list_or_a_comma_separated_string(tmp_path) -> None:
    app = build(
        tmp_path,
        SECRET_KEY='k' * 24 + '0123456789abcdefghijklmn',
        TRUSTED_ORIGINS='https://a.example, https://*.b.example',
    )
    trusted = app.config.trusted_origins
    assert trusted.trusts(('https', 'a.example', 443))
    assert trusted.trusts(('https', 'x.y.b.example', 443))
    assert not trusted.trusts(('https', 'b.example', 443))  # a wildcard is subdomains only
    assert not trusted.trusts(('https', 'evilb.example', 443))
    assert not trusted.trusts(('http', 'a.example', 80))


@pytest.mark.parametrize('auth', [CookieKey(), SessionAuth()])
def test_a_csrf_checked_cookie_without_a_key_to_derive_tokens_from_is_a_config_error(tmp_path, auth) -> None:
    @API(auth=auth)
    async def cookie_route(request):
        return {}

    with pytest.raises(ConfigError) as info:
        build(tmp_path, URLS={'c': cookie_route})
    assert 'SECRET_KEY' in str(info.value)


def test_default_ports_and_case_do_not_make_another_origin() -> None:
    assert parse_origin('HTTPS://Example.COM') == ('https', 'example.com', 443)
    assert parse_origin('https://example.com:443') == parse_origin('https://example.com')
    assert request_origin({'scheme': 'wss'}, 'example.com') == ('https', 'example.com', 443)
    assert request_origin({'scheme': 'http'}, '[::1]:8000') == parse_origin('http://[::1]:8000')


@pytest.mark.parametrize(
    'value',
    [
        'null',
        '',
        'https://a.example/',
        'https://u@a.example',
        'https://a.example:',
        'https://a.example:0',
        'ws://a.example',
        'https://[::1',
        'https://a.example:1:2',
    ],
)
def test_what_no_browser_sends_is_no_origin(value) -> None:
    assert parse_origin(value) is None


def test_an_empty_trusted_origins_trusts_nothing() -> None:
    assert not TrustedOrigins()
    assert not TrustedOrigins().trusts(('https', 'a.example', 443))


# -- websocket handshakes, in process (through uvicorn: tests/security/test_browser_attacks.py) ---------------


def cookie_reader(connection):
    return connection.cookies.get('sid') or None


cookie_reader.uses_cookies = True  # a callable that reads a cookie says so


def header_reader(connection):
    return connection.headers.get('x-token') or None


class Greeter(GenericWebsocket):
    async def connect(self):
        await self.accept()
        await self.send({'hello': self.user})


class CookieSocket(Greeter):
    auth = cookie_reader


class HeaderSocket(Greeter):
    auth = header_reader


class ChainSocket(Greeter):
    auth = [SessionAuth(), header_reader]


async def _handshake(tmp_path, path: str, headers: dict[str, str]) -> Any:
    app = build(
        tmp_path,
        SECRET_KEY='k' * 24 + '0123456789abcdefghijklmn',
        URLS={'cookie': CookieSocket, 'header': HeaderSocket, 'chain': ChainSocket},
    )
    async with TestClient(app) as client:
        try:
            async with client.websocket(path, headers={'host': 'testserver', **headers}) as ws:
                return await ws.receive_json()
        except WebsocketRefused as refused:
            return refused.code


async def test_a_callable_flagged_uses_cookies_is_origin_checked(tmp_path) -> None:
    assert await _handshake(tmp_path, '/cookie', {'cookie': 'sid=s1', 'origin': 'https://evil.example'}) == 1008
    assert await _handshake(tmp_path, '/cookie', {'cookie': 'sid=s1', 'origin': 'http://testserver'}) == {'hello': 's1'}


async def test_a_header_token_handshake_from_a_foreign_origin_is_accepted(tmp_path) -> None:
    headers = {'x-token': 't1', 'cookie': 'sid=s1', 'origin': 'https://evil.example'}
    assert await _handshake(tmp_path, '/header', headers) == {'hello': 't1'}


async def test_a_chain_is_origin_checked_only_when_its_cookie_is_sent(tmp_path) -> None:
    """[SessionAuth(), header]: a foreign page's header token passes, unless the session cookie rides along."""
    foreign = {'x-token': 't1', 'origin': 'https://evil.example'}
    assert await _handshake(tmp_path, '/chain', {**foreign, 'cookie': 'theme=dark'}) == {'hello': 't1'}
    assert await _handshake(tmp_path, '/chain', {**foreign, 'cookie': 'sessionid=abc'}) == 1008
