"""URL dicts to routes: the `Router` on its own, then the same rules through the real app."""

from __future__ import annotations

from typing import Any

import pytest

from panther_like import API, GenericAPI, Panther, Response
from panther_like.routing.router import Router, flatten_routes
from panther_like.routing.websocket import GenericWebsocket
from panther_like.testing import TestClient
from tests.settings import settings_module


def router(urls: dict[str, Any]) -> Router:
    """A router whose endpoints are the targets themselves (strings here)."""
    return Router.build(urls, lambda path, target, auth: target)


# -- the Router ----------------------------------------------------------------------------


def test_resolves_a_static_path():
    assert router({'users': 'list', 'health': 'health'}).resolve('/users') == ('list', {})


def test_resolves_a_multi_segment_static_path():
    assert router({'api/v1/status': 'status'}).resolve('/api/v1/status') == ('status', {})


def test_trailing_slash_in_request_is_ignored():
    assert router({'users': 'list'}).resolve('/users/') == ('list', {})


def test_trailing_slash_in_key_is_ignored():
    assert router({'users/': 'list'}).resolve('/users') == ('list', {})


def test_missing_leading_slash_is_ignored():
    assert router({'users': 'list'}).resolve('users') == ('list', {})


def test_root_route():
    assert router({'': 'root'}).resolve('/') == ('root', {})


def test_path_parameter_is_a_string():
    match = router({'users/<user_id>/': 'detail'}).resolve('/users/42/')
    assert match == ('detail', {'user_id': '42'})
    assert type(match[1]['user_id']) is str


def test_several_path_parameters():
    match = router({'users/<user_id>/posts/<post_id>': 'post'}).resolve('/users/7/posts/abc')
    assert match == ('post', {'user_id': '7', 'post_id': 'abc'})


def test_nested_dict_mounts_a_group():
    urls = {'auth/': {'login': 'login', 'tokens/': {'refresh': 'refresh'}}, 'me': 'me'}
    resolved = router(urls)
    assert resolved.resolve('/auth/login') == ('login', {})
    assert resolved.resolve('/auth/tokens/refresh/') == ('refresh', {})
    assert resolved.resolve('/me') == ('me', {})
    assert resolved.resolve('/login') is None


def test_nested_group_with_parameters():
    resolved = router({'users/<user_id>/': {'posts/<post_id>': 'post'}})
    assert resolved.resolve('/users/1/posts/2') == ('post', {'user_id': '1', 'post_id': '2'})


def test_flatten_routes_joins_group_keys():
    assert [(path, target) for path, target, _ in flatten_routes({'a/': {'b/': {'c': 1}}, 'd': 2})] == [
        ('a/b/c', 1),
        ('d', 2),
    ]


def test_static_route_wins_over_dynamic_one_defined_first():
    resolved = router({'users/<user_id>': 'detail', 'users/me': 'me'})
    assert resolved.resolve('/users/me') == ('me', {})
    assert resolved.resolve('/users/5') == ('detail', {'user_id': '5'})


def test_parameter_does_not_match_an_empty_segment():
    resolved = router({'users/<user_id>/posts': 'posts'})
    assert resolved.resolve('/users//posts') is None


def test_parameter_does_not_match_a_missing_segment():
    assert router({'users/<user_id>': 'detail'}).resolve('/users/') is None


def test_parameter_matches_exactly_one_segment():
    assert router({'files/<name>': 'file'}).resolve('/files/a/b') is None


def test_unknown_path_is_none():
    assert router({'users': 'list'}).resolve('/nope') is None


def test_literal_segment_must_match_exactly():
    assert router({'users/<user_id>/posts': 'posts'}).resolve('/users/1/comments') is None


# -- through the app ---------------------------------------------------------------------


@API(methods=['GET'])
async def hello(request):
    return Response(data={'hello': 'world'})


@API(methods=['POST'])
async def create(request):
    return Response(data={'created': True}, status_code=201)


@API(methods=['GET'], auth=True)
async def private(request):
    return {'user': request.user.id}


@API(methods=['GET'])
async def echo_params(request, **params):
    return params


class Counter(GenericAPI):
    """Sets state on `self`: a shared instance would carry it to the next request."""

    def __init__(self) -> None:
        self.calls = 0

    async def get(self, request, **params):
        self.calls += 1
        return {'calls': self.calls}

    async def post(self, request, **params):
        return Response(data={'posted': True}, status_code=201)


class ItemView(GenericAPI):
    async def get(self, request, item_id):
        return {'item_id': item_id, 'type': type(item_id).__name__}


class Socket(GenericWebsocket):
    pass


@pytest.fixture
def app(tmp_path) -> Panther:
    urls = {
        'hello': hello,
        'create': create,
        'private': private,
        'users/<user_id>/posts/<post_id>': echo_params,
        'counter': Counter,
        'items/<item_id>': ItemView,
        'group/': {'hello': hello},
        'ws': Socket,
    }
    settings = settings_module(
        SECRET_KEY='test-secret' * 6,
        AUTHENTICATION='panther_like.authentications.JWTAuthentication',
        URLS=urls,
        DATABASE={'path': str(tmp_path / 's.sqlite3')},
    )
    return Panther(configs=settings)


async def test_known_route_returns_its_response(app):
    async with TestClient(app) as client:
        response = await client.get('/hello/')
    assert response.status_code == 200
    assert response.json() == {'hello': 'world'}


async def test_route_in_a_group(app):
    async with TestClient(app) as client:
        response = await client.get('/group/hello')
    assert response.status_code == 200
    assert response.json() == {'hello': 'world'}


async def test_unknown_path_is_404_json(app):
    async with TestClient(app) as client:
        response = await client.get('/no/such/path')
    assert response.status_code == 404
    assert response.headers['content-type'].startswith('application/json')
    assert response.json() == {'detail': 'Not found'}


async def test_websocket_route_over_http_is_404(app):
    async with TestClient(app) as client:
        response = await client.get('/ws')
    assert response.status_code == 404
    assert 'detail' in response.json()


async def test_method_not_listed_is_405_with_allow(app):
    async with TestClient(app) as client:
        response = await client.post('/hello', json={})
    assert response.status_code == 405
    assert response.headers['content-type'].startswith('application/json')
    assert 'detail' in response.json()
    allowed = {method.strip() for method in response.headers['allow'].split(',')}
    assert allowed == {'GET', 'HEAD'}


async def test_post_only_route_allows_only_post(app):
    async with TestClient(app) as client:
        response = await client.get('/create')
    assert response.status_code == 405
    assert response.headers['allow'] == 'POST'


async def test_405_is_checked_before_authentication(app):
    async with TestClient(app) as client:
        response = await client.delete('/private')
    assert response.status_code == 405
    assert 'GET' in response.headers['allow']


async def test_allowed_method_on_protected_route_without_credentials_is_401(app):
    async with TestClient(app) as client:
        response = await client.get('/private')
    assert response.status_code == 401


async def test_head_on_get_route_gives_headers_and_no_body(app):
    async with TestClient(app) as client:
        get = await client.get('/hello')
        head = await client.head('/hello')
    assert head.status_code == 200
    assert head.content == b''
    assert head.headers['content-type'] == get.headers['content-type']
    assert head.headers['content-length'] == str(len(get.content))


async def test_head_on_post_only_route_is_405(app):
    async with TestClient(app) as client:
        response = await client.head('/create')
    assert response.status_code == 405


async def test_path_params_reach_the_handler_as_string_kwargs(app):
    async with TestClient(app) as client:
        response = await client.get('/users/12/posts/abc/')
    assert response.json() == {'user_id': '12', 'post_id': 'abc'}


async def test_generic_api_serves_defined_methods(app):
    async with TestClient(app) as client:
        get = await client.get('/counter')
        post = await client.post('/counter', json={})
    assert get.status_code == 200
    assert post.status_code == 201
    assert post.json() == {'posted': True}


async def test_generic_api_undefined_method_is_405(app):
    async with TestClient(app) as client:
        response = await client.put('/counter', json={})
    assert response.status_code == 405
    allowed = {method.strip() for method in response.headers['allow'].split(',')}
    assert allowed == {'GET', 'HEAD', 'POST'}


async def test_generic_api_new_instance_per_request(app):
    async with TestClient(app) as client:
        first = (await client.get('/counter')).json()
        second = (await client.get('/counter')).json()
    assert first['calls'] == 1
    assert second['calls'] == 1


async def test_generic_api_path_params_as_kwargs(app):
    async with TestClient(app) as client:
        response = await client.get('/items/99')
    assert response.json() == {'item_id': '99', 'type': 'str'}
