"""``panther-like mfa reset USERNAME``: an operator removes a user's second factors, and the audit log says so."""

from __future__ import annotations

import logging
import sys
import time

import pyotp
import pytest

from panther_like import Panther
from panther_like.cli import main
from panther_like.testing import TestClient
from tests.accounts.conftest import PASSWORD, bearer, login, signup

SETTINGS = """
from tests.accounts.conftest import SECRET_KEY, Member
from panther_like.accounts import accounts_urls

URLS = {{'auth/': accounts_urls}}
AUTHENTICATION = 'panther_like.authentications.JWTAuthentication'
USER_MODEL = Member
DATABASE = {{'path': {path!r}}}
"""


@pytest.fixture
def settings_name(tmp_path, monkeypatch) -> str:
    (tmp_path / 'mfa_cli_settings.py').write_text(SETTINGS.format(path=str(tmp_path / 'db.sqlite3')))
    monkeypatch.syspath_prepend(str(tmp_path))
    yield 'mfa_cli_settings'
    sys.modules.pop('mfa_cli_settings', None)


async def enrolled_user(settings_name: str) -> None:
    async with TestClient(Panther(configs=settings_name)) as client:
        await signup(client)
        tokens = bearer(await login(client))
        totp = pyotp.TOTP((await client.post('/auth/mfa/totp', headers=tokens)).json()['secret'])
        await client.post('/auth/mfa/totp/confirm', json={'code': totp.at(time.time())}, headers=tokens)


async def logs_in_with_the_password_alone(settings_name: str) -> bool:
    async with TestClient(Panther(configs=settings_name)) as client:
        response = await client.post('/auth/login', json={'username': 'ann', 'password': PASSWORD})
    return response.status_code == 200


async def test_mfa_reset_removes_the_factor_and_writes_an_audit_line(settings_name, caplog, capsys):
    await enrolled_user(settings_name)
    assert not await logs_in_with_the_password_alone(settings_name)
    with caplog.at_level(logging.INFO, logger='panther_like.audit'):
        status = await _run(['mfa', 'reset', 'ann', '--configs', settings_name])
    assert status == 0 and 'second factors removed' in capsys.readouterr().out
    assert '"mfa.reset"' in caplog.text
    assert await logs_in_with_the_password_alone(settings_name)


async def test_mfa_reset_of_an_unknown_user_fails(settings_name, capsys):
    assert await _run(['mfa', 'reset', 'nobody', '--configs', settings_name]) == 1
    assert "no user 'nobody'" in capsys.readouterr().err


async def _run(argv: list[str]) -> int:
    """The command runs its own event loop: in a thread, away from the test's."""
    import asyncio

    return await asyncio.to_thread(main, argv)
