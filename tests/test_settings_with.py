"""`panther_like.testing.settings_with`: a project's settings with a few replaced, for a test."""

from __future__ import annotations

import secrets
import types
from datetime import timedelta

from panther_like.settings import config as config_module
from panther_like.testing import settings_with

KEY = secrets.token_urlsafe(48)


def project_settings() -> types.ModuleType:
    module = types.ModuleType('project_settings')
    module.SECRET_KEY = KEY
    module.JWTConfig = {'life_time': timedelta(minutes=5)}
    module.DATABASE = {'path': 'project.sqlite3'}
    return module


def test_settings_with_keeps_jwtconfig_which_an_isupper_copy_drops():
    derived = settings_with(project_settings(), DATABASE={'path': 'test.sqlite3'})
    jwt = config_module.load(derived).jwt
    assert jwt is not None
    assert jwt.life_time == timedelta(minutes=5)


def test_settings_with_replaces_the_overridden_settings():
    derived = settings_with(project_settings(), DATABASE={'path': 'test.sqlite3'})
    assert config_module.load(derived).database['path'] == 'test.sqlite3'


def test_settings_with_leaves_the_original_module_untouched():
    original = project_settings()
    settings_with(original, DATABASE={'path': 'test.sqlite3'})
    assert original.DATABASE == {'path': 'project.sqlite3'}


def test_settings_with_accepts_a_module_name():
    assert settings_with('configs').URLS == 'core.urls.url_routing'
