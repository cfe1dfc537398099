"""Settings that look right but are not: each is a `ConfigError` at build time, and no error shows a secret.

Three ways a configuration used to surprise: an asymmetric algorithm whose
library was not installed crashed with a traceback; a setting spelt the
way another framework spells it (``JWT_CONFIG``) was silently ignored; and
an error about a misspelt setting printed the key it held.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from panther_like import API, Panther
from panther_like.exceptions import ConfigError
from panther_like.settings import accounts as account_settings
from panther_like.settings import checks as settings_checks
from panther_like.settings import deployment as deployment_settings
from panther_like.settings.config import KNOWN_SETTINGS
from tests.settings import settings_module

SECRET = 'Zq9-very-secret-value-7Hk'
ES256_PEM = (
    ec.generate_private_key(ec.SECP256R1())
    .private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    .decode()
)


@API()
async def public(request):
    return {'ok': True}


def build(tmp_path: Path, **settings: Any) -> Panther:
    settings.setdefault('URLS', {'public': public})
    settings.setdefault('DATABASE', {'path': str(tmp_path / 's.sqlite3')})
    return Panther(configs=settings_module(**settings))


def config_error(tmp_path: Path, **settings: Any) -> str:
    with pytest.raises(ConfigError) as info:
        build(tmp_path, **settings)
    return str(info.value)


# -- an asymmetric algorithm without its library ------------------------------------------------

WITHOUT_CRYPTOGRAPHY = textwrap.dedent("""
    import sys
    sys.modules['cryptography'] = None  # as on an install without the crypto extra
    from panther_like.cli import main
    sys.exit(main(sys.argv[1:]))
""")


@pytest.mark.server  # a child Python runs the panther-like command
@pytest.mark.parametrize('algorithm', ['RS256', 'ES256', 'EdDSA'])
def test_an_asymmetric_algorithm_without_cryptography_is_a_config_error_naming_the_extra(tmp_path, algorithm):
    (tmp_path / 'crypto_settings.py').write_text(
        textwrap.dedent(f"""
        JWTConfig = {{'algorithm': {algorithm!r}, 'key': {ES256_PEM!r}}}
        AUTHENTICATION = 'panther_like.authentications.JWTAuthentication'
        URLS = {{}}
        DATABASE = {{'path': {str(tmp_path / 's.sqlite3')!r}}}
    """)
    )
    env = {key: value for key, value in os.environ.items() if key not in ('PANTHER_LIKE_CONFIGS', 'PYTHONPATH')}
    result = subprocess.run(
        [sys.executable, '-c', WITHOUT_CRYPTOGRAPHY, 'check', '--configs', 'crypto_settings'],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert 'Traceback' not in result.stderr
    assert "JWTConfig['algorithm']" in result.stderr
    assert 'panther-like[crypto]' in result.stderr
    assert ES256_PEM.splitlines()[1] not in result.stderr


# -- a setting spelt another way ----------------------------------------------------------------


@pytest.mark.parametrize(
    ('name', 'meant'),
    [
        ('JWT_CONFIG', 'JWTConfig'),
        ('jwtconfig', 'JWTConfig'),
        ('jwt_config', 'JWTConfig'),
        ('JwtConfig', 'JWTConfig'),
        ('secret_key', 'SECRET_KEY'),
        ('SecretKey', 'SECRET_KEY'),
        ('Urls', 'URLS'),
        ('user_model', 'USER_MODEL'),
        ('ws_authentication', 'WS_AUTHENTICATION'),
        ('AuthCache', 'AUTH_CACHE'),
        ('loginthrottle', 'LOGIN_THROTTLE'),
    ],
)
def test_a_setting_spelt_with_other_case_or_underscores_names_the_right_one(tmp_path, name, meant):
    message = config_error(
        tmp_path, SECRET_KEY='s' * 32 + '0123456789abcdefghijklmnopqrstuv', **{name: {'life_time': 3600}}
    )
    assert f'unknown setting {name!r}' in message
    assert f'did you mean {meant!r}' in message


def test_panthers_jwt_config_spelling_does_not_silently_keep_the_default_life_time(tmp_path):
    message = config_error(
        tmp_path, SECRET_KEY='s' * 32 + '0123456789abcdefghijklmnopqrstuv', JWT_CONFIG={'life_time': 3600}
    )
    assert "did you mean 'JWTConfig'" in message


def test_every_known_setting_spelt_in_lower_case_is_refused(tmp_path):
    for name in KNOWN_SETTINGS:
        with pytest.raises(ConfigError, match=f'did you mean {name!r}'):
            build(tmp_path, SECRET_KEY='s' * 32 + '0123456789abcdefghijklmnopqrstuv', **{name.lower(): None})


def test_a_module_imported_under_a_settings_name_is_not_taken_for_a_setting(tmp_path):
    app = build(tmp_path, SECRET_KEY='s' * 32 + '0123456789abcdefghijklmnopqrstuv', urls=os)
    assert app.config.secret_key == 's' * 32 + '0123456789abcdefghijklmnopqrstuv'


def test_a_function_defined_under_a_settings_name_is_not_taken_for_a_setting(tmp_path):
    def default_auth(request):
        return 'someone'

    app = build(
        tmp_path,
        SECRET_KEY='s' * 32 + '0123456789abcdefghijklmnopqrstuv',
        default_auth=default_auth,
        DEFAULT_AUTH=default_auth,
    )
    assert app.config.default_auth is default_auth


def test_an_empty_secret_key_says_it_is_empty(tmp_path):
    message = config_error(tmp_path, SECRET_KEY='')
    assert "'SECRET_KEY'" in message
    assert 'is empty' in message
    assert 'not a str' not in message


# -- no secret in any message -------------------------------------------------------------------


def test_a_misspelt_jwt_config_does_not_show_its_key(tmp_path):
    message = config_error(tmp_path, JWTconfig={'key': SECRET, 'algorithm': 'HS256'})
    assert "did you mean 'JWTConfig'" in message
    assert SECRET not in message
    assert "'<hidden>'" in message


def _keys_of_each_dict_setting() -> dict[str, frozenset[str]]:
    """Every dict setting's known keys, read from the modules that check them."""
    found: dict[str, frozenset[str]] = {}
    for module in (settings_checks, deployment_settings, account_settings):
        for attribute, value in vars(module).items():
            if attribute.endswith('_KEYS') and isinstance(value, frozenset):
                setting = attribute.removesuffix('_KEYS')
                setting = {'JWT': 'JWTConfig', 'THROTTLE': 'LOGIN_THROTTLE'}.get(setting, setting)
                if setting in KNOWN_SETTINGS:
                    found[setting] = found.get(setting, frozenset()) | value
    found['MAILER'] = frozenset({'class', 'host', 'username', 'password'})
    return found


DICT_SETTINGS = _keys_of_each_dict_setting()


def _secret_named(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in ('key', 'secret', 'password', 'token'))


def _secret_bearing_values() -> list[tuple[str, Any]]:
    """(setting, value) pairs that carry SECRET where a key or password goes, across every setting."""
    url = f'mongodb://admin:{SECRET}@db.example/app'
    holders: list[Any] = [
        {'key': SECRET},
        {'password': SECRET},
        {'token': SECRET},
        {'secret': SECRET},
        [{'password': SECRET}],
        url,
        f'redis://:{SECRET}@cache.example:6379/0',
        [url],
        12345,
    ]
    cases: list[tuple[str, Any]] = []
    for setting in KNOWN_SETTINGS:
        if setting == 'URLS':  # its keys are routes, not secrets
            continue
        cases += [(setting, holder) for holder in holders]
        if _secret_named(setting):
            cases += [(setting, SECRET.encode()), (setting, [SECRET]), (setting, {'x': SECRET})]
        # the same values under a misspelt name
        cases += [(setting.lower().replace('_', ''), holder) for holder in holders[:4]]
    for setting, keys in DICT_SETTINGS.items():
        for key in sorted(keys):
            for holder in holders:
                cases.append((setting, {key: holder}))
            if _secret_named(key):
                for bad in (SECRET, SECRET.encode(), [SECRET], {'x': SECRET}, SECRET[:8]):
                    cases.append((setting, {key: bad}))
                    cases.append((setting, {key: bad, 'sentinels': [('h', 1)], 'service_name': 'm', 'url': None}))
                    cases.append((setting, {key: bad, 'url': 'redis://h:6379/0'}))
    return cases


SECRET_CASES = _secret_bearing_values()


def test_no_config_error_shows_a_secret_whatever_setting_holds_it(tmp_path):
    refused = 0
    unrefused_secret_keys = {
        (setting, key) for setting, keys in DICT_SETTINGS.items() for key in keys if _secret_named(key)
    }
    for setting, value in SECRET_CASES:
        settings = {'SECRET_KEY': 's' * 32 + '0123456789abcdefghijklmnopqrstuv', setting: value}
        if setting == 'JWTConfig' and isinstance(value, dict) and 'algorithm' not in value:
            settings['JWTConfig'] = {'algorithm': 'HS256', **value}
        try:
            build(tmp_path, **settings)
        except ConfigError as exc:
            refused += 1
            if isinstance(value, dict):
                unrefused_secret_keys -= {(setting, key) for key in value}
            shown = f'{exc} {exc.value!r}'
            assert SECRET not in shown, (setting, value, shown)
            assert SECRET[:8] not in shown, (setting, value, shown)
        except Exception as exc:  # a value refused outside the settings checks must not show it either
            assert SECRET not in str(exc), (setting, value, exc)
    assert refused > len(SECRET_CASES) // 2, (refused, len(SECRET_CASES))
    assert not unrefused_secret_keys, 'these secrets were never in an error message, so never checked'
