"""The ``CORS`` setting: which other sites' pages may read responses, and preflights answered before auth."""

from __future__ import annotations

from typing import Any

import pytest

from panther_like import API, Panther, Response
from panther_like.exceptions import ConfigError
from panther_like.testing import TestClient
from tests.settings import settings_module

APP = 'https://app.example.com'


@API(auth=True, methods=['GET', 'PUT'])
async def private(request):
    return {'ok': True}


@API(methods=['GET'])
async def public(request):
    return {'ok': True}


def build(tmp_path, **cors: Any) -> Panther:
    settings = settings_module(
        SECRET_KEY='c' * 32 + '0123456789abcdefghijklmnopqrstuv',
        DATABASE={'path': str(tmp_path / 's.sqlite3')},
        AUTHENTICATION='panther_like.authentications.JWTAuthentication',
        CORS=cors,
    )
    return Panther(settings, urls={'private': private, 'public': public})


async def request(app: Panther, method: str, path: str, headers: dict[str, str]) -> Any:
    async with TestClient(app) as client:
        return await client.request(method, path, headers=headers)


def preflight(origin: str, method: str = 'PUT', headers: str | None = None) -> dict[str, str]:
    sent = {'Origin': origin, 'Access-Control-Request-Method': method}
    if headers is not None:
        sent['Access-Control-Request-Headers'] = headers
    return sent


async def test_a_preflight_from_an_allowed_origin_is_204_without_reaching_auth(tmp_path):
    app = build(tmp_path, allow_origins=[APP], allow_headers=['Authorization', 'Content-Type'], max_age=120)
    response = await request(app, 'OPTIONS', '/private', preflight(APP, headers='authorization, content-type'))
    assert response.status_code == 204
    assert response.headers['access-control-allow-origin'] == APP
    assert 'PUT' in response.headers['access-control-allow-methods']
    assert response.headers['access-control-allow-headers'] == 'authorization, content-type'
    assert response.headers['access-control-max-age'] == '120'
    assert response.headers['vary'] == 'Origin'


async def test_a_preflight_from_another_origin_is_refused_without_allow_headers(tmp_path):
    app = build(tmp_path, allow_origins=[APP])
    response = await request(app, 'OPTIONS', '/private', preflight('https://evil.example.net'))
    assert response.status_code == 403
    assert 'access-control-allow-origin' not in response.headers


async def test_a_preflight_for_a_method_not_allowed_is_refused(tmp_path):
    app = build(tmp_path, allow_origins=[APP], allow_methods=['GET'])
    assert (await request(app, 'OPTIONS', '/private', preflight(APP, 'PUT'))).status_code == 403


async def test_a_preflight_asking_for_a_header_not_allowed_is_refused(tmp_path):
    app = build(tmp_path, allow_origins=[APP], allow_headers=['Content-Type'])
    response = await request(app, 'OPTIONS', '/private', preflight(APP, headers='X-Secret'))
    assert response.status_code == 403


async def test_any_header_allows_every_requested_header(tmp_path):
    app = build(tmp_path, allow_origins=[APP], allow_headers=['*'])
    response = await request(app, 'OPTIONS', '/private', preflight(APP, headers='X-Anything'))
    assert response.headers['access-control-allow-headers'] == 'x-anything'


async def test_a_wildcard_subdomain_origin_is_allowed(tmp_path):
    app = build(tmp_path, allow_origins=['https://*.example.com'])
    response = await request(app, 'GET', '/public', {'Origin': 'https://shop.example.com'})
    assert response.headers['access-control-allow-origin'] == 'https://shop.example.com'


async def test_a_wildcard_subdomain_does_not_allow_the_bare_domain(tmp_path):
    app = build(tmp_path, allow_origins=['https://*.example.com'])
    response = await request(app, 'GET', '/public', {'Origin': 'https://example.com'})
    assert 'access-control-allow-origin' not in response.headers


async def test_a_simple_request_from_an_allowed_origin_gets_the_allow_headers_and_vary(tmp_path):
    app = build(tmp_path, allow_origins=[APP], allow_credentials=True, expose_headers=['X-Request-Id'])
    response = await request(app, 'GET', '/public', {'Origin': APP})
    assert response.headers['access-control-allow-origin'] == APP
    assert response.headers['access-control-allow-credentials'] == 'true'
    assert response.headers['access-control-expose-headers'] == 'X-Request-Id'
    assert response.headers['vary'] == 'Origin'


async def test_an_error_response_to_an_allowed_origin_is_readable_by_the_page(tmp_path):
    app = build(tmp_path, allow_origins=[APP])
    response = await request(app, 'GET', '/private', {'Origin': APP})
    assert response.status_code == 401
    assert response.headers['access-control-allow-origin'] == APP


async def test_a_request_from_another_origin_gets_vary_but_no_allow_origin(tmp_path):
    app = build(tmp_path, allow_origins=[APP])
    response = await request(app, 'GET', '/public', {'Origin': 'https://evil.example.net'})
    assert response.status_code == 200
    assert 'access-control-allow-origin' not in response.headers
    assert response.headers['vary'] == 'Origin'


async def test_any_origin_without_credentials_answers_star(tmp_path):
    app = build(tmp_path, allow_origins=['*'])
    response = await request(app, 'GET', '/public', {'Origin': 'https://anyone.example'})
    assert response.headers['access-control-allow-origin'] == '*'


def test_any_origin_with_credentials_is_refused_when_the_app_is_built(tmp_path):
    with pytest.raises(ConfigError, match='cannot be used with allow_credentials'):
        build(tmp_path, allow_origins=['*'], allow_credentials=True)


@pytest.mark.parametrize(
    'cors',
    [
        {'allow_origins': ['app.example.com']},
        {'allow_origins': [APP], 'allow_methods': ['FETCH']},
        {'allow_origins': [APP], 'max_age': -1},
        {'allow_origins': [APP], 'allow_credentials': 'yes'},
        {'allow_origins': [APP], 'origins': [APP]},
        {},
    ],
)
def test_a_wrong_cors_setting_is_refused_when_the_app_is_built(tmp_path, cors):
    with pytest.raises(ConfigError):
        build(tmp_path, **cors)


async def test_without_the_setting_no_cors_header_is_sent(tmp_path):
    app = Panther(
        settings_module(
            SECRET_KEY='c' * 32 + '0123456789abcdefghijklmnopqrstuv', DATABASE={'path': str(tmp_path / 's.sqlite3')}
        ),
        urls={'public': public},
    )
    response = await request(app, 'GET', '/public', {'Origin': APP})
    assert 'access-control-allow-origin' not in response.headers
    assert 'vary' not in response.headers


SHARED = Response({'ok': True})


@API(methods=['GET'])
async def shared(request):
    return SHARED


async def test_a_shared_response_object_is_never_given_one_requests_cors_headers(tmp_path):
    settings = settings_module(
        SECRET_KEY='c' * 32 + '0123456789abcdefghijklmnopqrstuv',
        DATABASE={'path': str(tmp_path / 's.sqlite3')},
        CORS={'allow_origins': [APP]},
    )
    app = Panther(settings, urls={'shared': shared})
    async with TestClient(app) as client:
        allowed = await client.get('/shared', headers={'Origin': APP})
        foreign = await client.get('/shared', headers={'Origin': 'https://evil.example'})
    assert allowed.headers['access-control-allow-origin'] == APP
    assert 'access-control-allow-origin' not in foreign.headers
    assert 'Access-Control-Allow-Origin' not in SHARED.headers
