"""What the store layer guarantees to a client, through a real uvicorn on both stores.

Two apps: the example project's account routes (``/auth/``), and `tests.db.storeapp`, whose views pass
what a client sent straight to the model API, so only the model layer stands between the client and
the store. Every refusal is a 4xx with a JSON ``detail`` that does not echo the value; the server
logs no traceback (`serve` checks it when the server stops).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.conftest import example_server  # noqa: F401  (the example project, embedded and MongoDB)
from tests.security_objects.server import UvicornServer, serve
from tests.servers import fresh_database_url

pytestmark = pytest.mark.server

APP = 'tests.db.storeapp:app'
FIRST_PASSWORD = 'the first long passphrase'
SECOND_PASSWORD = 'another long passphrase'


@pytest.fixture(scope='module', params=['embedded', 'mongodb'])
def store_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[UvicornServer]:
    directory = tmp_path_factory.mktemp(f'storeapp_{request.param}')
    if request.param == 'embedded':
        env = {'STOREAPP_DB_PATH': str(directory / 'store.sqlite3')}
    else:
        env = {'STOREAPP_MONGODB_URL': fresh_database_url(request.getfixturevalue('mongodb_url'))}
    yield from serve(APP, directory, env)


@pytest.fixture
def people(store_server: UvicornServer) -> Iterator[httpx.Client]:
    with store_server.client() as client:
        yield client


def _name(prefix: str) -> str:
    return f'{prefix}{uuid.uuid4().hex[:10]}'


def _assert_refused(response: httpx.Response, status: int = 422, field: str | None = None) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert isinstance(body['detail'], str) and '\x00' not in response.text and '\\u0000' not in response.text
    if field is not None:
        assert [error['loc'][0] for error in body['errors']] == [field]


# -- the account routes --------------------------------------------------------------------------


def test_a_username_with_a_nul_cannot_take_the_name_before_the_nul(example_server) -> None:  # noqa: F811
    root = _name('root')
    with example_server.client() as client:
        refused = client.post('/auth/signup', json={'username': f'{root}\x00pwned', 'password': FIRST_PASSWORD})
        assert 400 <= refused.status_code < 500 and '\x00' not in refused.text
        created = client.post('/auth/signup', json={'username': root, 'password': SECOND_PASSWORD})
        assert created.status_code == 201, created.text
        login = client.post('/auth/login', json={'username': root, 'password': FIRST_PASSWORD})
        assert login.status_code == 401, login.text
        assert client.post('/auth/login', json={'username': root, 'password': SECOND_PASSWORD}).status_code == 200


def test_an_email_with_a_nul_or_a_bidi_override_is_refused_by_patch_me(example_server) -> None:  # noqa: F811
    username = _name('mail')
    with example_server.client() as client:
        assert client.post('/auth/signup', json={'username': username, 'password': FIRST_PASSWORD}).status_code == 201
        token = client.post('/auth/login', json={'username': username, 'password': FIRST_PASSWORD}).json()[
            'access_token'
        ]
        bearer = {'Authorization': f'Bearer {token}'}
        for email in ('victim@example.com\x00.evil', 'moc.elpmaxe@\u202eevil'):
            _assert_refused(client.patch('/auth/me', headers=bearer, json={'email': email}), field='email')
        assert client.get('/auth/me', headers=bearer).json()['email'] is None


# -- careless views: writes ----------------------------------------------------------------------


def test_a_wrongly_typed_field_is_a_422_naming_it_not_a_500(people: httpx.Client) -> None:
    response = people.post('/people', json={'name': _name('typed'), 'email': 123})
    _assert_refused(response, field='email')
    assert response.json()['detail'].startswith('Invalid fields of Person: email: ')


def test_an_unknown_field_is_a_422_naming_it_and_nothing_is_stored(people: httpx.Client) -> None:
    name = _name('emial')
    response = people.post('/people', json={'name': name, 'emial': 'e@example.com'})
    _assert_refused(response, field='emial')
    assert 'email' in response.json()['detail']  # the fields there are
    assert people.post('/people/search', json={'name': name}).json()['count'] == 0


def test_update_with_a_wrong_type_or_an_unknown_field_is_a_422(people: httpx.Client) -> None:
    name = _name('upd')
    assert people.post('/people', json={'name': name}).status_code == 200
    _assert_refused(people.patch(f'/people/{name}', json={'age': 'old'}), field='age')
    _assert_refused(people.patch(f'/people/{name}', json={'nickname': 'd'}), field='nickname')


def test_a_nul_anywhere_in_a_document_is_refused(people: httpx.Client) -> None:
    name = _name('nul')
    for body in ({'name': f'{name}\x00x'}, {'name': name, 'tags': ['ok', 'a\x00b']}):
        _assert_refused(people.post('/people', json=body))
    assert people.post('/people', json={'name': name}).status_code == 200
    _assert_refused(people.patch(f'/people/{name}', json={'email': 'a\x00@example.com'}), field='email')


def test_an_exact_float_survives_update_over_http(people: httpx.Client) -> None:
    name = _name('float')
    assert people.post('/people', json={'name': name, 'score': 0.12345678901234567}).status_code == 200
    assert people.patch(f'/people/{name}', json={'score': 0.1 + 0.2}).status_code == 200
    assert people.get('/people/lookup', params={'name': name}).json()['score'] == 0.1 + 0.2


# -- careless views: filters ---------------------------------------------------------------------


@pytest.mark.parametrize(
    'value', [{'$ne': None}, {'$gt': ''}, {'$regex': '.*'}, ['a@example.com'], {}, {'$in': ['a@example.com']}], ids=repr
)
def test_an_operator_shaped_filter_value_matches_nothing_and_is_refused(people: httpx.Client, value) -> None:
    assert people.post('/people', json={'name': _name('op'), 'email': 'a@example.com'}).status_code == 200
    response = people.post('/people/search', json={'email': value})
    _assert_refused(response, field='email')
    assert 'names' not in response.json()


def test_a_nul_or_control_character_in_a_query_string_filter_is_refused(people: httpx.Client) -> None:
    name = _name('q')
    assert people.post('/people', json={'name': name, 'email': f'{name}@example.com'}).status_code == 200
    assert people.get('/people/lookup', params={'name': name}).status_code == 200  # the control
    _assert_refused(people.get('/people/lookup', params={'name': f'{name}\x00'}))
    _assert_refused(people.get('/people/lookup', params={'email': f'{name}@example.com\u202e'}), field='email')
    _assert_refused(people.get('/people/lookup', params={'nickname': name}), field='nickname')
