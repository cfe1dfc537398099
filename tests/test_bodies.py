"""Typed bodies and responses, path parameters checked at build time, auth per method.

``@API(input_model=..., output_model=...)`` (Panther's spelling of ``input``/``output``),
``GenericAPI.input_model``/``output_model``, ``request.validated_data``; a pydantic error
anywhere in the request path is a 422 with the field errors, never a 500; an output model
filters what leaves; a route whose path parameters do not fit its handler is a `ConfigError`;
one path may have a public GET and a protected POST.
"""

from __future__ import annotations

import pytest
from openapi_spec_validator import validate
from pydantic import BaseModel

from panther_like import API, GenericAPI, Panther
from panther_like.db.models import BaseUser
from panther_like.exceptions import ConfigError
from panther_like.routing.contract import contract
from panther_like.routing.websocket import GenericWebsocket
from panther_like.testing import TestClient
from tests.settings import settings_module
from tests.test_contract import Item, ItemOut  # the same models, with the limits these tests rely on

SECRET = 'bodies-test-secret-' * 4


class UserOut(BaseModel):
    id: str
    username: str


class EmailUser(BaseUser):
    email: str = ''


def build(tmp_path, urls, **settings) -> Panther:
    settings.setdefault('DATABASE', {'path': str(tmp_path / 'bodies.sqlite3')})
    return Panther(configs=settings_module(URLS=urls, **settings))


# -- Panther's spellings -------------------------------------------------------------------------


@API(methods=['POST'], input_model=Item, output_model=ItemOut)
async def panther_style(request):
    assert request.validated_data is request.validated
    return {**request.validated_data.model_dump(), 'internal': 'dropped'}


async def test_input_model_and_output_model_are_panthers_names_for_input_and_output(tmp_path):
    async with TestClient(build(tmp_path, {'items': panther_style})) as client:
        ok = await client.post('/items', json={'name': 'pen', 'price': 2})
        bad = await client.post('/items', json={'name': 'pen', 'price': 'two'})
    assert ok.status_code == 200 and ok.json() == {'name': 'pen', 'price': 2}
    assert bad.status_code == 422
    assert bad.json()['errors'] == [
        {
            'loc': ['price'],
            'type': 'int_parsing',
            'msg': 'Input should be a valid integer, unable to parse string as an integer',
        }
    ]


@pytest.mark.parametrize(
    'kwargs',
    [
        {'input': Item, 'input_model': Item},
        {'output': ItemOut, 'output_model': ItemOut},
    ],
)
def test_both_spellings_at_once_are_refused(kwargs):
    with pytest.raises(TypeError, match='not both'):
        API(methods=['POST'], **kwargs)
    with pytest.raises(TypeError, match='not both'):
        contract(**kwargs)


class Things(GenericAPI):
    input_model = Item
    output_model = ItemOut

    async def get(self, request):
        assert request.validated_data is None  # GET carries no body: the input model is not read
        return {'name': 'listed', 'price': 0, 'secret': 'dropped'}

    async def post(self, request):
        return request.validated_data

    async def put(self, request):
        return {**request.validated_data.model_dump(), 'secret': 'dropped'}

    @contract(input_model=None, status_code=202)
    async def patch(self, request):
        return {'name': 'patched', 'price': 1}

    async def delete(self, request):
        return None


async def test_generic_api_models_apply_to_the_body_methods_and_output_to_every_method(tmp_path):
    async with TestClient(build(tmp_path, {'things': Things})) as client:
        assert (await client.get('/things')).json() == {'name': 'listed', 'price': 0}
        assert (await client.post('/things', json={'name': 'a', 'price': 1})).json() == {'name': 'a', 'price': 1}
        assert (await client.post('/things', json={'name': 'a'})).status_code == 422
        assert (await client.put('/things', json={'name': 'b', 'price': 2})).json() == {'name': 'b', 'price': 2}
        assert (await client.put('/things', json=[])).status_code == 422
        patched = await client.patch('/things', json={'anything': True})
        assert (patched.status_code, patched.json()) == (202, {'name': 'patched', 'price': 1})
        deleted = await client.delete('/things')
        assert deleted.status_code == 200 and deleted.json() is None


# -- a pydantic error anywhere in the request path ------------------------------------------------


@API(methods=['POST'])
async def builds_a_model(request):
    return Item(**request.data).model_dump()


@API(methods=['POST'])
async def signup_with_a_number_as_email(request):
    user = await EmailUser.insert_one(username='someone', password='a long passphrase', email=123)
    return {'id': user.id}


async def test_a_model_built_in_a_handler_that_does_not_validate_is_a_422(tmp_path):
    async with TestClient(build(tmp_path, {'build': builds_a_model})) as client:
        response = await client.post('/build', json={'name': 'pen', 'price': 'lots'})
    assert response.status_code == 422
    assert (
        response.json()['detail'] == 'Invalid input: price: Input should be a valid integer, unable to parse '
        'string as an integer'
    )
    assert response.json()['errors'][0]['loc'] == ['price']


async def test_a_model_write_that_does_not_validate_is_a_422_naming_the_field(database_setting, tmp_path):
    app = build(tmp_path, {'signup': signup_with_a_number_as_email}, DATABASE=database_setting, USER_MODEL=EmailUser)
    async with TestClient(app) as client:
        response = await client.post('/signup', json={})
    assert response.status_code == 422
    assert [error['loc'] for error in response.json()['errors']] == [['email']]
    assert 'email' in response.json()['detail'] and '123' not in response.text


async def test_an_exception_handler_for_the_422_sees_a_handlers_validation_error(tmp_path):
    from panther_like.exceptions import ValidationAPIError
    from panther_like.http.response import Response

    seen = []

    def handler(request, exc):
        seen.append(exc)
        return Response({'problem': exc.errors[0]['loc']}, 418)

    app = Panther(
        configs=settings_module(URLS={'build': builds_a_model}, DATABASE={'path': str(tmp_path / 'h.sqlite3')}),
        exception_handlers={ValidationAPIError: handler},
    )
    async with TestClient(app) as client:
        response = await client.post('/build', json={'name': 'pen'})
    assert (response.status_code, response.json()) == (418, {'problem': ['price']})
    assert isinstance(seen[0], ValidationAPIError)


class Validating(GenericWebsocket):
    auth = None

    async def receive(self, data):
        await self.send(Item(**data).model_dump())


async def test_a_websocket_whose_handler_fails_a_model_closes_with_1008_and_the_reason(tmp_path):
    from panther_like.testing.websocket import WebsocketClosed

    async with TestClient(build(tmp_path, {'ws': Validating})) as client, client.websocket('/ws') as socket:
        await socket.send_json({'name': 'pen', 'price': 1})
        assert await socket.receive_json() == {'name': 'pen', 'price': 1}
        await socket.send_json({'name': 'pen'})
        with pytest.raises(WebsocketClosed) as closed:
            await socket.receive()
    assert closed.value.code == 1008
    assert closed.value.reason.startswith('Invalid input: price: Field required')


# -- output models filter --------------------------------------------------------------------------


@API(methods=['GET'], output_model=UserOut)
async def a_user(request):
    return await EmailUser.insert_one(username='shown', password='a long passphrase', email='a@example.com')


@API(methods=['GET'], output_model=UserOut)
async def a_dict_with_a_hash(request):
    return {'id': '1', 'username': 'shown', 'password': 'argon2id$hash', 'username_key': 'shown'}


class WithPassword(BaseModel):
    username: str
    password: str


@API(methods=['GET'], output_model=WithPassword)
async def a_model_that_asks_for_the_hash(request):
    return await EmailUser.insert_one(username='leaky', password='a long passphrase')


async def test_an_output_model_never_lets_the_password_hash_out(tmp_path):
    urls = {'user': a_user, 'dict': a_dict_with_a_hash, 'asks': a_model_that_asks_for_the_hash}
    async with TestClient(build(tmp_path, urls, USER_MODEL=EmailUser)) as client:
        user = await client.get('/user')
        from_dict = await client.get('/dict')
        asks = await client.get('/asks')
    assert set(user.json()) == {'id', 'username'} and user.json()['username'] == 'shown'
    assert from_dict.json() == {'id': '1', 'username': 'shown'}
    assert asks.status_code == 500 and asks.json() == {'detail': 'Internal server error'}
    for response in (user, from_dict, asks):
        assert 'argon2' not in response.text and 'password' not in response.text


# -- path parameters against handlers ------------------------------------------------------------


@API(methods=['GET'])
async def item_detail(request, item_id):
    return {'id': item_id}


@API(methods=['GET'])
async def anything(request, **params):
    return params


@API(methods=['GET'])
def sync_detail(request, thing_id, page='1'):
    return {'id': thing_id}


class ThingDetail(GenericAPI):
    async def get(self, request, thing_id):
        return {'id': thing_id}

    async def delete(self, request, item_id):
        return None


class NeedsMore(GenericAPI):
    async def get(self, request, thing_id, version):
        return {}


@pytest.mark.parametrize(
    'urls, words',
    [
        ({'things/<thing_id>/': item_detail}, ["'things/<thing_id>'", 'thing_id', 'item_detail']),
        ({'things/<thing_id>/': ThingDetail}, ["'things/<thing_id>'", 'item_id', 'ThingDetail.delete']),
        ({'things/<thing_id>/': NeedsMore}, ["'things/<thing_id>'", 'version', 'NeedsMore.get']),
        ({'things/': item_detail}, ["'things'", 'item_id', 'item_detail']),
    ],
)
def test_a_route_whose_parameters_do_not_fit_its_handler_is_a_config_error(tmp_path, urls, words):
    with pytest.raises(ConfigError) as error:
        build(tmp_path, urls)
    for word in words:
        assert word in str(error.value)


async def test_handlers_that_fit_their_route_are_accepted(tmp_path):
    urls = {'a/<item_id>': item_detail, 'b/<x>/<y>': anything, 'c/<thing_id>': sync_detail}
    async with TestClient(build(tmp_path, urls)) as client:
        assert (await client.get('/a/1')).json() == {'id': '1'}
        assert (await client.get('/b/1/2')).json() == {'x': '1', 'y': '2'}
        assert (await client.get('/c/3')).json() == {'id': '3'}


def test_check_reports_a_parameter_that_does_not_fit(tmp_path, monkeypatch, capsys):
    from panther_like.cli import main

    module = tmp_path / 'mismatched_settings.py'
    module.write_text(
        'from panther_like import API\n'
        '@API(methods=["GET"])\n'
        'async def get_thing(request, item_id):\n'
        '    return {}\n'
        f'DATABASE = {{"path": {str(tmp_path / "c.sqlite3")!r}}}\n'
        'URLS = {"things/<thing_id>/": get_thing}\n'
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    code = main(['check', '--configs', 'mismatched_settings'])
    output = capsys.readouterr()
    assert code != 0
    assert 'thing_id' in output.out + output.err and 'get_thing' in output.out + output.err


# -- auth per method -------------------------------------------------------------------------------


class Posts(GenericAPI):
    """A public list, a protected create."""

    async def get(self, request):
        return {'posts': []}

    @contract(auth=True, input_model=Item, status_code=201)
    async def post(self, request):
        return {'by': request.user.username, **request.validated_data.model_dump()}


@API(methods=['GET'])
async def list_notes(request):
    return {'notes': []}


@API(methods=['POST'], auth=True, input_model=Item, status_code=201)
async def create_note(request):
    return {'by': request.user.username}


def auth_settings(tmp_path) -> dict:
    return {
        'SECRET_KEY': SECRET,
        'AUTHENTICATION': 'panther_like.authentications.JWTAuthentication',
        'DATABASE': {'path': str(tmp_path / 'auth.sqlite3')},
    }


@pytest.mark.parametrize('path', ['/posts', '/notes'])
async def test_one_path_has_a_public_get_and_a_protected_post(tmp_path, path):
    app = build(tmp_path, {'posts': Posts, 'notes': [list_notes, create_note]}, **auth_settings(tmp_path))
    async with TestClient(app) as client:
        public = await client.get(path)
        refused = await client.post(path, json={'name': 'pen', 'price': 1})
        user = await BaseUser.insert_one(username='writer', password='a long passphrase')
        await client.login_as(user)
        created = await client.post(path, json={'name': 'pen', 'price': 1})
        invalid = await client.post(path, json={'name': 'pen'})
    assert public.status_code == 200
    assert refused.status_code == 401 and 'WWW-Authenticate' in refused.headers
    assert created.status_code == 201 and created.json()['by'] == 'writer'
    assert invalid.status_code == 422


async def test_the_document_shows_security_only_on_the_protected_operation(tmp_path):
    app = build(tmp_path, {'posts': Posts, 'notes': [list_notes, create_note]}, **auth_settings(tmp_path))
    async with TestClient(app) as client:
        document = (await client.get('/openapi.json')).json()
    for path in ('/posts', '/notes'):
        operations = document['paths'][path]
        assert set(operations) == {'get', 'post'}
        assert 'security' not in operations['get'] and '401' not in operations['get']['responses']
        assert operations['post']['security'] and '401' in operations['post']['responses']
    assert document['paths']['/notes']['get']['summary'] == 'List notes'
    assert document['paths']['/notes']['post']['summary'] == 'Create note'
    validate(document)


def test_functions_sharing_a_path_must_not_share_a_method(tmp_path):
    with pytest.raises(ConfigError, match=r"'notes'.*GET"):
        build(tmp_path, {'notes': [list_notes, API(methods=['GET', 'POST'])(create_note.function)]})


def test_a_path_list_holds_only_api_functions(tmp_path):
    with pytest.raises(ConfigError, match="'notes'"):
        build(tmp_path, {'notes': [list_notes, Posts]})


# -- the 422 in the document -----------------------------------------------------------------------


async def test_every_operation_with_an_input_model_documents_the_422_shape(tmp_path):
    async with TestClient(build(tmp_path, {'items': panther_style, 'things': Things})) as client:
        document = (await client.get('/openapi.json')).json()
    for path, method in (('/items', 'post'), ('/things', 'post'), ('/things', 'put')):
        response = document['paths'][path][method]['responses']['422']
        assert response['content']['application/json']['schema'] == {
            '$ref': '#/components/schemas/ValidationErrorResponse'
        }
    assert '422' not in document['paths']['/things']['get']['responses']
    assert '422' not in document['paths']['/things']['patch']['responses']
    validate(document)
    shape = document['components']['schemas']['ValidationErrorResponse']
    assert shape['required'] == ['detail', 'errors']
    assert set(document['components']['schemas']['FieldError']['properties']) == {'loc', 'msg', 'type'}


def test_the_route_table_shows_each_methods_authentication(tmp_path):
    from panther_like.cli.describe import route_rows

    app = build(tmp_path, {'posts': Posts, 'notes': [list_notes, create_note]}, **auth_settings(tmp_path))
    rows = [row for row in route_rows(app)]
    jwt = 'panther_like.auth.authentication_classes.JWTAuthentication (AUTHENTICATION)'
    assert rows == [
        ('/posts', 'GET, HEAD', '-'),
        ('/posts', 'POST', jwt),
        ('/notes', 'GET, HEAD', '-'),
        ('/notes', 'POST', jwt),
    ]
