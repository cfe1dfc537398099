"""/openapi.json and /docs through uvicorn: a valid 3.1 document that tells the truth about auth."""

from __future__ import annotations

import pytest
from openapi_spec_validator import validate

from panther_like import API, Panther
from panther_like.exceptions import ConfigError
from panther_like.security import APIKeyHeader
from tests.settings import settings_module


@pytest.fixture(scope='module')
def document(secured_server) -> dict:
    with secured_server.client() as http:
        response = http.get('/openapi.json')
    assert response.status_code == 200
    return response.json()


def operation(document: dict, path: str, method: str = 'get') -> dict:
    return document['paths'][path][method]


@pytest.mark.server
def test_document_is_valid_openapi_3_1(document):
    assert document['openapi'] == '3.1.0'
    validate(document)


@pytest.mark.server
def test_info_comes_from_the_openapi_setting(document):
    assert document['info'] == {'title': 'Security objects under test', 'version': '1.0.0'}


@pytest.mark.server
def test_path_parameters_use_braces(example_document):
    parameters = example_document['paths']['/users/{user_id}']['get']['parameters']
    assert parameters == [{'name': 'user_id', 'in': 'path', 'required': True, 'schema': {'type': 'string'}}]


@pytest.mark.server
def test_every_scheme_in_use_is_listed(document):
    schemes = document['components']['securitySchemes']
    assert schemes['HeaderKey'] == {'type': 'apiKey', 'in': 'header', 'name': 'X-API-Key'}
    assert schemes['QueryKey'] == {'type': 'apiKey', 'in': 'query', 'name': 'api_key'}
    assert schemes['Bearer'] == {'type': 'http', 'scheme': 'bearer'}
    assert schemes['JWTAuthentication'] == {'type': 'http', 'scheme': 'bearer', 'bearerFormat': 'JWT'}
    assert schemes['SessionAuth']['in'] == 'cookie' and schemes['SessionAuth']['name'] == 'sessionid'


@pytest.mark.server
def test_two_instances_of_one_class_get_distinct_scheme_names(document):
    schemes = document['components']['securitySchemes']
    basics = {name: scheme for name, scheme in schemes.items() if name.startswith('Basic_')}
    assert len(basics) == 2
    assert {scheme['description'] for scheme in basics.values()} == {
        'HTTP Basic, realm "api"',
        'HTTP Basic, realm "admin area"',
    }
    assert operation(document, '/basic')['security'] != operation(document, '/basic-realm')['security']


@pytest.mark.server
def test_a_list_is_an_or_of_security_requirements(document):
    security = operation(document, '/list')['security']
    assert len(security) == 3 and all(len(requirement) == 1 for requirement in security)
    assert {'HeaderKey': []} in security


@pytest.mark.server
def test_optional_auth_allows_the_empty_requirement(document):
    assert operation(document, '/optional')['security'] == [{'Bearer': []}, {}]
    assert '401' not in operation(document, '/optional')['responses']


@pytest.mark.server
def test_scopes_appear_in_the_security_requirement(document):
    assert operation(document, '/scoped-two')['security'] == [{'JWTAuthentication': ['read:items', 'write:items']}]
    assert '403' in operation(document, '/scoped-two')['responses']


@pytest.mark.server
def test_protected_operations_document_401_with_the_detail_model(document):
    response = operation(document, '/bearer')['responses']['401']
    assert response['content']['application/json']['schema'] == {'$ref': '#/components/schemas/AuthErrorResponse'}
    assert document['components']['schemas']['AuthErrorResponse']['properties']['detail']['type'] == 'string'


@pytest.mark.server
def test_public_operations_have_no_security_and_no_401(document):
    assert 'security' not in operation(document, '/')
    assert '401' not in operation(document, '/')['responses']


@pytest.mark.server
def test_group_defaults_are_documented(document):
    assert operation(document, '/group/inherits')['security'] == [{'Bearer': []}]
    assert 'security' not in operation(document, '/group/public')


@pytest.mark.server
def test_403_is_documented_where_csrf_staff_or_permissions_can_refuse(document):
    for path in ('/staff', '/superuser', '/permission', '/cookie-key'):
        assert '403' in operation(document, path)['responses'], path
    assert '403' not in operation(document, '/bearer')['responses']


@pytest.mark.server
def test_docs_routes_are_not_in_the_document(document):
    assert not any(path.startswith(('/docs', '/openapi')) for path in document['paths'])


def test_custom_responses_of_two_schemes_merge_with_one_of():
    from pydantic import BaseModel

    class Problem(BaseModel):
        detail: str
        code: str

    class Custom(APIKeyHeader):
        openapi_responses = {401: Problem}

        def authenticate(self, request, key):
            return key

    class Plain(APIKeyHeader):
        param_name = 'X-Plain'

        def authenticate(self, request, key):
            return key

    app = Panther(settings_module(URLS={'x': API(auth=[Custom(), Plain()])(lambda request: {})}))
    from panther_like.openapi.document import build_document

    document = build_document(app.router.routes, app.config.openapi)
    validate(document)
    schema = document['paths']['/x']['get']['responses']['401']['content']['application/json']['schema']
    assert schema == {
        'oneOf': [{'$ref': '#/components/schemas/Problem'}, {'$ref': '#/components/schemas/AuthErrorResponse'}]
    }


def test_empty_openapi_responses_documents_no_401():
    class Quiet(APIKeyHeader):
        openapi_responses = {}

        def authenticate(self, request, key):
            return key

    from panther_like.openapi.document import build_document

    app = Panther(settings_module(URLS={'x': API(auth=Quiet())(lambda request: {})}))
    assert '401' not in build_document(app.router.routes, app.config.openapi)['paths']['/x']['get']['responses']


def test_openapi_setting_is_checked_at_build():
    with pytest.raises(ConfigError, match='OPENAPI'):
        Panther(settings_module(URLS={'x': API()(lambda request: {})}, OPENAPI={'titel': 'typo'}))


# -- the example project ----------------------------------------------------------------------------


@pytest.fixture(scope='module')
def example_document(tmp_path_factory) -> dict:
    from tests.e2e.server import launch

    server_iter = launch(tmp_path_factory, 'openapi_example')
    server = next(server_iter)
    try:
        with server.client() as http:
            yield http.get('/openapi.json').json()
    finally:
        next(server_iter, None)


@pytest.mark.server
def test_example_document_is_valid_and_documents_the_jwt_classes(example_document):
    validate(example_document)
    schemes = example_document['components']['securitySchemes']
    assert schemes['JWTAuthentication'] == {'type': 'http', 'scheme': 'bearer', 'bearerFormat': 'JWT'}
    assert schemes['CookieJWTAuthentication'] == {
        'type': 'apiKey',
        'in': 'cookie',
        'name': 'access_token',
        'description': 'An access JWT; POST, PUT, PATCH and DELETE also need header X-CSRFToken equal to cookie '
        "'csrftoken'",
    }
    # The example mounts the account routes, whose login is an OAuth2 token endpoint: a bearer JWT
    # may also come from /docs' password flow.
    assert example_document['paths']['/whoami']['get']['security'] == [
        {'JWTAuthentication': []},
        {'OAuth2PasswordBearer': []},
        {'CookieJWTAuthentication': []},
    ]


def test_query_param_jwt_class_is_documented_as_an_api_key_in_query():
    from panther_like.auth.authentication_classes import QueryParamJWTAuthentication
    from panther_like.openapi.document import security_schemes_of

    assert security_schemes_of(QueryParamJWTAuthentication) == [
        (
            'QueryParamJWTAuthentication',
            {'type': 'apiKey', 'in': 'query', 'name': 'authorization', 'description': 'An access JWT'},
        )
    ]


def test_the_change_of_address_is_documented_on_patch_me_and_email_confirm():
    from panther_like.accounts import accounts_urls
    from panther_like.openapi.document import build_document

    app = Panther(
        settings_module(SECRET_KEY='k' * 32 + '0123456789abcdefghijklmnopqrstuv', URLS={'auth/': accounts_urls})
    )
    document = build_document(app.router.routes, app.config.openapi)
    validate(document)
    patch = document['paths']['/auth/me']['patch']['responses']
    assert {'202', '401', '409', '429'} <= set(patch)
    confirm = document['paths']['/auth/email/confirm']['post']
    assert {'204', '400', '409'} <= set(confirm['responses'])
    schema = confirm['requestBody']['content']['application/json']['schema']
    assert 'token' in document['components']['schemas'][schema['$ref'].rsplit('/', 1)[1]]['properties']
