"""A store whose users were saved before canonical usernames: refused at start-up, repaired by the migration."""

from __future__ import annotations

import pytest

from panther_like import ConfigError
from panther_like.crypto.passwords import hash_password
from panther_like.db.migrations import migrate_usernames
from panther_like.testing import TestClient
from tests.accounts.conftest import PASSWORD, login


async def _legacy_users(app, *usernames: str) -> None:
    """Users as an earlier version stored them: no ``username_key``."""
    await app.database.connect()
    rows = app.database.collection(app.config.user_model.collection_name)
    for number, username in enumerate(usernames):
        await rows.insert_one(
            {
                '_id': f'{number:024x}',
                'username': username,
                'password': hash_password(PASSWORD),
                'date_created': 0.0,
                'last_login': None,
            }
        )


async def test_start_up_refuses_a_store_with_users_that_have_no_canonical_key(make_app):
    app = make_app()
    await _legacy_users(app, 'Ann', 'bob')
    with pytest.raises(ConfigError) as refused:
        await app.startup()
    assert 'migrate-usernames' in str(refused.value) and '2 stored user(s)' in str(refused.value)
    await app.shutdown()


async def test_the_migration_gives_each_user_its_key_and_login_finds_them(make_app):
    app = make_app()
    await _legacy_users(app, 'Ann', 'bob')
    report = await migrate_usernames(app.database, app.config.user_model.collection_name)
    assert report.written and report.total == 2 and report.problems == []
    async with TestClient(app) as client:  # start-up now succeeds
        await login(client, 'ANN')
        taken = await client.post('/auth/signup', json={'username': 'Bob', 'password': PASSWORD})
        assert taken.status_code == 409


async def test_a_dry_run_writes_nothing(make_app):
    app = make_app()
    await _legacy_users(app, 'Ann')
    report = await migrate_usernames(app.database, app.config.user_model.collection_name, dry_run=True)
    assert report.pending == [(f'{0:024x}', 'ann')] and not report.written
    assert await app.config.user_model.count_without_username_key() == 1
    await app.shutdown()


async def test_the_migration_changes_nothing_when_two_users_would_collide(make_app):
    app = make_app()
    await _legacy_users(app, 'Bob', 'bob', 'carol', 'bad\u200bname')
    report = await migrate_usernames(app.database, app.config.user_model.collection_name)
    assert not report.written
    assert any("'Bob'" in line and "'bob'" in line for line in report.problems)
    assert any('bad' in line and 'invisible' in line for line in report.problems)
    assert await app.config.user_model.count_without_username_key() == 4
    await app.shutdown()
