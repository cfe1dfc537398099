"""Requests and responses: bodies, rendering, errors as JSON, permissions; never a traceback."""

from __future__ import annotations

import logging

import pytest

from panther_like import API, GenericAPI, Panther, Request, Response, status
from panther_like.db.models import BaseUser
from panther_like.db.usernames import InvalidUsername
from panther_like.exceptions import (
    APIError,
    AuthorizationAPIError,
    DomainError,
    DuplicateKeyError,
    StoreUnavailableError,
)
from panther_like.testing import TestClient
from tests.settings import settings_module

KEY = 'h' * 32 + '0123456789abcdefghijklmnopqrstuv'


@API(methods=['POST'])
async def echo(request: Request):
    return {'data': request.data, 'method': request.method, 'path': request.path}


@API(methods=['GET'])
async def inspect_request(request: Request):
    return {
        'x': request.headers.get('X-Thing'),
        'q': dict(request.query_params),
        'cookies': request.cookies,
    }


@API(methods=['GET'])
async def crash(request: Request):
    raise RuntimeError('secret internals')


@API(methods=['GET'])
async def unserializable(request: Request):
    return {'value': object()}


@API(methods=['POST'])
async def create_user(request: Request):
    return Response(await BaseUser.insert_one(username=request.data['username'], password='pw-secret'), 201)


@API(methods=['GET'])
async def users(request: Request):
    return Response({'users': await BaseUser.find(), 'one': await BaseUser.find_one()})


@API(methods=['GET'])
async def custom(request: Request):
    return Response({'ok': True}, status.HTTP_202_ACCEPTED, headers={'X-Custom': 'yes'})


@API(methods=['GET'])
async def teapot(request: Request):
    raise APIError('I am a teapot', 418)


@API(methods=['DELETE'])
async def nothing(request: Request):
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def deny(request):
    return False


class OnlyAnn:
    @classmethod
    async def authorization(cls, request):
        return request.headers.get('x-name') == 'ann'


class LoudRefusal:
    def authorization(self, request):
        raise AuthorizationAPIError('Admins only')


@API(methods=['GET'], permissions=[deny])
async def denied(request: Request):
    return {'reached': True}


@API(methods=['GET'], permissions=[OnlyAnn])
async def ann_only(request: Request):
    return {'reached': True}


@API(methods=['GET'], permissions=[LoudRefusal()])
async def admins(request: Request):
    return {'reached': True}


class Item(GenericAPI):
    async def get(self, request: Request, item_id: str):
        return {'item': item_id}

    async def put(self, request: Request, item_id: str):
        return {'item': item_id, 'data': request.data}


URLS = {
    'echo': echo,
    'inspect': inspect_request,
    'crash': crash,
    'unserializable': unserializable,
    'users': users,
    'create-user': create_user,
    'custom': custom,
    'teapot': teapot,
    'nothing': nothing,
    'denied': denied,
    'ann-only': ann_only,
    'admins': admins,
    'items/<item_id>': Item,
}


@pytest.fixture
async def client(tmp_path):
    app = Panther(settings_module(SECRET_KEY=KEY, DATABASE={'path': str(tmp_path / 'http.sqlite3')}), urls=URLS)
    async with TestClient(app) as client:
        yield client


async def test_a_json_body_is_parsed_into_request_data(client):
    response = await client.post('/echo', json={'a': [1, 2]})
    assert response.json() == {'data': {'a': [1, 2]}, 'method': 'POST', 'path': '/echo'}


async def test_an_empty_body_is_none(client):
    assert (await client.post('/echo')).json()['data'] is None


@pytest.mark.parametrize('body', [b'{bad', b'\xff\xfe', b'[1,', b'nan', b'{"a": 1}}'])
async def test_a_body_that_is_not_json_is_400(client, body):
    response = await client.post('/echo', content=body)
    assert response.status_code == 400
    assert response.json() == {'detail': 'Request body is not valid JSON'}


async def test_a_body_over_the_limit_is_413(client):
    response = await client.post('/echo', content=b'1' * (1024 * 1024 + 1))
    assert response.status_code == 413
    assert 'detail' in response.json()


async def test_a_non_numeric_content_length_is_400(client):
    response = await client.post('/echo', content=b'{}', headers={'Content-Length': 'abc'})
    assert response.status_code == 400


async def test_headers_are_case_insensitive_and_query_and_cookies_are_parsed(client):
    response = await client.get('/inspect?a=1&b=&a=2', headers={'x-THING': 'v', 'Cookie': 'broken; c=3; d="4"; =x'})
    assert response.json() == {'x': 'v', 'q': {'a': '1', 'b': ''}, 'cookies': {'c': '3', 'd': '4'}}


async def test_an_unhandled_error_is_a_500_json_without_a_traceback(client, caplog):
    with caplog.at_level(logging.ERROR, logger='panther_like'):
        response = await client.get('/crash')
    assert response.status_code == 500
    assert response.json() == {'detail': 'Internal server error'}
    assert 'secret internals' not in response.text and 'Traceback' not in response.text
    assert 'secret internals' in caplog.text  # the operator still sees it


async def test_data_that_cannot_be_rendered_is_a_500_not_a_crash(client):
    response = await client.get('/unserializable')
    assert response.status_code == 500
    assert response.json() == {'detail': 'Internal server error'}


async def test_a_model_is_rendered_without_its_password_hash(client):
    response = await client.post('/create-user', json={'username': 'ann'})
    assert response.status_code == 201
    body = response.json()
    assert body['username'] == 'ann' and 'password' not in body
    assert '$argon2' not in response.text


async def test_models_inside_lists_and_dicts_are_rendered_without_secrets(client):
    await client.post('/create-user', json={'username': 'bob'})
    response = await client.get('/users')
    assert response.json()['users'][0]['username'] == 'bob'
    assert 'password' not in response.text and '$argon2' not in response.text


async def test_a_duplicate_unique_field_left_uncaught_is_409(client):
    await client.post('/create-user', json={'username': 'cat'})
    response = await client.post('/create-user', json={'username': 'cat'})
    assert response.status_code == 409
    assert response.json() == {'detail': 'username already exists'}


async def test_a_response_keeps_its_status_and_headers(client):
    response = await client.get('/custom')
    assert response.status_code == 202
    assert response.headers['x-custom'] == 'yes'
    assert response.headers['content-type'] == 'application/json'


async def test_an_api_error_becomes_its_status_and_detail(client):
    response = await client.get('/teapot')
    assert (response.status_code, response.json()) == (418, {'detail': 'I am a teapot'})


async def test_a_204_has_no_body(client):
    response = await client.delete('/nothing')
    assert response.status_code == 204 and response.content == b''


async def test_a_permission_returning_false_is_403(client):
    response = await client.get('/denied')
    assert (response.status_code, response.json()) == (403, {'detail': 'Permission denied'})


async def test_a_permission_class_decides_per_request(client):
    assert (await client.get('/ann-only', headers={'X-Name': 'ann'})).status_code == 200
    assert (await client.get('/ann-only', headers={'X-Name': 'bob'})).status_code == 403


async def test_a_permission_can_raise_its_own_reason(client):
    response = await client.get('/admins')
    assert (response.status_code, response.json()) == (403, {'detail': 'Admins only'})


async def test_a_generic_api_gets_path_parameters_and_its_methods(client):
    assert (await client.get('/items/42')).json() == {'item': '42'}
    assert (await client.put('/items/7', json=[1])).json() == {'item': '7', 'data': [1]}
    assert (await client.delete('/items/7')).status_code == 405


async def test_an_unknown_method_is_405_not_500(client):
    response = await client.request('BREW', '/echo')
    assert response.status_code == 405
    assert response.headers['allow'] == 'POST'


async def test_a_content_type_given_as_a_list_is_sent_as_its_one_value():
    sent: list[dict] = []

    async def send(message):
        sent.append(message)

    response = Response({'a': 1}, headers={'Content-Type': ['text/plain', 'application/problem+json']})
    await response.send(send, response.body)
    headers = dict(sent[0]['headers'])
    assert headers[b'content-type'] == b'application/problem+json'
    assert [name for name, _ in sent[0]['headers']].count(b'content-type') == 1


# -- domain errors: the app gives each its status -------------------------------------------------------


def test_the_store_and_username_errors_are_domain_errors_not_http_errors():
    for error in (DuplicateKeyError('username'), StoreUnavailableError('MongoDB'), InvalidUsername('no')):
        assert isinstance(error, DomainError) and not isinstance(error, APIError)


@pytest.mark.parametrize(
    ('error', 'status_code'),
    [
        (DuplicateKeyError('username'), 409),
        (StoreUnavailableError('MongoDB', 'timed out'), 503),
        (InvalidUsername('The username must not be empty'), 400),
    ],
    ids=['duplicate', 'unavailable', 'username'],
)
async def test_a_domain_error_left_uncaught_becomes_its_status_and_detail(tmp_path, error, status_code):
    @API()
    async def failing(request):
        raise error

    app = Panther(
        configs=settings_module(
            SECRET_KEY='s' * 32 + '0123456789abcdefghijklmnopqrstuv',
            URLS={'f': failing},
            DATABASE={'path': str(tmp_path / 'd.db')},
        )
    )
    async with TestClient(app) as client:
        response = await client.get('/f')
    assert response.status_code == status_code
    assert response.json() == {'detail': error.detail}


async def test_an_exception_handler_for_api_errors_also_receives_a_mapped_domain_error(tmp_path):
    @API()
    async def failing(request):
        raise DuplicateKeyError('email')

    def handle(request, exc):
        return Response({'handled': exc.detail, 'status': exc.status_code}, 418)

    app = Panther(
        configs=settings_module(
            SECRET_KEY='s' * 32 + '0123456789abcdefghijklmnopqrstuv',
            URLS={'f': failing},
            DATABASE={'path': str(tmp_path / 'd.db')},
        ),
        exception_handlers={APIError: handle},
    )
    async with TestClient(app) as client:
        response = await client.get('/f')
    assert response.status_code == 418
    assert response.json() == {'handled': 'email already exists', 'status': 409}
