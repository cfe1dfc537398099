"""What the password-reset and verification tests share: an app that mails through the test SMTP server.

The app runs in-process (httpx over ASGI) on each store; its mail goes to
the real aiosmtpd server of the session, and the tests read the links out
of what that server received, as a user would read them out of a mailbox.
"""

from __future__ import annotations

import random
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from panther_like import API, Panther
from panther_like.accounts import accounts_urls
from panther_like.db.models import BaseUser
from tests.mail_server import SMTPServer
from tests.servers import fresh_database_url
from tests.settings import settings_module

KEY = 'recovery-tests-key-' + 'k' * 48
RESET_URL = 'https://app.example.com/reset#token='
VERIFY_URL = 'https://app.example.com/verify#token='
LINK = re.compile(r'https://app\.example\.com/(reset|verify)#token=([A-Za-z0-9_-]{43})')
PASSWORD = 'first-password-1'


class MailUser(BaseUser):
    """A user model with an address field, as most projects have."""

    email: str | None = None


@API(auth=True, methods=['GET'])
async def whoami(request):
    return {'id': request.user.id}


URLS = {'auth/': accounts_urls, 'whoami': whoami}


def store_settings(param: str, request: Any, tmp_path: Any) -> dict[str, Any]:
    """``DATABASE`` (and ``REDIS``) for a test parametrized over ``embedded``, ``mongodb`` and ``redis``."""
    if param == 'mongodb':
        return {'DATABASE': {'url': fresh_database_url(request.getfixturevalue('mongodb_url'))}}
    settings: dict[str, Any] = {'DATABASE': {'path': str(tmp_path / 'recovery.sqlite3')}}
    if param == 'redis':
        settings['REDIS'] = {'url': request.getfixturevalue('redis_url')}
    return settings


def mail_settings(smtp_server: SMTPServer, **overrides: Any) -> dict[str, Any]:
    settings: dict[str, Any] = {
        'SECRET_KEY': KEY,
        'AUTHENTICATION': 'panther_like.authentications.JWTAuthentication',
        'USER_MODEL': MailUser,
        'MAILER': {
            'class': 'panther_like.mail.SMTPMailer',
            'host': smtp_server.host,
            'port': smtp_server.port,
            'tls': 'none',
            'sender': 'accounts@example.com',
        },
        'ACCOUNT_EMAILS': {'reset_url': RESET_URL, 'verify_url': VERIFY_URL},
    }
    settings.update(overrides)
    return settings


def build_app(settings: dict[str, Any], **kwargs: Any) -> Panther:
    return Panther(settings_module(**settings), urls=URLS, **kwargs)


@asynccontextmanager
async def client_from_own_address(app: Panther) -> AsyncIterator[httpx.AsyncClient]:
    """A client on the app from an address of its own: the per-address limits (kept in a Redis every test
    shares) then count only this test's requests."""
    client_address = f'10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}'
    await app.startup()
    try:
        transport = httpx.ASGITransport(app=app, client=(client_address, 40000))
        async with httpx.AsyncClient(transport=transport, base_url='http://testserver') as client:
            yield client
    finally:
        await app.shutdown()


def address() -> str:
    return f'u{uuid.uuid4().hex[:16]}@example.com'


async def new_user(app: Panther, email: str | None = None, **fields: Any) -> Any:
    model = app.config.user_model
    if 'email' in model.model_fields:
        fields['email'] = email or address()
    fields.setdefault('username', f'user_{uuid.uuid4().hex[:12]}')
    return await model.insert_one(password=PASSWORD, **fields)


async def reload(user: Any) -> Any:
    return await type(user).find_one(id=user.id)


def bearer(pair: dict[str, str]) -> dict[str, str]:
    return {'Authorization': f'Bearer {pair["access_token"]}'}


async def forgot(client: httpx.AsyncClient, **body: Any) -> httpx.Response:
    return await client.post('/auth/password/forgot', json=body)


async def delivered_token(app: Panther, smtp_server: SMTPServer, to: str, kind: str = 'reset', count: int = 1) -> str:
    """The token of the `count`-th link of `kind` mailed to `to` (once the outbox has sent it)."""
    await app.outbox.drain()
    message = smtp_server.wait_for(to, count=count)[count - 1]
    found = LINK.search(message.get_content())
    assert found is not None and found.group(1) == kind, message.get_content()
    return found.group(2)


async def reset_token(app: Panther, client: httpx.AsyncClient, smtp_server: SMTPServer, user: Any) -> str:
    """Ask for a reset link for `user` and read its token from the mail."""
    already = len(smtp_server.messages(user.email))
    response = await forgot(client, username=user.username)
    assert response.status_code == 202, response.text
    return await delivered_token(app, smtp_server, user.email, 'reset', count=already + 1)


async def verify_token(app: Panther, client: httpx.AsyncClient, smtp_server: SMTPServer, user: Any) -> str:
    """Ask (logged in as `user`) for a verification link and read its token from the mail."""
    already = len(smtp_server.messages(user.email))
    response = await client.post('/auth/verify/request', headers=bearer(await user.login()))
    assert response.status_code == 202, response.text
    return await delivered_token(app, smtp_server, user.email, 'verify', count=already + 1)
