"""The OpenAPI document shows a throttled route's 429 (with ``Retry-After``) and the user list's query parameters."""

from __future__ import annotations

from openapi_spec_validator import validate

from panther_like import API, GenericAPI, Panther, Throttle
from panther_like.accounts import accounts_urls
from panther_like.openapi.document import build_document
from tests.settings import settings_module

SECRET_KEY = 'openapi-throttle-secret-0123456789-abcdefghij'


@API(methods=['GET'], throttling=Throttle(rate=2, duration=60))
async def limited(request):
    return {}


@API(methods=['GET'])
async def unlimited(request):
    return {}


class LimitedView(GenericAPI):
    throttling = Throttle(rate=5, duration=60)

    async def get(self, request):
        return {}


def _document(**settings) -> dict:
    app = Panther(settings_module(SECRET_KEY=SECRET_KEY, **settings))
    document = build_document(app.router.routes, app.config.openapi)
    validate(document)
    return document


def test_a_route_with_its_own_throttle_documents_429_with_retry_after():
    document = _document(URLS={'limited': limited})
    too_many = document['paths']['/limited']['get']['responses']['429']
    assert 'Retry-After' in too_many['headers']
    assert too_many['headers']['Retry-After']['schema'] == {'type': 'integer'}


def test_a_generic_api_with_a_throttle_documents_429():
    document = _document(URLS={'view': LimitedView})
    assert '429' in document['paths']['/view']['get']['responses']


def test_the_throttling_setting_documents_429_on_every_route():
    document = _document(URLS={'unlimited': unlimited}, THROTTLING=Throttle(rate=100, duration=60))
    assert 'Retry-After' in document['paths']['/unlimited']['get']['responses']['429']['headers']


def test_a_route_without_a_throttle_documents_no_429():
    document = _document(URLS={'unlimited': unlimited})
    assert '429' not in document['paths']['/unlimited']['get']['responses']


def test_a_declared_429_of_an_account_route_documents_retry_after():
    document = _document(URLS={'auth/': accounts_urls})
    assert 'Retry-After' in document['paths']['/auth/signup']['post']['responses']['429']['headers']


def test_the_user_list_documents_its_limit_and_offset_query_parameters():
    document = _document(URLS={'auth/': accounts_urls})
    parameters = {p['name']: p for p in document['paths']['/auth/users']['get']['parameters']}
    assert set(parameters) == {'limit', 'offset'}
    assert all(p['in'] == 'query' and p['required'] is False for p in parameters.values())
    assert parameters['limit']['schema'] == {'type': 'integer', 'minimum': 1, 'maximum': 100, 'default': 50}
    assert parameters['offset']['schema'] == {'type': 'integer', 'minimum': 0, 'default': 0}
