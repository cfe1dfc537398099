"""A test app that signs in with the test OpenID providers (tests/browser/oidc_provider.mjs), under uvicorn.

Its settings come from the environment the fixture sets: ``SOCIAL_SECRET_KEY``, ``SOCIAL_DB_PATH`` (or
``SOCIAL_MONGODB_URL``, with ``SOCIAL_REDIS_URL``),
``SOCIAL_PROVIDERS`` (the JSON of ``ACCOUNTS['providers']``), ``SOCIAL_COOKIES`` (``1``: cookie mode) and
``SOCIAL_RESOURCE`` (``OIDC_RESOURCE``, JSON: the provider's access tokens are accepted on ``resource/me``
by `OIDCBearer` and on ``resource/class-me`` by `OIDCAuthentication`).
The ``setup/user`` route exists only here: it makes an account with a verified (or unverified) address.
"""

from __future__ import annotations

import json
import os
import sys
import types

from pydantic import BaseModel

from panther_like import API, Panther, Request
from panther_like.accounts import accounts_urls
from panther_like.authentications import OIDCAuthentication
from panther_like.db.models import BaseUser
from panther_like.security import OIDCBearer


class User(BaseUser):
    email: str | None = None


class NewUser(BaseModel):
    username: str
    password: str | None = None
    email: str | None = None
    is_verified: bool = False


@API(methods=['POST'], input=NewUser)
async def make_user(request: Request) -> dict[str, str]:
    data: NewUser = request.validated
    user = await User.insert_one(
        username=data.username, password=data.password or '', email=data.email, is_verified=data.is_verified
    )
    return {'id': user.id}


@API(auth=OIDCBearer(), methods=['GET'])
async def resource_me(request: Request) -> dict[str, str]:
    return {'id': request.user.id, 'username': request.user.username}


@API(auth=OIDCAuthentication, methods=['GET'])
async def resource_me_by_class(request: Request) -> dict[str, str]:
    return {'id': request.user.id, 'username': request.user.username}


def _settings() -> types.ModuleType:
    settings = types.ModuleType('social_settings')
    settings.SECRET_KEY = os.environ['SOCIAL_SECRET_KEY']
    settings.DATABASE = {'url': os.environ.get('SOCIAL_MONGODB_URL') or None, 'path': os.environ.get('SOCIAL_DB_PATH')}
    settings.REDIS = {'url': os.environ.get('SOCIAL_REDIS_URL') or None}
    settings.AUTHENTICATION = 'panther_like.authentications.JWTAuthentication'
    settings.USER_MODEL = f'{__name__}.User'
    settings.ACCOUNTS = {
        'cookies': os.environ.get('SOCIAL_COOKIES') == '1',
        'cookie_secure': False,
        'providers': json.loads(os.environ['SOCIAL_PROVIDERS']),
        'provider_redirect': '/auth/me',
        'refuse_common_passwords': False,
        # Passkeys too, so that a passkey counts as a way to sign in when an identity is unlinked
        # (the origin is tests.social.helpers.PASSKEY_ORIGIN).
        'webauthn': {'rp_id': 'localhost', 'rp_name': 'Social', 'origins': ['http://localhost:8000']},
    }
    settings.OIDC_RESOURCE = json.loads(os.environ['SOCIAL_RESOURCE'])
    settings.OPENAPI = {'title': 'Social login under test', 'version': '1.0.0'}
    sys.modules[settings.__name__] = settings
    return settings


url_routing = {
    'auth/': accounts_urls,
    'setup/user': make_user,
    'resource/me': resource_me,
    'resource/class-me': resource_me_by_class,
}
app = Panther(configs=_settings(), urls=url_routing)
