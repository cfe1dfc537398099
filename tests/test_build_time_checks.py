"""Setup mistakes in ``auth=`` and ``permissions=`` are `ConfigError`s when the app is built, never a 500 later.

Each case below used to build and then fail on the first request: an auth
function that takes no request, a permission class without an
``authorization`` method (it was called as ``Class(request)``), a
security object whose ``authenticate`` was never written. The error names
the route and the object.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from panther_like import API, GenericAPI, Panther
from panther_like.auth.authentication_classes import BaseAuthentication
from panther_like.exceptions import ConfigError
from panther_like.routing.websocket import GenericWebsocket
from panther_like.security import APIKeyCookie, APIKeyHeader, APIKeyQuery, HttpBasicAuth, HttpBearer
from tests.settings import settings_module


def build(tmp_path: Path, route: Any) -> Panther:
    return Panther(
        configs=settings_module(
            SECRET_KEY='s' * 32 + '0123456789abcdefghijklmnopqrstuv',
            URLS={'things/': route},
            DATABASE={'path': str(tmp_path / 's.sqlite3')},
        )
    )


def refused(tmp_path: Path, route: Any) -> str:
    with pytest.raises(ConfigError) as info:
        build(tmp_path, route)
    return str(info.value)


def route(**options: Any) -> API:
    @API(**options)
    async def things(request):
        return {'ok': True}

    return things


# -- auth= functions ------------------------------------------------------------------------------


def no_argument():
    return 'someone'


async def two_arguments(request, extra):
    return 'someone'


def test_an_auth_function_that_takes_no_argument_is_refused(tmp_path):
    message = refused(tmp_path, route(auth=no_argument))
    assert "route 'things'" in message
    assert 'no_argument' in message
    assert 'request' in message


def test_an_auth_function_that_needs_two_arguments_is_refused(tmp_path):
    message = refused(tmp_path, route(auth=two_arguments))
    assert 'two_arguments' in message


def test_an_auth_function_in_a_list_is_checked_too(tmp_path):
    message = refused(tmp_path, route(auth=[lambda request: None, no_argument]))
    assert 'no_argument' in message


def test_auth_functions_of_every_accepted_shape_build(tmp_path):
    class Callable:
        def __call__(self, request):
            return 'someone'

    for auth in (lambda request: 'someone', lambda *args: 'someone', lambda request, extra=1: 'x', Callable()):
        build(tmp_path, route(auth=auth))


# -- permissions ----------------------------------------------------------------------------------


class NoAuthorization:
    """Looks like a Panther permission, but the method is missing (a typo: ``authorisation``)."""

    @classmethod
    async def authorisation(cls, request):
        return True


def test_a_permission_class_without_authorization_is_refused(tmp_path):
    message = refused(tmp_path, route(auth=lambda request: 'someone', permissions=[NoAuthorization]))
    assert "route 'things'" in message
    assert 'NoAuthorization' in message
    assert 'authorization(request)' in message


def test_a_permission_function_that_takes_no_argument_is_refused(tmp_path):
    message = refused(tmp_path, route(auth=lambda request: 'someone', permissions=[no_argument]))
    assert 'no_argument' in message


def test_a_permission_class_that_cannot_be_built_without_arguments_is_refused(tmp_path):
    class NeedsArguments:
        def __init__(self, level):
            self.level = level

        def authorization(self, request):
            return True

    message = refused(tmp_path, route(auth=lambda request: 'someone', permissions=[NeedsArguments]))
    assert 'NeedsArguments' in message


def test_a_permission_on_a_generic_api_is_checked(tmp_path):
    class Things(GenericAPI):
        auth = staticmethod(lambda request: 'someone')
        permissions = [NoAuthorization]

        async def get(self, request):
            return {}

    message = refused(tmp_path, Things)
    assert 'NoAuthorization' in message


# -- security objects without authenticate --------------------------------------------------------


@pytest.mark.parametrize('security', [HttpBearer, HttpBasicAuth, APIKeyQuery, APIKeyHeader, APIKeyCookie])
def test_a_security_object_without_authenticate_is_refused(tmp_path, security):
    class Unfinished(security):
        pass

    message = refused(tmp_path, route(auth=Unfinished()))
    assert "route 'things'" in message
    assert 'Unfinished' in message
    assert 'authenticate' in message


def test_a_security_base_class_used_directly_is_refused(tmp_path):
    message = refused(tmp_path, route(auth=HttpBearer()))
    assert 'HttpBearer' in message and 'authenticate' in message


def test_a_security_object_without_authenticate_on_a_websocket_is_refused(tmp_path):
    class Unfinished(APIKeyQuery):
        pass

    class Socket(GenericWebsocket):
        auth = Unfinished()

    message = refused(tmp_path, Socket)
    assert 'Unfinished' in message


def test_an_authentication_class_without_authentication_is_refused(tmp_path):
    class Unfinished(BaseAuthentication):
        pass

    message = refused(tmp_path, route(auth=Unfinished))
    assert 'Unfinished' in message
    assert 'authentication(request)' in message
