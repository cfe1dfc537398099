"""Mistakes in declaring a route fail with a `ConfigError` before any request, and ``@API()``'s default methods."""

from __future__ import annotations

from typing import Any

import pytest

from panther_like import API, GenericAPI, Panther
from panther_like.api import HTTP_METHODS
from panther_like.exceptions import ConfigError
from panther_like.testing import TestClient
from tests.settings import settings_module


def build(tmp_path, route: Any) -> Panther:
    return Panther(
        settings_module(
            SECRET_KEY='s' * 32 + '0123456789abcdefghijklmnopqrstuv',
            DATABASE={'path': str(tmp_path / 's.sqlite3')},
            URLS={'r': route},
        )
    )


def test_api_without_parentheses_says_to_use_parentheses():
    with pytest.raises(ConfigError, match=r'use @API\(\.\.\.\)'):

        @API
        async def handler(request):
            return {}


def test_a_function_handler_that_takes_no_request_is_refused_when_the_app_is_built(tmp_path):
    @API()
    async def handler():
        return {}

    with pytest.raises(ConfigError, match='cannot take the request'):
        build(tmp_path, handler)


def test_a_generic_api_method_that_takes_no_request_is_refused_when_the_app_is_built(tmp_path):
    class Things(GenericAPI):
        async def get(self):
            return {}

    with pytest.raises(ConfigError, match='cannot take the request'):
        build(tmp_path, Things)


def test_a_handler_taking_the_request_positionally_or_by_star_args_builds(tmp_path):
    @API()
    async def one(request):
        return {}

    @API()
    async def star(*args):
        return {}

    build(tmp_path, one)
    build(tmp_path, star)


def test_api_without_methods_serves_every_method():
    @API()
    async def handler(request):
        return {}

    assert handler.methods == HTTP_METHODS


async def test_api_without_methods_answers_delete(tmp_path):
    @API()
    async def handler(request):
        return {'method': request.method}

    async with TestClient(build(tmp_path, handler)) as client:
        response = await client.delete('/r')
    assert response.json() == {'method': 'DELETE'}
