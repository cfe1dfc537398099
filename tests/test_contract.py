"""``@API(input=..., output=..., status_code=...)`` and ``@contract`` on GenericAPI methods: checked, documented."""

from __future__ import annotations

import types

import pytest
from pydantic import BaseModel, ConfigDict, Field

from panther_like import API, GenericAPI, Panther
from panther_like.routing.contract import Contract, contract
from panther_like.testing import TestClient


class Item(BaseModel):
    model_config = ConfigDict(extra='forbid')

    name: str = Field(min_length=1, max_length=20)
    price: int = Field(ge=0)


class ItemOut(BaseModel):
    name: str
    price: int


@API(methods=['POST'], input=Item, output=ItemOut, status_code=201, responses={409: 'Already exists'})
async def create_item(request):
    return {**request.validated.model_dump(), 'internal': 'never shown'}


@API(methods=['POST'], input=Item, form=True)
async def form_item(request):
    return request.validated.model_dump()


@API(methods=['GET'], output=list[ItemOut])
async def list_items(request):
    return [{'name': 'a', 'price': 1}]


@API(methods=['GET'], output=ItemOut)
async def broken(request):
    return {'name': 'a'}


class Items(GenericAPI):
    @contract(input=Item, output=ItemOut, status_code=201)
    async def post(self, request):
        return request.validated

    async def get(self, request):
        return {'plain': True}


def app_for(tmp_path) -> Panther:
    settings = types.ModuleType('contract_settings')
    settings.URLS = {'items': create_item, 'form': form_item, 'list': list_items, 'broken': broken, 'generic': Items}
    settings.DATABASE = {'path': str(tmp_path / 'contract.sqlite3')}
    return Panther(configs=settings)


async def test_a_valid_body_reaches_the_handler_validated(tmp_path):
    async with TestClient(app_for(tmp_path)) as client:
        response = await client.post('/items', json={'name': 'pen', 'price': 2})
    assert response.status_code == 201
    assert response.json() == {'name': 'pen', 'price': 2}  # the output model dropped 'internal'


@pytest.mark.parametrize(
    'body, problem',
    [
        ({'name': 'pen'}, 'price: Field required'),
        ({'name': 'pen', 'price': 'two'}, 'price: Input should be a valid integer'),
        ({'name': '', 'price': 1}, 'name: String should have at least 1 character'),
        ({'name': 'pen', 'price': 1, 'colour': 'red'}, 'colour: Extra inputs are not permitted'),
        ([1, 2], 'body: Input should be a valid dictionary'),
        (None, 'name: Field required'),
    ],
)
async def test_an_invalid_body_is_a_422_that_names_each_problem(tmp_path, body, problem):
    async with TestClient(app_for(tmp_path)) as client:
        response = await client.post('/items', json=body)
    assert response.status_code == 422
    assert response.json()['detail'].startswith('Invalid request body: ')
    assert problem in response.json()['detail']


async def test_the_problem_never_echoes_the_input(tmp_path):
    async with TestClient(app_for(tmp_path)) as client:
        response = await client.post('/items', json={'name': 'secret-value-' * 5, 'price': 1})
    assert response.status_code == 422 and 'secret-value' not in response.text


async def test_a_form_body_is_accepted_where_declared(tmp_path):
    async with TestClient(app_for(tmp_path)) as client:
        assert (await client.post('/form', data={'name': 'pen', 'price': '3'})).json() == {'name': 'pen', 'price': 3}
        assert (await client.post('/form', json={'name': 'pen', 'price': 3})).status_code == 200
        twice = await client.post(
            '/form', content=b'name=a&name=b&price=1', headers={'Content-Type': 'application/x-www-form-urlencoded'}
        )
        assert twice.status_code == 400 and 'more than once' in twice.json()['detail']
        not_utf8 = await client.post(
            '/form', content=b'name=%ff&price=1', headers={'Content-Type': 'application/x-www-form-urlencoded'}
        )
        assert not_utf8.status_code == 400


async def test_a_form_body_is_not_read_where_only_json_is_declared(tmp_path):
    async with TestClient(app_for(tmp_path)) as client:
        response = await client.post('/items', data={'name': 'pen', 'price': '3'})
    assert response.status_code == 400 and response.json()['detail'] == 'Request body is not valid JSON'


async def test_an_output_type_may_be_a_list(tmp_path):
    async with TestClient(app_for(tmp_path)) as client:
        assert (await client.get('/list')).json() == [{'name': 'a', 'price': 1}]


async def test_a_handler_that_breaks_its_output_contract_is_a_500_not_a_leak(tmp_path):
    async with TestClient(app_for(tmp_path)) as client:
        response = await client.get('/broken')
    assert response.status_code == 500 and response.json() == {'detail': 'Internal server error'}


async def test_a_generic_api_method_takes_a_contract(tmp_path):
    async with TestClient(app_for(tmp_path)) as client:
        assert (await client.post('/generic', json={'name': 'pen', 'price': 1})).status_code == 201
        assert (await client.post('/generic', json={'name': 'pen'})).status_code == 422
        assert (await client.get('/generic')).json() == {'plain': True}


async def test_the_document_shows_request_and_response_schemas(tmp_path):
    async with TestClient(app_for(tmp_path)) as client:
        document = (await client.get('/openapi.json')).json()
    operation = document['paths']['/items']['post']
    assert operation['requestBody'] == {
        'required': True,
        'content': {'application/json': {'schema': {'$ref': '#/components/schemas/Item'}}},
    }
    assert operation['responses']['201']['content']['application/json']['schema'] == {
        '$ref': '#/components/schemas/ItemOut'
    }
    assert set(operation['responses']) == {'201', '400', '409', '422'}
    assert operation['responses']['422']['content']['application/json']['schema'] == {
        '$ref': '#/components/schemas/ValidationErrorResponse'
    }
    assert operation['responses']['409']['description'] == 'Already exists'
    form = document['paths']['/form']['post']['requestBody']['content']
    assert set(form) == {'application/json', 'application/x-www-form-urlencoded'}
    assert document['paths']['/list']['get']['responses']['200']['content']['application/json']['schema'] == {
        'type': 'array',
        'items': {'$ref': '#/components/schemas/ItemOut'},
    }
    assert document['components']['schemas']['Item']['required'] == ['name', 'price']


@pytest.mark.parametrize('kwargs', [{'input': dict}, {'status_code': 404}, {'form': True}])
def test_a_contract_is_checked_when_it_is_declared(kwargs):
    with pytest.raises(TypeError):
        Contract(**kwargs)
