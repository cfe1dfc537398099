"""Settings that would be silently wrong are refused: foreign names, and keys anyone can guess."""

from __future__ import annotations

import secrets

import pytest

from panther_like.exceptions import ConfigError
from panther_like.settings import config as config_module
from panther_like.settings.mistakes import FOREIGN_SETTINGS, unknown_names
from tests.settings import settings_module

KEY = secrets.token_urlsafe(48)


def load_error(**settings) -> str:
    with pytest.raises(ConfigError) as info:
        config_module.load(settings_module(**settings))
    return str(info.value)


@pytest.mark.parametrize(
    ('name', 'instead'),
    [
        ('MONGODB_URL', "DATABASE = {'url'"),
        ('MIDDLEWARES', 'no middlewares'),
        ('TIMEZONE', 'UTC'),
        ('LOG_QUERIES', 'nothing'),
        ('BACKGROUND_TASKS', 'asyncio'),
        ('TEMPLATES_DIR', 'no templates'),
        ('MONITORING', 'audit log'),
        ('AUTH_USER_MODEL', 'USER_MODEL ='),
        ('MIDDLEWARE', 'no middlewares'),
        ('INSTALLED_APPS', 'URLS'),
        ('CSRF_TRUSTED_ORIGINS', 'TRUSTED_ORIGINS ='),
        ('ALLOWED_HOSTS', 'Host header'),
        ('CORS_ALLOWED_ORIGINS', 'CORS = {'),
        ('CORS_ALLOW_CREDENTIALS', 'CORS = {'),
        ('CORS_ORIGIN_WHITELIST', 'CORS = {'),
        ('REDIS_URL', "REDIS = {'url'"),
    ],
)
def test_a_setting_of_another_framework_is_a_config_error_saying_what_to_write(name, instead):
    message = load_error(SECRET_KEY=KEY, **{name: 'x'})
    assert repr(name) in message
    assert instead in message


def test_jwt_config_spelt_as_panther_does_is_still_refused():
    assert "did you mean 'JWTConfig'" in load_error(SECRET_KEY=KEY, JWT_CONFIG={'life_time': 60})


def test_a_foreign_setting_value_is_never_shown():
    message = load_error(SECRET_KEY=KEY, MONGODB_URL='mongodb://admin:hunter2@db/app')
    assert 'hunter2' not in message


def test_a_function_named_like_a_foreign_setting_is_not_a_setting():
    def MIDDLEWARES():
        return []

    config_module.load(settings_module(SECRET_KEY=KEY, MIDDLEWARES=MIDDLEWARES))


def test_the_example_project_reads_mongodb_url_from_its_env_without_being_refused():
    import configs

    assert not hasattr(configs, 'MONGODB_URL')
    assert 'MONGODB_URL' in FOREIGN_SETTINGS


def test_other_upper_case_names_are_listed_as_unknown_not_refused():
    module = settings_module(SECRET_KEY=KEY, PAGE_SIZE=20, BASE_DIR='/srv', lower='x')
    config_module.load(module)
    settings = {name: getattr(module, name) for name in dir(module) if not name.startswith('_')}
    assert unknown_names(settings, config_module.KNOWN_SETTINGS) == ['PAGE_SIZE']


@pytest.mark.parametrize(
    ('key', 'reason'),
    [
        ('change-me-this-placeholder-is-not-a-secret-0123456789', 'placeholder'),
        ('replace-me-with-48-random-characters-0123456789abcdef', 'placeholder'),
        ('a-secret-of-at-least-32-characters-0123', 'placeholder'),
        ('your-secret-key-your-secret-key-your-secret-key', 'placeholder'),
        ('changeme', 'shorter than 32'),
        ('secret', 'shorter than 32'),
        ('your-secret-key', 'shorter than 32'),
        ('s' * 64, 'only 1 different'),
        ('ab' * 32, 'only 2 different'),
    ],
)
def test_a_weak_secret_key_is_refused(key, reason):
    message = load_error(SECRET_KEY=key)
    assert 'SECRET_KEY' in message
    assert reason in message
    assert repr(key) not in message


def test_a_weak_hmac_jwt_key_is_refused():
    message = load_error(SECRET_KEY=KEY, JWTConfig={'key': 'changeme-' + KEY})
    assert "JWTConfig['key']" in message
    assert 'placeholder' in message


def test_a_random_secret_key_is_accepted():
    assert config_module.load(settings_module(SECRET_KEY=KEY)).secret_key == KEY


def test_the_key_shipped_in_env_example_is_refused():
    from pathlib import Path

    shipped = Path(__file__).parent.parent / '.env.example'
    line = next(line for line in shipped.read_text().splitlines() if line.startswith('SECRET_KEY='))
    value = line.partition('=')[2]
    with pytest.raises(ConfigError):
        config_module.load(settings_module(SECRET_KEY=value))
