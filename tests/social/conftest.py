"""Two real OpenID providers (node oidc-provider) and the social-login test app under uvicorn, per session.

The app runs twice: in cookie mode (what a browser gets), on the embedded store, and in token mode (a
one-time code in the redirect's fragment, exchanged by the page), on MongoDB with Redis, so the
sign-in's server-side state lives in each kind of store. Both know the same providers:

* ``op``: provider one, client ``app``; ``op-mfa``: the same with ``trust_mfa``; ``op-autolink``: the same
  with ``auto_link_verified_email``;
* ``op2``: provider two (another issuer), client ``app``; for the mix-up tests;
* ``down`` (nothing listens) and ``liar`` (its discovery document names another issuer);
* ``plain``: provider one again, but configured as a plain OAuth 2 provider (explicit endpoints, client
  ``plain``): the identity comes from its userinfo, as GitHub's does.

Provider one also registers a second client, ``intruder``, whose ID tokens must never sign anyone in here.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.security_objects.server import UvicornServer
from tests.servers import forget_throttle_counts, free_port, fresh_database_url
from tests.social.provider import CLIENT_SECRET, RESOURCE, RunningProvider, client_entry, start_provider

APP = 'tests.social.app:app'
SECRET_KEY = 'social-login-test-secret-key-0123456789abcdef'
ONE = ('op', 'op-mfa', 'op-autolink')
INTRUDER_CALLBACK = 'http://127.0.0.1:9/intruder/callback'


@dataclass
class Servers:
    one: RunningProvider
    two: RunningProvider
    cookies: UvicornServer
    tokens: UvicornServer


def _callbacks(ports: list[int], names: tuple[str, ...]) -> list[str]:
    return [f'http://127.0.0.1:{port}/auth/providers/{name}/callback' for port in ports for name in names]


def _providers(one: str, two: str) -> dict:
    base = {'client_id': 'app', 'client_secret': CLIENT_SECRET}
    return {
        'op': {'issuer': one, **base, 'label': 'Provider One'},
        'op-mfa': {'issuer': one, **base, 'trust_mfa': True},
        'op-autolink': {'issuer': one, **base, 'auto_link_verified_email': True},
        'op2': {'issuer': two, **base, 'label': 'Provider Two'},
        # Nothing listens there: a provider that is down.
        'down': {'issuer': f'http://127.0.0.1:{free_port()}', **base},
        # Provider one under another name for the same host: its discovery document names another issuer.
        'liar': {'issuer': one.replace('127.0.0.1', 'localhost'), **base},
        'plain': {
            'authorize_url': f'{one}/auth',
            'token_url': f'{one}/token',
            'userinfo_url': f'{one}/me',
            'emails_url': f'{one}/user/emails',
            'scopes': ['openid', 'email'],
            'client_id': 'plain',
            'client_secret': CLIENT_SECRET,
        },
    }


@pytest.fixture(autouse=True, scope='module')
def no_throttle_counts_yet(redis_url: str) -> None:
    """The token-mode app shares the session's Redis, where earlier modules' refused logins from 127.0.0.1 may
    still count: each module of these tests starts from none, so a login here is judged on what it does."""
    forget_throttle_counts(redis_url)


@pytest.fixture(scope='session')
def social(tmp_path_factory: pytest.TempPathFactory, mongodb_url: str, redis_url: str) -> Iterator[Servers]:
    directory = tmp_path_factory.mktemp('social')
    ports = [free_port(), free_port()]
    first = [
        client_entry('app', _callbacks(ports, ONE)),
        client_entry('intruder', [INTRUDER_CALLBACK]),
        client_entry('plain', _callbacks(ports, ('plain',))),
    ]
    second = [client_entry('app', _callbacks(ports, ('op2',)))]
    providers_one = start_provider(first, directory / 'provider-one.log')
    providers_two = start_provider(second, directory / 'provider-two.log')
    one, two = next(providers_one), next(providers_two)
    try:
        env = {
            'SOCIAL_SECRET_KEY': SECRET_KEY,
            'SOCIAL_PROVIDERS': json.dumps(_providers(one.issuer, two.issuer)),
            'SOCIAL_RESOURCE': json.dumps({'issuers': [{'issuer': one.issuer, 'audience': RESOURCE}]}),
        }
        servers = []
        stores = {
            'cookies': {'SOCIAL_DB_PATH': str(directory / 'cookies.sqlite3')},
            'tokens': {'SOCIAL_MONGODB_URL': fresh_database_url(mongodb_url), 'SOCIAL_REDIS_URL': redis_url},
        }
        for mode, port in zip(('cookies', 'tokens'), ports, strict=True):
            mode_env = {**env, **stores[mode], 'SOCIAL_COOKIES': '1' if mode == 'cookies' else ''}
            server = UvicornServer(
                name=f'social-{mode}', app=APP, port=port, log_file=directory / f'{mode}.log', env=mode_env
            )
            server.start()
            servers.append(server)
        try:
            yield Servers(one, two, *servers)
        finally:
            for server in servers:
                server.stop()
        for server in servers:
            server.assert_no_traceback()
    finally:
        next(providers_one, None)
        next(providers_two, None)
