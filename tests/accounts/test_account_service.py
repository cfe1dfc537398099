"""The account service and the credential version, in-process, on every store layout.

A password change ends every session opened with the credential version it replaced, however it is
made; the account service keeps the session that asked for it. A login rewrites a password hash
made with outdated argon2 parameters without ending any session.
"""

from __future__ import annotations

from argon2 import PasswordHasher

from panther_like.crypto.passwords import hash_password
from panther_like.testing import TestClient
from tests.accounts.conftest import PASSWORD, bearer, login, signup

#: Not the parameters new hashes get (the test suite's are time_cost=1, memory_cost=1024, parallelism=1).
OUTDATED = PasswordHasher(time_cost=2, memory_cost=2048, parallelism=1)


async def test_a_password_set_with_update_refuses_the_sessions_of_the_old_credential_version(
    accounts_client: TestClient,
):
    await signup(accounts_client)
    tokens = await login(accounts_client)
    user = await accounts_client.app.config.user_model.find_by_username('ann')
    await user.update(password=hash_password('a brand new password'))
    response = await accounts_client.get('/auth/me', headers=bearer(tokens))
    assert response.status_code == 401, response.text
    refreshed = await accounts_client.post('/auth/refresh', json={'refresh_token': tokens['refresh_token']})
    assert refreshed.status_code == 401, refreshed.text


async def test_a_login_after_the_change_holds_the_new_credential_version(accounts_client: TestClient):
    await signup(accounts_client)
    user = await accounts_client.app.config.user_model.find_by_username('ann')
    await user.set_password('a brand new password')
    tokens = await login(accounts_client, password='a brand new password')
    assert (await accounts_client.get('/auth/me', headers=bearer(tokens))).status_code == 200
    refreshed = await accounts_client.post('/auth/refresh', json={'refresh_token': tokens['refresh_token']})
    assert refreshed.status_code == 200, refreshed.text


async def test_a_session_written_after_the_change_with_the_old_version_is_refused(accounts_client: TestClient):
    await signup(accounts_client)
    model = accounts_client.app.config.user_model
    stale = await model.find_by_username('ann')  # read before the change, as a login's password check
    await (await model.find_by_username('ann')).set_password('a brand new password')
    late = await stale.login()  # written after it
    assert (await accounts_client.get('/auth/me', headers=bearer(late))).status_code == 401


async def test_the_session_list_leaves_out_sessions_of_an_old_credential_version(accounts_client: TestClient):
    await signup(accounts_client)
    await login(accounts_client)
    model = accounts_client.app.config.user_model
    await (await model.find_by_username('ann')).update(password=hash_password('a brand new password'))
    tokens = await login(accounts_client, password='a brand new password')
    listed = await accounts_client.get('/auth/sessions', headers=bearer(tokens))
    assert listed.status_code == 200, listed.text
    assert [session['current'] for session in listed.json()] == [True]


async def test_the_change_route_keeps_its_session_through_the_new_credential_version(accounts_client: TestClient):
    await signup(accounts_client)
    tokens = await login(accounts_client)
    changed = await accounts_client.post(
        '/auth/password/change',
        headers=bearer(tokens),
        json={'current_password': PASSWORD, 'new_password': 'a brand new password'},
    )
    assert changed.status_code == 200, changed.text
    assert (await accounts_client.get('/auth/me', headers=bearer(tokens))).status_code == 200
    refreshed = await accounts_client.post('/auth/refresh', json={'refresh_token': tokens['refresh_token']})
    assert refreshed.status_code == 200, refreshed.text
    assert (await accounts_client.get('/auth/me', headers=bearer(refreshed.json()))).status_code == 200


async def test_a_login_rewrites_a_hash_made_with_outdated_parameters(accounts_client: TestClient):
    await signup(accounts_client)
    model = accounts_client.app.config.user_model
    user = await model.find_by_username('ann')
    await user.update(password=OUTDATED.hash(PASSWORD), credential_version=user.credential_version)
    outdated = (await model.find_by_username('ann')).password
    await login(accounts_client)
    rewritten = await model.find_by_username('ann')
    assert rewritten.password != outdated and not rewritten.password_needs_rehash()
    assert rewritten.check_password(PASSWORD)


async def test_a_rehash_at_login_keeps_every_other_session(accounts_client: TestClient):
    await signup(accounts_client)
    model = accounts_client.app.config.user_model
    user = await model.find_by_username('ann')
    await user.update(password=OUTDATED.hash(PASSWORD), credential_version=user.credential_version)
    earlier = await login(accounts_client)  # a session of the outdated hash, at the same credential version
    await login(accounts_client)  # rewrites the hash
    assert (await model.find_by_username('ann')).credential_version == user.credential_version
    assert (await accounts_client.get('/auth/me', headers=bearer(earlier))).status_code == 200


async def test_a_rehash_never_overwrites_a_password_changed_meanwhile(accounts_client: TestClient):
    await signup(accounts_client)
    model = accounts_client.app.config.user_model
    verified = await model.find_by_username('ann')
    await (await model.find_by_username('ann')).set_password('a brand new password')
    assert await verified.rehash_password(PASSWORD) is False
    assert (await model.find_by_username('ann')).check_password('a brand new password')
