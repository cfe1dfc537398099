"""The configuration layer: every mistake is a `ConfigError` at build time naming setting, value and reason.

Two failures of a configuration read lazily are guarded against here (both
seen in Panther, items 6 and 10 of docs/coming-from-panther.md): a JWT class
named on one route with no key configured must be a `ConfigError` when the
app is built, not a 500 at the first request; and the settings are read once
into a frozen object where an unknown upper-case name is an error, because a
mutable config whose unknown names read as None lets a typo silently turn a
setting (authentication included) off.
"""

from __future__ import annotations

import dataclasses
import sys
import types
from datetime import timedelta
from typing import Any

import pytest

from panther_like import API, GenericAPI, Panther
from panther_like.auth.authentication_classes import JWTAuthentication, QueryParamJWTAuthentication
from panther_like.db.models import BaseUser
from panther_like.exceptions import ConfigError
from panther_like.routing.websocket import GenericWebsocket
from panther_like.settings import config as config_module
from tests.settings import settings_module

JWT_PATH = 'panther_like.authentications.JWTAuthentication'
WS_JWT_PATH = 'panther_like.authentications.QueryParamJWTAuthentication'


@API()
async def public(request):
    return {'ok': True}


@API(auth=True)
async def private(request):
    return {'ok': True}


@API(auth=JWT_PATH)
async def jwt_route(request):
    return {'ok': True}


class AuthWebsocket(GenericWebsocket):
    auth = True


@pytest.fixture
def build(tmp_path):
    """Build an app from keyword settings; public routes and the embedded store unless given."""

    def build(**settings: Any) -> Panther:
        settings.setdefault('URLS', {'public': public})
        settings.setdefault('DATABASE', {'path': str(tmp_path / 's.sqlite3')})
        return Panther(configs=settings_module(**settings))

    return build


def config_error(build, **settings: Any) -> str:
    """The message of the `ConfigError` building these settings raises."""
    with pytest.raises(ConfigError) as info:
        build(**settings)
    assert type(info.value) is ConfigError
    return str(info.value)


def route_with_auth(auth: Any) -> API:
    @API(auth=auth)
    async def handler(request):
        return {}

    return handler


# -- AUTHENTICATION / WS_AUTHENTICATION -------------------------------------------------


def test_authentication_module_that_does_not_exist(build):
    message = config_error(build, AUTHENTICATION='no_such_package.auth.Token')
    assert "'AUTHENTICATION'" in message
    assert "'no_such_package.auth.Token'" in message
    assert "No module named 'no_such_package'" in message


def test_authentication_attribute_that_does_not_exist(build):
    message = config_error(build, AUTHENTICATION='panther_like.authentications.Nope')
    assert message == (
        "Invalid 'AUTHENTICATION': cannot import 'panther_like.authentications.Nope' "
        "(module 'panther_like.authentications' has no attribute 'Nope')"
    )


def test_authentication_path_without_a_dot(build):
    message = config_error(build, AUTHENTICATION='JWTAuthentication')
    assert "'AUTHENTICATION'" in message
    assert "'JWTAuthentication'" in message
    assert 'dot' in message


def test_authentication_that_is_a_function_not_a_class(build):
    message = config_error(build, AUTHENTICATION='panther_like.settings.env.load_env')
    assert "'AUTHENTICATION'" in message
    assert "'panther_like.settings.env.load_env'" in message
    assert 'BaseAuthentication' in message


def test_authentication_that_is_a_class_but_not_an_authentication(build):
    message = config_error(build, AUTHENTICATION='builtins.dict')
    assert "'AUTHENTICATION'" in message
    assert "'builtins.dict'" in message
    assert 'not a subclass' in message and 'BaseAuthentication' in message


def test_ws_authentication_module_that_does_not_exist(build):
    message = config_error(build, WS_AUTHENTICATION='no_such_package.auth.Token')
    assert "'WS_AUTHENTICATION'" in message
    assert "'no_such_package.auth.Token'" in message


def test_ws_authentication_that_is_not_an_authentication(build):
    message = config_error(build, WS_AUTHENTICATION='builtins.dict')
    assert "'WS_AUTHENTICATION'" in message
    assert "'builtins.dict'" in message
    assert 'BaseAuthentication' in message


# -- USER_MODEL, URLS ----------------------------------------------------------------------


def test_user_model_not_importable(build):
    message = config_error(build, USER_MODEL='example_nowhere.models.User')
    assert "'USER_MODEL'" in message
    assert "'example_nowhere.models.User'" in message
    assert 'cannot import' in message


def test_user_model_not_a_base_user_subclass(build):
    message = config_error(build, USER_MODEL='builtins.dict')
    assert "'USER_MODEL'" in message
    assert "'builtins.dict'" in message
    assert 'BaseUser' in message


def test_urls_not_importable(build):
    message = config_error(build, URLS='no_such_package.urls.url_routing')
    assert "'URLS'" in message
    assert "'no_such_package.urls.url_routing'" in message
    assert 'cannot import' in message


def test_urls_path_to_something_that_is_not_a_dict(build):
    message = config_error(build, URLS='panther_like.settings.env.load_env')
    assert "'URLS'" in message
    assert "'panther_like.settings.env.load_env'" in message  # the path the user wrote, not a function repr
    assert 'not a dict' in message


def test_urls_value_that_is_not_a_dict(build):
    message = config_error(build, URLS=['users/'])
    assert "'URLS'" in message
    assert "['users/']" in message
    assert 'not a dict' in message


def test_no_urls_at_all(tmp_path):
    with pytest.raises(ConfigError) as info:
        Panther(configs=settings_module(DATABASE={'path': str(tmp_path / 's.sqlite3')}))
    assert "'URLS'" in str(info.value)


# -- JWTConfig -------------------------------------------------------------------------------


def test_jwt_config_unknown_key(build):
    message = config_error(
        build,
        SECRET_KEY='s' * 32 + '0123456789abcdefghijklmnopqrstuv',
        JWTConfig={'key': 'top-secret-key' * 5, 'lifetime': 60},
    )
    assert "'JWTConfig'" in message
    assert "'lifetime'" in message
    assert 'life_time' in message  # the known keys are listed


def test_jwt_config_unknown_key_does_not_echo_the_key(build):
    message = config_error(
        build,
        SECRET_KEY='s' * 32 + '0123456789abcdefghijklmnopqrstuv',
        JWTConfig={'key': 'top-secret-key' * 5, 'lifetime': 60},
    )
    assert 'top-secret-key' * 5 not in message


def test_jwt_config_not_a_dict(build):
    message = config_error(build, SECRET_KEY='s' * 32 + '0123456789abcdefghijklmnopqrstuv', JWTConfig=['HS256'])
    assert "'JWTConfig'" in message
    assert "['HS256']" in message
    assert 'must be a dict' in message


def test_jwt_config_given_a_string_does_not_echo_it(build):
    message = config_error(build, JWTConfig='the-signing-key')
    assert "'JWTConfig'" in message and 'must be a dict' in message
    assert 'the-signing-key' not in message


@pytest.mark.parametrize('algorithm', ['none', 'hs256', 'HS1024', 'RSA'])
def test_jwt_algorithm_not_supported(build, algorithm):
    message = config_error(
        build, SECRET_KEY='s' * 32 + '0123456789abcdefghijklmnopqrstuv', JWTConfig={'algorithm': algorithm}
    )
    assert "JWTConfig['algorithm']" in message
    assert repr(algorithm) in message
    assert 'HS256' in message  # the reason lists what is supported


@pytest.mark.parametrize('life_time', [-5, 0, timedelta(days=-1)])
def test_jwt_life_time_not_positive(build, life_time):
    message = config_error(
        build, SECRET_KEY='s' * 32 + '0123456789abcdefghijklmnopqrstuv', JWTConfig={'life_time': life_time}
    )
    assert "JWTConfig['life_time']" in message
    assert repr(life_time) in message
    assert 'positive' in message


@pytest.mark.parametrize('life_time', ['1d', 1.5, True])
def test_jwt_life_time_not_a_timedelta_or_whole_seconds(build, life_time):
    message = config_error(
        build, SECRET_KEY='s' * 32 + '0123456789abcdefghijklmnopqrstuv', JWTConfig={'life_time': life_time}
    )
    assert "JWTConfig['life_time']" in message
    assert repr(life_time) in message
    assert 'timedelta' in message


def test_jwt_refresh_life_time_negative(build):
    message = config_error(
        build, SECRET_KEY='s' * 32 + '0123456789abcdefghijklmnopqrstuv', JWTConfig={'refresh_life_time': -1}
    )
    assert "JWTConfig['refresh_life_time']" in message
    assert '-1' in message


def test_jwt_key_missing_while_authentication_is_a_jwt_class(build):
    message = config_error(build, AUTHENTICATION=JWT_PATH, URLS={'me': private})
    assert "'AUTHENTICATION'" in message
    assert 'JWTAuthentication' in message
    assert 'SECRET_KEY' in message and "JWTConfig['key']" in message


def test_jwt_key_missing_with_a_jwt_authentication_and_no_protected_route(build):
    """`user.login()` on a public route needs the key: no route using auth is no excuse."""
    message = config_error(build, AUTHENTICATION=JWT_PATH)
    assert "'AUTHENTICATION'" in message
    assert 'SECRET_KEY' in message


def test_jwt_key_missing_while_ws_authentication_is_a_jwt_class(build):
    message = config_error(build, WS_AUTHENTICATION=WS_JWT_PATH)
    assert "'WS_AUTHENTICATION'" in message
    assert 'QueryParamJWTAuthentication' in message
    assert 'SECRET_KEY' in message


def test_jwt_key_missing_while_only_a_route_names_a_jwt_class(build):
    """Panther bug 6: this was a 500 on a bad token; here the app does not build."""
    message = config_error(build, URLS={'private': jwt_route})
    assert 'JWTConfig' in message
    assert 'JWTAuthentication' in message
    assert "'private'" in message
    assert 'SECRET_KEY' in message


def test_jwt_key_empty_string(build):
    message = config_error(build, JWTConfig={'key': ''}, AUTHENTICATION=JWT_PATH)
    assert "JWTConfig['key']" in message
    assert 'non-empty' in message


def test_secret_key_not_a_string_does_not_echo_it(build):
    message = config_error(build, SECRET_KEY=b'bytes-secret')
    assert "'SECRET_KEY'" in message
    assert 'bytes' in message
    assert 'bytes-secret' not in message


# -- auth= on routes and websockets -----------------------------------------------------


def test_auth_true_without_authentication_setting(build):
    message = config_error(build, URLS={'me': private})
    assert "'AUTHENTICATION'" in message
    assert "'me'" in message
    assert 'auth=True' in message and 'not set' in message


def test_generic_api_auth_true_without_authentication_setting(build):
    class Me(GenericAPI):
        auth = True

        async def get(self, request):
            return {}

    message = config_error(build, URLS={'me': Me})
    assert "'AUTHENTICATION'" in message
    assert "'me'" in message


def test_websocket_auth_true_without_ws_authentication_setting(build):
    message = config_error(build, URLS={'ws/echo': AuthWebsocket})
    assert "'WS_AUTHENTICATION'" in message
    assert "'ws/echo'" in message
    assert 'not set' in message


def test_websocket_auth_true_is_not_satisfied_by_authentication(build):
    message = config_error(
        build,
        SECRET_KEY='s' * 32 + '0123456789abcdefghijklmnopqrstuv',
        AUTHENTICATION=JWT_PATH,
        URLS={'ws/echo': AuthWebsocket},
    )
    assert "'WS_AUTHENTICATION'" in message


def test_auth_given_a_class_that_is_not_an_authentication(build):
    message = config_error(build, URLS={'thing': route_with_auth(dict)})
    assert "auth of route 'thing'" in message
    assert 'dict' in message
    assert 'BaseAuthentication' in message


def test_auth_given_a_bad_dotted_path(build):
    message = config_error(build, URLS={'thing': route_with_auth('panther_like.authentications.Nope')})
    assert "auth of route 'thing'" in message
    assert "'panther_like.authentications.Nope'" in message
    assert "has no attribute 'Nope'" in message


def test_auth_given_a_dotted_path_to_a_non_authentication_class(build):
    message = config_error(build, URLS={'thing': route_with_auth('builtins.dict')})
    assert "auth of route 'thing'" in message
    assert 'dict' in message and 'BaseAuthentication' in message


def test_auth_given_an_int(build):
    message = config_error(build, URLS={'thing': route_with_auth(5)})
    assert "auth of route 'thing'" in message
    assert '5 is not' in message


def test_websocket_auth_given_an_int(build):
    class Socket(GenericWebsocket):
        auth = 5

    message = config_error(build, URLS={'ws': Socket})
    assert "auth of websocket 'ws'" in message
    assert '5 is not' in message


# -- the settings module and its names ------------------------------------------------------


def test_settings_module_that_does_not_exist():
    with pytest.raises(ConfigError) as info:
        Panther(configs='no_such_settings_module')
    message = str(info.value)
    assert "'configs'" in message
    assert "'no_such_settings_module'" in message
    assert 'cannot import' in message


def test_settings_module_that_fails_while_importing(monkeypatch, tmp_path):
    (tmp_path / 'broken_settings_mod.py').write_text("SECRET_KEY = {}['missing']\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ConfigError) as info:
        Panther(configs='broken_settings_mod')
    message = str(info.value)
    assert "'broken_settings_mod'" in message
    assert 'KeyError' in message


def test_misspelled_setting_is_refused_with_a_hint(build):
    message = config_error(build, AUTHENTICATON=JWT_PATH)
    assert "'AUTHENTICATON'" in message
    assert "did you mean 'AUTHENTICATION'" in message
    assert repr(JWT_PATH) in message


def test_misspelled_secret_key_does_not_echo_the_secret(build):
    message = config_error(build, SECRT_KEY='my-real-secret')
    assert "did you mean 'SECRET_KEY'" in message
    assert 'my-real-secret' not in message


def test_unrelated_upper_case_names_are_allowed(build):
    app = build(BASE_DIR='/srv', DEBUG=True)
    assert app.config.module_name.startswith('tests_settings_')


# -- DATABASE, REDIS -------------------------------------------------------------------------


def test_database_url_not_mongodb(build):
    message = config_error(build, DATABASE={'url': 'postgres://db.example/app'})
    assert "DATABASE['url']" in message
    assert "'postgres://db.example/app'" in message
    assert 'mongodb://' in message


def test_database_url_password_is_hidden(build):
    message = config_error(build, DATABASE={'url': 'postgres://admin:hunter2@db.example/app'})
    assert 'hunter2' not in message
    assert 'admin' in message and 'db.example' in message


def test_database_unknown_key(build):
    message = config_error(build, DATABASE={'url': 'mongodb://u:hunter2@h/db', 'host': 'h'})
    assert "'DATABASE'" in message
    assert "'host'" in message
    assert 'hunter2' not in message


def test_redis_url_not_redis(build):
    message = config_error(build, REDIS={'url': 'http://cache.example:6379'})
    assert "REDIS['url']" in message
    assert "'http://cache.example:6379'" in message
    assert 'redis://' in message


def test_redis_unknown_key(build):
    message = config_error(build, REDIS={'url': 'redis://:hunter2@cache.example', 'host': 'h'})
    assert "'REDIS'" in message
    assert "'host'" in message
    assert 'hunter2' not in message


def test_redis_database_number_goes_in_the_url_not_beside_it(build):
    message = config_error(build, REDIS={'url': 'redis://:hunter2@cache.example', 'db': 1})
    assert "REDIS['db']" in message
    assert 'only with sentinels' in message
    assert 'hunter2' not in message


def test_redis_url_and_sentinels_together_are_refused(build):
    message = config_error(
        build, REDIS={'url': 'redis://:hunter2@cache.example', 'sentinels': [('s1', 26379)], 'service_name': 'mymaster'}
    )
    assert 'not both' in message
    assert 'hunter2' not in message


def test_redis_sentinels_are_checked_into_settings(build):
    app = build(
        REDIS={
            'sentinels': [('s1', 26379), ['s2', 26380]],
            'service_name': 'mymaster',
            'password': 'hunter2',
            'db': 3,
            'wait_replicas': 1,
            'wait_timeout': 0.25,
        }
    )
    redis = app.config.redis
    assert redis.sentinels == (('s1', 26379), ('s2', 26380))
    assert (redis.service_name, redis.db, redis.wait_replicas, redis.wait_timeout) == ('mymaster', 3, 1, 0.25)
    assert 'hunter2' not in repr(redis) and 'hunter2' not in redis.describe()


def test_redis_sentinels_need_a_service_name(build):
    message = config_error(build, REDIS={'sentinels': [('s1', 26379)]})
    assert "REDIS['service_name']" in message
    assert 'mymaster' in message


@pytest.mark.parametrize('sentinels', ['s1:26379', [('s1',)], [('s1', '26379')], [('', 26379)], [('s1', 0)]])
def test_redis_sentinels_must_be_host_and_port_pairs(build, sentinels):
    message = config_error(build, REDIS={'sentinels': sentinels, 'service_name': 'mymaster'})
    assert "REDIS['sentinels']" in message


def test_redis_sentinel_password_is_hidden(build):
    message = config_error(
        build, REDIS={'sentinels': [('s1', 26379)], 'service_name': 'm', 'sentinel_password': b'hunter2'}
    )
    assert "REDIS['sentinel_password']" in message
    assert 'hunter2' not in message


@pytest.mark.parametrize(
    'wait',
    [{'wait_replicas': -1}, {'wait_replicas': True}, {'wait_timeout': 0}, {'wait_timeout': 2.0}, {'wait_timeout': '1'}],
)
def test_redis_replica_wait_must_fit_in_the_command_timeout(build, wait):
    message = config_error(build, REDIS={'url': 'redis://cache.example', **wait})
    assert f'REDIS[{next(iter(wait))!r}]' in message


def test_empty_sentinels_mean_no_redis(build):
    assert build(REDIS={'sentinels': [], 'service_name': 'mymaster'}).config.redis is None


# -- HEALTH ----------------------------------------------------------------------------------


def test_health_paths_are_normalised(build):
    health = build(HEALTH={'live': '/livez/', 'ready': 'ops/readyz'}).config.health
    assert (health.live, health.ready) == ('livez', 'ops/readyz')


@pytest.mark.parametrize('path', ['', '/', 'a b', 'users/<id>', 5, 'a//b'])
def test_health_path_must_be_a_plain_path(build, path):
    message = config_error(build, HEALTH={'ready': path})
    assert "HEALTH['ready']" in message


def test_health_live_and_ready_paths_differ(build):
    message = config_error(build, HEALTH={'live': '/check', 'ready': 'check'})
    assert 'must differ' in message


@pytest.mark.parametrize('value', [{'timeout': 0}, {'openapi': 'yes'}, {'round_trips': 1}, {'path': '/x'}, 'on'])
def test_health_wrong_values_name_the_key(build, value):
    message = config_error(build, HEALTH=value)
    assert 'HEALTH' in message


def test_health_false_turns_the_routes_off(build):
    assert build(HEALTH=False).config.health.enabled is False


def test_redis_not_a_dict(build):
    message = config_error(build, REDIS='redis://:hunter2@cache.example')
    assert "'REDIS'" in message
    assert 'must be a dict' in message
    assert 'hunter2' not in message


# -- URL dicts ---------------------------------------------------------------------------


def test_url_key_starting_with_a_slash(build):
    message = config_error(build, URLS={'/users': public})
    assert "'URLS'" in message
    assert "'/users'" in message
    assert 'must not start with' in message


def test_url_key_with_a_malformed_segment(build):
    message = config_error(build, URLS={'users/<id': public})
    assert "'URLS'" in message
    assert "'users/<id'" in message
    assert 'malformed' in message


def test_url_key_with_an_empty_segment(build):
    message = config_error(build, URLS={'users//detail': public})
    assert "'users//detail'" in message
    assert 'malformed' in message


def test_same_route_twice(build):
    message = config_error(build, URLS={'users': public, 'users/': public})
    assert "'URLS'" in message
    assert "'users'" in message
    assert 'twice' in message


def test_same_parameterised_route_twice_under_other_names(build):
    message = config_error(build, URLS={'users/<user_id>': public, 'users/<pk>': public})
    assert 'twice' in message
    assert 'users/<pk>' in message


def test_same_route_twice_through_a_group(build):
    message = config_error(build, URLS={'auth/login': public, 'auth/': {'login': public}})
    assert "'auth/login'" in message
    assert 'twice' in message


def test_route_parameter_name_repeated(build):
    message = config_error(build, URLS={'a/<x>/b/<x>': public})
    assert "'a/<x>/b/<x>'" in message
    assert 'repeats' in message


def test_route_target_that_is_not_an_endpoint(build):
    def plain(request):
        return {}

    message = config_error(build, URLS={'plain': plain})
    assert "'URLS'" in message
    assert "'plain'" in message
    assert 'is not an @API function or a GenericAPI' in message


def test_route_target_that_is_a_class_but_not_generic_api(build):
    message = config_error(build, URLS={'thing': dict})
    assert "<class 'dict'>" in message
    assert "'thing'" in message


def test_unknown_http_method():
    with pytest.raises(ConfigError) as info:
        API(methods=['FETCH'])
    message = str(info.value)
    assert 'methods' in message
    assert "'FETCH'" in message
    assert 'GET' in message  # the allowed methods are listed


def test_methods_given_as_a_string():
    with pytest.raises(ConfigError) as info:
        API(methods='GET')
    assert 'methods' in str(info.value)
    assert "'GET'" in str(info.value)


# -- what a valid configuration gives ------------------------------------------------------


def test_user_model_defaults_to_base_user():
    assert config_module.load(settings_module()).user_model is BaseUser


def test_user_model_none_means_the_default_base_user():
    """Like every other class setting, None reads as unset; it never leaves the app without a user model."""
    assert config_module.load(settings_module(USER_MODEL=None)).user_model is BaseUser


def test_user_model_dotted_path_is_imported():
    config = config_module.load(settings_module(USER_MODEL='panther_like.db.models.BaseUser'))
    assert config.user_model is BaseUser


def test_authentication_paths_are_imported_as_classes():
    config = config_module.load(
        settings_module(
            SECRET_KEY='s' * 32 + '0123456789abcdefghijklmnopqrstuv',
            AUTHENTICATION=JWT_PATH,
            WS_AUTHENTICATION=WS_JWT_PATH,
        )
    )
    assert config.authentication is JWTAuthentication
    assert config.ws_authentication is QueryParamJWTAuthentication


def test_no_authentication_by_default():
    config = config_module.load(settings_module())
    assert config.authentication is None
    assert config.ws_authentication is None


def test_jwt_defaults():
    jwt = config_module.load(settings_module(SECRET_KEY='the-secret' * 7)).jwt
    assert jwt is not None
    assert jwt.key == 'the-secret' * 7
    assert jwt.algorithm == 'HS256'
    assert jwt.life_time == timedelta(days=1)
    assert jwt.refresh_life_time == timedelta(days=2)


def test_jwt_refresh_life_time_defaults_to_twice_life_time():
    jwt = config_module.load(
        settings_module(
            SECRET_KEY='s' * 32 + '0123456789abcdefghijklmnopqrstuv', JWTConfig={'life_time': timedelta(hours=3)}
        )
    ).jwt
    assert jwt.refresh_life_time == timedelta(hours=6)


def test_jwt_int_life_time_is_seconds():
    jwt = config_module.load(
        settings_module(SECRET_KEY='s' * 32 + '0123456789abcdefghijklmnopqrstuv', JWTConfig={'life_time': 90})
    ).jwt
    assert jwt.life_time == timedelta(seconds=90)
    assert jwt.refresh_life_time == timedelta(seconds=180)


def test_jwt_config_overrides_defaults():
    jwt = config_module.load(
        settings_module(
            SECRET_KEY='s' * 32 + '0123456789abcdefghijklmnopqrstuv',
            JWTConfig={
                'key': 'other' * 13,
                'algorithm': 'HS512',
                'life_time': 60,
                'refresh_life_time': timedelta(days=10),
            },
        )
    ).jwt
    assert (jwt.key, jwt.algorithm) == ('other' * 13, 'HS512')
    assert jwt.life_time == timedelta(seconds=60)
    assert jwt.refresh_life_time == timedelta(days=10)


def test_jwt_key_without_secret_key():
    jwt = config_module.load(settings_module(JWTConfig={'key': 'only-here' * 8})).jwt
    assert jwt.key == 'only-here' * 8


def test_no_jwt_settings_without_any_key():
    assert config_module.load(settings_module()).jwt is None


def test_database_without_url_is_the_embedded_store():
    """`DATABASE = {'url': env.get('MONGODB_URL')}` with the variable unset selects the embedded store."""
    config = config_module.load(settings_module(DATABASE={'url': None}))
    assert config.database == {'url': None}


def test_a_valid_app_builds(build):
    app = build(
        SECRET_KEY='s' * 32 + '0123456789abcdefghijklmnopqrstuv',
        AUTHENTICATION=JWT_PATH,
        URLS={'me': private, 'public': public},
    )
    assert app.config.authentication is JWTAuthentication
    assert [path for path, _ in app.router.routes] == ['me', 'public']


def test_urls_argument_overrides_the_setting(tmp_path):
    settings = settings_module(URLS={'from-settings': public}, DATABASE={'path': str(tmp_path / 's.sqlite3')})
    app = Panther(configs=settings, urls={'from-argument': public})
    assert [path for path, _ in app.router.routes] == ['from-argument']


# -- which settings module ----------------------------------------------------------------


def named_module(name: str, **settings: Any) -> types.ModuleType:
    module = types.ModuleType(name)
    for key, value in settings.items():
        setattr(module, key, value)
    return module


def test_settings_module_chosen_by_argument(monkeypatch):
    monkeypatch.setitem(sys.modules, 'arg_settings', named_module('arg_settings', SECRET_KEY='from-arg' * 8))
    monkeypatch.setenv('PANTHER_LIKE_CONFIGS', 'no_such_env_settings')
    config = config_module.load('arg_settings')
    assert config.module_name == 'arg_settings'
    assert config.secret_key == 'from-arg' * 8


def test_settings_module_chosen_by_environment_variable(monkeypatch):
    monkeypatch.setitem(sys.modules, 'env_settings', named_module('env_settings', SECRET_KEY='from-env' * 8))
    monkeypatch.setitem(sys.modules, 'configs', named_module('configs', SECRET_KEY='from-configs' * 8))
    monkeypatch.setenv('PANTHER_LIKE_CONFIGS', 'env_settings')
    config = config_module.load()
    assert config.module_name == 'env_settings'
    assert config.secret_key == 'from-env' * 8


def test_settings_module_defaults_to_configs(monkeypatch):
    monkeypatch.setitem(sys.modules, 'configs', named_module('configs', SECRET_KEY='from-configs' * 8))
    monkeypatch.delenv('PANTHER_LIKE_CONFIGS', raising=False)
    config = config_module.load()
    assert config.module_name == 'configs'
    assert config.secret_key == 'from-configs' * 8


def test_app_uses_the_environment_variable(monkeypatch, tmp_path):
    module = named_module('env_app_settings', URLS={'public': public}, DATABASE={'path': str(tmp_path / 's.db')})
    monkeypatch.setitem(sys.modules, 'env_app_settings', module)
    monkeypatch.setenv('PANTHER_LIKE_CONFIGS', 'env_app_settings')
    assert Panther().config.module_name == 'env_app_settings'


def test_settings_module_given_as_a_non_string():
    with pytest.raises(ConfigError) as info:
        config_module.load(42)  # type: ignore[arg-type]
    assert "'configs'" in str(info.value)
    assert '42' in str(info.value)


# -- the Config object -----------------------------------------------------------------------


def test_config_is_immutable():
    config = config_module.load(settings_module(SECRET_KEY='s' * 32 + '0123456789abcdefghijklmnopqrstuv'))
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.secret_key = 'changed'  # type: ignore[misc]


def test_config_has_no_attribute_for_unknown_names():
    """Panther bug 10: an unknown name read as None, so a typo passed silently."""
    config = config_module.load(settings_module(SECRET_KEY='s' * 32 + '0123456789abcdefghijklmnopqrstuv'))
    with pytest.raises(AttributeError):
        config.AUTHENTICATON  # type: ignore[attr-defined]  # noqa: B018


def test_config_cannot_grow_new_attributes():
    config = config_module.load(settings_module(SECRET_KEY='s' * 32 + '0123456789abcdefghijklmnopqrstuv'))
    with pytest.raises((AttributeError, TypeError)):
        config.extra = 1  # type: ignore[attr-defined]


def test_jwt_settings_are_immutable():
    jwt = config_module.load(settings_module(SECRET_KEY='s' * 32 + '0123456789abcdefghijklmnopqrstuv')).jwt
    with pytest.raises(dataclasses.FrozenInstanceError):
        jwt.algorithm = 'none'  # type: ignore[misc]


def test_database_setting_is_read_only():
    config = config_module.load(settings_module(DATABASE={'path': 'x.sqlite3'}))
    with pytest.raises(TypeError):
        config.database['url'] = 'mongodb://elsewhere'  # type: ignore[index]


# -- ACCOUNTS ------------------------------------------------------------------------------------


def test_accounts_defaults_when_absent(build):
    accounts = build().config.accounts
    assert (accounts.cookies, accounts.cookie_secure, accounts.require_verified) == (False, True, False)
    assert (accounts.password_min_length, accounts.refuse_common_passwords) == (8, True)


def test_accounts_values_are_read(build):
    accounts = build(ACCOUNTS={'cookies': True, 'password_min_length': 12}).config.accounts
    assert accounts.cookies is True and accounts.password_min_length == 12


@pytest.mark.parametrize(
    'value, setting, reason',
    [
        (['cookies'], "'ACCOUNTS'", 'must be a dict'),
        ({'cookie': True}, "'ACCOUNTS'", "unknown key 'cookie'"),
        ({'cookies': 'yes'}, "ACCOUNTS['cookies']", "must be True, False or 'only'"),
        ({'refresh_grace': -1}, "ACCOUNTS['refresh_grace']", 'from 0 to 60'),
        ({'require_verified': 1}, "ACCOUNTS['require_verified']", 'must be True or False'),
        ({'password_min_length': 0}, "ACCOUNTS['password_min_length']", 'from 1 to 4096'),
        ({'password_min_length': True}, "ACCOUNTS['password_min_length']", 'from 1 to 4096'),
        ({'password_max_length': 10**6}, "ACCOUNTS['password_max_length']", 'from 1 to 4096'),
        ({'password_min_length': 20, 'password_max_length': 10}, "ACCOUNTS['password_max_length']", 'below'),
    ],
)
def test_a_wrong_accounts_setting_names_key_value_and_reason(build, value, setting, reason):
    message = config_error(build, ACCOUNTS=value)
    assert setting in message and reason in message


def test_a_misspelled_accounts_setting_is_caught(build):
    assert "did you mean 'ACCOUNTS'" in config_error(build, ACOUNTS={'cookies': True})
