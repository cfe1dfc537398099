"""The sign-in page offers each configured OpenID or OAuth 2 provider as a plain link to its login route."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from panther_like.testing import TestClient

PROVIDERS = {
    'corp': {
        'issuer': 'https://id.example.com',
        'client_id': 'pages-test',
        'client_secret': 'pages-test-secret',
        'scopes': ['openid', 'email'],
        'label': 'Corp <ID>',
    },
    'github': {
        'authorize_url': 'https://github.com/login/oauth/authorize',
        'token_url': 'https://github.com/login/oauth/access_token',
        'userinfo_url': 'https://api.github.com/user',
        'client_id': 'pages-test',
        'client_secret': 'pages-test-secret',
        'scopes': ['read:user', 'user:email'],
    },
}


@pytest_asyncio.fixture
async def provider_browser(make_pages_app) -> AsyncIterator[TestClient]:
    async with TestClient(make_pages_app(providers=PROVIDERS)) as client:
        yield client


async def test_the_sign_in_page_links_to_each_provider_in_settings_order(provider_browser):
    shown = (await provider_browser.get('/auth/ui/login')).text
    corp = shown.index('href="/auth/providers/corp/login"')
    github = shown.index('href="/auth/providers/github/login"')
    assert corp < github


async def test_a_provider_button_shows_its_label_escaped(provider_browser):
    shown = (await provider_browser.get('/auth/ui/login')).text
    assert 'Sign in with Corp &lt;ID&gt;' in shown and 'Sign in with Github' in shown


async def test_the_provider_buttons_are_links_not_scripts(provider_browser):
    shown = (await provider_browser.get('/auth/ui/login')).text
    assert '<script' not in shown


async def test_without_providers_the_sign_in_page_offers_none(browser):
    shown = (await browser.get('/auth/ui/login')).text
    assert '/providers/' not in shown and 'Sign in with' not in shown
