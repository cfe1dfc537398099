"""A store whose users were saved before canonical e-mail addresses: refused at start-up, repaired by the migration."""

from __future__ import annotations

import pytest

from panther_like import ConfigError
from panther_like.crypto.passwords import hash_password
from panther_like.db.migrations import migrate_usernames
from panther_like.db.usernames import username_key
from panther_like.testing import TestClient
from tests.accounts.conftest import PASSWORD


async def _legacy_users(app, *emails: str | None) -> None:
    """Users as the previous version stored them: a username key, an address as typed, no ``email_key``."""
    await app.database.connect()
    rows = app.database.collection(app.config.user_model.collection_name)
    for number, email in enumerate(emails):
        username = f'user{number}'
        await rows.insert_one(
            {
                '_id': f'{number:024x}',
                'username': username,
                'username_key': username_key(username),
                'email': email,
                'password': hash_password(PASSWORD),
                'date_created': 0.0,
                'last_login': None,
            }
        )


async def test_start_up_refuses_a_store_with_addresses_that_have_no_canonical_key(make_app):
    app = make_app()
    await _legacy_users(app, 'Ann@Example.com', None)
    with pytest.raises(ConfigError) as refused:
        await app.startup()
    assert 'migrate-usernames' in str(refused.value) and '1 stored user(s)' in str(refused.value)
    await app.shutdown()


async def test_the_migration_gives_each_address_its_key_and_a_reset_finds_it_in_any_case(make_app):
    app = make_app()
    await _legacy_users(app, 'Ann@Example.com', None, None)
    report = await migrate_usernames(app.database, app.config.user_model.collection_name)
    assert report.written and report.problems == [] and len(report.pending_emails) == 3
    async with TestClient(app):  # start-up now succeeds
        found = await app.config.user_model.find_by_email('ann@EXAMPLE.com')
        assert found is not None and found.username == 'user0'


async def test_the_migration_changes_nothing_when_two_users_hold_one_mailbox(make_app):
    app = make_app()
    await _legacy_users(app, 'ann@example.com', 'ANN@example.com', 'not an address')
    report = await migrate_usernames(app.database, app.config.user_model.collection_name)
    assert not report.written
    assert any("'ann@example.com'" in line and "'ANN@example.com'" in line for line in report.problems)
    assert any('not an address' in line for line in report.problems)
    assert await app.config.user_model.count_without_username_key() == 3
    await app.shutdown()
