"""Fixtures of the password-reset and verification tests: every store, a manual clock, a real SMTP server."""

from __future__ import annotations

import pytest

from tests.clock import ManualClock
from tests.recovery.setup import build_app, client_from_own_address, mail_settings, new_user, store_settings


@pytest.fixture(params=['embedded', 'mongodb', 'redis'])
def stores(request, tmp_path) -> dict:
    return store_settings(request.param, request, tmp_path)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def app(stores, smtp_server, clock):
    return build_app(mail_settings(smtp_server, **stores), clock=clock)


@pytest.fixture
async def client(app):
    async with client_from_own_address(app) as client:
        yield client


@pytest.fixture
async def user(app, client):
    return await new_user(app)
