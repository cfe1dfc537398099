"""The account routes in-process, on the embedded store, MongoDB, and the embedded store with Redis."""

from __future__ import annotations

from panther_like.testing import TestClient
from tests.accounts.conftest import PASSWORD, bearer, login, signup

# -- signup ------------------------------------------------------------------------------------


async def test_signup_answers_201_with_the_public_user(accounts_client: TestClient):
    body = await signup(accounts_client, 'Ann', email='ann@example.com')
    assert body['username'] == 'Ann' and body['email'] == 'ann@example.com'
    assert {'password', 'username_key'}.isdisjoint(body)
    assert body['is_active'] is True and body['is_verified'] is False and body['is_superuser'] is False


async def test_usernames_that_only_look_different_are_one_account(accounts_client: TestClient):
    await signup(accounts_client, 'bob')
    for lookalike in ('Bob', 'BOB', '\uff42ob', '\u212cob'):  # fullwidth b, script capital B
        response = await accounts_client.post('/auth/signup', json={'username': lookalike, 'password': PASSWORD})
        assert response.status_code == 409, (lookalike, response.text)
        assert response.json() == {'detail': 'username already exists'}


async def test_a_look_alike_from_another_script_beside_latin_letters_is_400(accounts_client: TestClient):
    await signup(accounts_client, 'admin')
    for username in ('\u0430dmin', 'adm\u0456n'):  # Cyrillic a, Cyrillic i
        response = await accounts_client.post('/auth/signup', json={'username': username, 'password': PASSWORD})
        assert response.status_code == 400, (username, response.text)
        assert 'scripts' in response.json()['detail']


async def test_a_look_alike_within_one_script_is_the_same_account(accounts_client: TestClient):
    await signup(accounts_client, 'admin')
    for username in ('\u0251dmin', 'a\u0301dmin', 'admi\u0307n'):  # Latin alpha, combining marks
        response = await accounts_client.post('/auth/signup', json={'username': username, 'password': PASSWORD})
        assert response.status_code == 409, (username, response.text)


async def test_invisible_and_control_characters_and_outer_whitespace_are_400(accounts_client: TestClient):
    for username in ('bob ', ' bob', 'bo\x00b', 'bo\u200bb', 'b\u202eob', 'bob\u00a0x', '\u3164bob', 'bob\ufe0f'):
        response = await accounts_client.post('/auth/signup', json={'username': username, 'password': PASSWORD})
        assert response.status_code == 400, (username, response.text)
        assert 'username' in response.json()['detail']


async def test_a_short_password_is_400_with_the_rule(accounts_client: TestClient):
    response = await accounts_client.post('/auth/signup', json={'username': 'ann', 'password': 'short'})
    assert response.status_code == 400
    assert response.json() == {'detail': 'The password must be at least 8 characters long'}


async def test_a_common_password_is_400(accounts_client: TestClient):
    for password in ('password1', 'Password1', 'baseball', 'qwertyuiop'):
        response = await accounts_client.post('/auth/signup', json={'username': 'ann', 'password': password})
        assert response.status_code == 400, password
        assert 'common' in response.json()['detail']


async def test_the_username_as_password_is_400(accounts_client: TestClient):
    response = await accounts_client.post('/auth/signup', json={'username': 'Annabelle', 'password': 'annabelle'})
    assert response.json() == {'detail': 'The password must not be the username'}


async def test_the_policy_follows_the_accounts_setting(make_app):
    async with TestClient(make_app(password_min_length=30, refuse_common_passwords=False)) as client:
        too_short = await client.post('/auth/signup', json={'username': 'ann', 'password': PASSWORD})
        assert too_short.json() == {'detail': 'The password must be at least 30 characters long'}
        assert (
            await client.post('/auth/signup', json={'username': 'ann', 'password': 'password1' * 4})
        ).status_code == 201


async def test_signup_refuses_fields_the_model_does_not_declare_editable(accounts_client: TestClient):
    for field, value in (
        ('is_superuser', True),
        ('is_verified', True),
        ('id', 'x' * 24),
        ('username_key', 'x'),
        ('unknown', 1),
    ):
        response = await accounts_client.post(
            '/auth/signup', json={'username': 'ann', 'password': PASSWORD, field: value}
        )
        assert response.status_code == 400, field
        assert field in response.json()['detail']
    login_attempt = await accounts_client.post('/auth/login', json={'username': 'ann', 'password': PASSWORD})
    assert login_attempt.status_code == 401  # nothing was created


async def test_signup_with_a_wrongly_typed_editable_field_is_422_naming_it(accounts_client: TestClient):
    response = await accounts_client.post(
        '/auth/signup', json={'username': 'ann', 'password': PASSWORD, 'email': ['not', 'a', 'string']}
    )
    assert response.status_code == 422
    assert response.json()['detail'].startswith('Invalid fields of Member: email: ')  # the model's own validation
    assert response.json()['errors'][0]['loc'] == ['email']


async def test_malformed_json_is_400_with_a_reason(accounts_client: TestClient):
    response = await accounts_client.post(
        '/auth/signup', content=b'{"username": ', headers={'Content-Type': 'application/json'}
    )
    assert response.status_code == 400
    assert response.json()['detail']


async def test_json_of_the_wrong_shape_or_types_is_422_with_a_reason(accounts_client: TestClient):
    for body in (b'[]', b'"x"', b'{"username": 1, "password": 2}', b'{"username": "a"}'):
        response = await accounts_client.post(
            '/auth/signup', content=body, headers={'Content-Type': 'application/json'}
        )
        assert response.status_code == 422, body
        assert response.json()['detail'] and response.json()['errors'], body


async def test_oversized_fields_are_422(accounts_client: TestClient):
    for body in ({'username': 'a' * 151, 'password': PASSWORD}, {'username': 'ann', 'password': 'p' * 5000}):
        response = await accounts_client.post('/auth/signup', json=body)
        assert response.status_code == 422
        assert 'at most' in response.json()['detail']


# -- login ------------------------------------------------------------------------------------------


async def test_login_answers_an_oauth2_token_response(accounts_client: TestClient):
    await signup(accounts_client)
    response = await accounts_client.post('/auth/login', json={'username': 'ann', 'password': PASSWORD})
    body = response.json()
    assert set(body) == {'access_token', 'refresh_token', 'token_type', 'expires_in'}
    assert body['token_type'] == 'bearer' and body['expires_in'] == 24 * 3600
    assert response.headers['cache-control'] == 'no-store'


async def test_login_accepts_the_oauth2_password_grant_form(accounts_client: TestClient):
    await signup(accounts_client)
    form = {'grant_type': 'password', 'username': 'ann', 'password': PASSWORD, 'scope': '', 'client_id': ''}
    response = await accounts_client.post('/auth/login', data=form)
    assert response.status_code == 200, response.text
    assert (await accounts_client.get('/auth/me', headers=bearer(response.json()))).json()['username'] == 'ann'


async def test_login_with_another_grant_type_is_422(accounts_client: TestClient):
    response = await accounts_client.post(
        '/auth/login', data={'grant_type': 'client_credentials', 'username': 'ann', 'password': PASSWORD}
    )
    assert response.status_code == 422


async def test_login_finds_the_account_by_any_lookalike_of_its_username(accounts_client: TestClient):
    await signup(accounts_client, 'Bob')
    for typed in ('bob', 'BOB', '\uff42ob'):
        assert (
            await accounts_client.post('/auth/login', json={'username': typed, 'password': PASSWORD})
        ).status_code == 200, typed


async def test_unknown_user_and_wrong_password_get_the_same_401(accounts_client: TestClient):
    await signup(accounts_client)
    unknown = await accounts_client.post('/auth/login', json={'username': 'nobody', 'password': PASSWORD})
    wrong = await accounts_client.post('/auth/login', json={'username': 'ann', 'password': 'wrong password'})
    refused = await accounts_client.post('/auth/login', json={'username': 'bo\x00b', 'password': PASSWORD})
    assert unknown.status_code == wrong.status_code == refused.status_code == 401
    assert unknown.json() == wrong.json() == refused.json() == {'detail': 'Invalid username or password'}


async def test_login_is_throttled_per_canonical_username(accounts_client: TestClient):
    await signup(accounts_client, 'Bob')
    for typed in ('bob', 'BOB', 'Bob'):  # max_failures is 3 in these tests
        assert (
            await accounts_client.post('/auth/login', json={'username': typed, 'password': 'wrong password'})
        ).status_code == 401
    response = await accounts_client.post('/auth/login', json={'username': '\uff42ob', 'password': PASSWORD})
    assert response.status_code == 429 and int(response.headers['retry-after']) > 0


async def test_an_inactive_user_cannot_log_in(accounts_client: TestClient):
    body = await signup(accounts_client)
    user = await accounts_client.app.config.user_model.find_one(id=body['id'])
    await user.update(is_active=False)
    response = await accounts_client.post('/auth/login', json={'username': 'ann', 'password': PASSWORD})
    assert response.status_code == 403 and response.json() == {'detail': 'This account is disabled'}


async def test_require_verified_refuses_login_until_the_user_is_verified(make_app):
    async with TestClient(make_app(require_verified=True)) as client:
        body = await signup(client)
        refused = await client.post('/auth/login', json={'username': 'ann', 'password': PASSWORD})
        assert refused.status_code == 403 and 'Verify' in refused.json()['detail']
        user = await client.app.config.user_model.find_one(id=body['id'])
        await user.update(is_verified=True)
        assert (await client.post('/auth/login', json={'username': 'ann', 'password': PASSWORD})).status_code == 200


async def test_login_grants_only_the_requested_scopes_the_user_may_have(accounts_client: TestClient):
    body = await signup(accounts_client)
    form = {'username': 'ann', 'password': PASSWORD, 'scope': 'read:items admin'}
    assert 'scope' not in (await accounts_client.post('/auth/login', data=form)).json()
    user = await accounts_client.app.config.user_model.find_one(id=body['id'])
    await user.update(is_superuser=True)
    assert (await accounts_client.post('/auth/login', data=form)).json()['scope'] == 'read:items'


# -- refresh, logout --------------------------------------------------------------------------------


async def test_refresh_rotates_and_reuse_ends_the_session(accounts_client: TestClient):
    await signup(accounts_client)
    tokens = await login(accounts_client)
    pair = (await accounts_client.post('/auth/refresh', json={'refresh_token': tokens['refresh_token']})).json()
    assert pair['token_type'] == 'bearer' and pair['refresh_token'] != tokens['refresh_token']
    latest = (await accounts_client.post('/auth/refresh', json={'refresh_token': pair['refresh_token']})).json()
    reuse = await accounts_client.post('/auth/refresh', json={'refresh_token': tokens['refresh_token']})
    assert reuse.status_code == 401
    assert (await accounts_client.get('/auth/me', headers=bearer(latest))).status_code == 401


async def test_refresh_without_a_token_is_400(accounts_client: TestClient):
    response = await accounts_client.post('/auth/refresh', json={})
    assert response.status_code == 400 and 'refresh_token' in response.json()['detail']


async def test_refresh_refuses_unknown_fields(accounts_client: TestClient):
    response = await accounts_client.post('/auth/refresh', json={'refresh_token': 'a.b.c', 'extra': 1})
    assert response.status_code == 422 and 'extra' in response.json()['detail']


async def test_logout_ends_this_session_only(accounts_client: TestClient):
    await signup(accounts_client)
    first, second = await login(accounts_client), await login(accounts_client)
    assert (await accounts_client.post('/auth/logout', headers=bearer(first))).json() == {'detail': 'Logged out'}
    assert (await accounts_client.get('/auth/me', headers=bearer(first))).status_code == 401
    assert (await accounts_client.get('/auth/me', headers=bearer(second))).status_code == 200


async def test_logout_all_ends_every_session(accounts_client: TestClient):
    await signup(accounts_client)
    first, second = await login(accounts_client), await login(accounts_client)
    response = await accounts_client.post('/auth/logout-all', headers=bearer(first))
    assert response.json() == {'detail': 'Logged out of every session', 'ended': 2}
    for tokens in (first, second):
        assert (await accounts_client.get('/auth/me', headers=bearer(tokens))).status_code == 401
        assert (
            await accounts_client.post('/auth/refresh', json={'refresh_token': tokens['refresh_token']})
        ).status_code == 401


async def test_logout_without_a_token_is_401(accounts_client: TestClient):
    response = await accounts_client.post('/auth/logout')
    assert response.status_code == 401 and response.headers['www-authenticate'].startswith('Bearer')


# -- me -----------------------------------------------------------------------------------------------


async def test_me_shows_the_user_without_secrets(accounts_client: TestClient):
    await signup(accounts_client, email='ann@example.com')
    body = (await accounts_client.get('/auth/me', headers=bearer(await login(accounts_client)))).json()
    assert body['username'] == 'ann' and body['email'] == 'ann@example.com'
    assert {'password', 'username_key'}.isdisjoint(body)


async def test_patch_me_changes_editable_fields(accounts_client: TestClient):
    await signup(accounts_client)
    headers = bearer(await login(accounts_client))
    response = await accounts_client.patch('/auth/me', headers=headers, json={'nickname': 'Nan'})
    assert response.status_code == 200 and response.json()['nickname'] == 'Nan'
    assert (await accounts_client.get('/auth/me', headers=headers)).json()['nickname'] == 'Nan'


async def test_patch_me_refuses_flags_password_id_and_unknown_fields(accounts_client: TestClient):
    await signup(accounts_client)
    headers = bearer(await login(accounts_client))
    for field, value in (
        ('is_superuser', True),
        ('is_active', False),
        ('is_verified', True),
        ('password', 'x'),
        ('id', 'f' * 24),
        ('username_key', 'root'),
        ('last_login', None),
        ('shoe_size', 42),
    ):
        response = await accounts_client.patch('/auth/me', headers=headers, json={field: value})
        assert response.status_code == 400, field
        assert field in response.json()['detail']
    body = (await accounts_client.get('/auth/me', headers=headers)).json()
    assert body['is_superuser'] is False and body['is_active'] is True and 'shoe_size' not in body


async def test_patch_me_with_a_wrong_type_or_a_non_object_is_422(accounts_client: TestClient):
    await signup(accounts_client)
    headers = bearer(await login(accounts_client))
    for body in ({'email': 5}, [], 'x', None):
        response = await accounts_client.patch('/auth/me', headers=headers, json=body)
        assert response.status_code in (200, 422), body
        if body is not None:
            assert response.status_code == 422, body


async def test_patch_me_renaming_to_a_lookalike_of_another_user_is_409(accounts_client: TestClient):
    await signup(accounts_client, 'Bob')
    await signup(accounts_client, 'ann')
    headers = bearer(await login(accounts_client))
    response = await accounts_client.patch('/auth/me', headers=headers, json={'username': 'BOB'})
    assert response.status_code == 409
    renamed = await accounts_client.patch('/auth/me', headers=headers, json={'username': 'Annie'})
    assert renamed.status_code == 200
    assert (
        await accounts_client.post('/auth/login', json={'username': 'annie', 'password': PASSWORD})
    ).status_code == 200


# -- password change -----------------------------------------------------------------------------------


async def test_password_change_ends_every_other_session_and_keeps_this_one(accounts_client: TestClient):
    await signup(accounts_client)
    this, other = await login(accounts_client), await login(accounts_client)
    response = await accounts_client.post(
        '/auth/password/change',
        headers=bearer(this),
        json={'current_password': PASSWORD, 'new_password': 'a brand new passphrase'},
    )
    assert response.status_code == 200 and response.json()['ended'] == 1
    assert (await accounts_client.get('/auth/me', headers=bearer(this))).status_code == 200
    assert (await accounts_client.get('/auth/me', headers=bearer(other))).status_code == 401
    assert (
        await accounts_client.post('/auth/login', json={'username': 'ann', 'password': PASSWORD})
    ).status_code == 401
    await login(accounts_client, password='a brand new passphrase')


async def test_password_change_with_a_wrong_current_password_is_400_and_changes_nothing(accounts_client):
    await signup(accounts_client)
    tokens = await login(accounts_client)
    response = await accounts_client.post(
        '/auth/password/change',
        headers=bearer(tokens),
        json={'current_password': 'not it at all', 'new_password': 'a brand new passphrase'},
    )
    assert response.status_code == 400 and response.json() == {'detail': 'The current password is incorrect'}
    await login(accounts_client)


async def test_password_change_applies_the_policy(accounts_client: TestClient):
    await signup(accounts_client)
    response = await accounts_client.post(
        '/auth/password/change',
        headers=bearer(await login(accounts_client)),
        json={'current_password': PASSWORD, 'new_password': 'password'},
    )
    assert response.status_code == 400


# -- sessions ----------------------------------------------------------------------------------------------


async def test_sessions_lists_the_users_sessions_and_marks_the_current_one(accounts_client: TestClient):
    await signup(accounts_client)
    first = await login(accounts_client)
    await login(accounts_client)
    listed = (await accounts_client.get('/auth/sessions', headers=bearer(first))).json()
    assert len(listed) == 2 and [s['current'] for s in listed] == [True, False]
    assert set(listed[0]) == {'sid', 'created', 'last_used', 'expires', 'user_agent', 'client', 'current'}
    assert first['access_token'] not in str(listed)


async def test_deleting_a_session_ends_it(accounts_client: TestClient):
    await signup(accounts_client)
    first, second = await login(accounts_client), await login(accounts_client)
    listed = (await accounts_client.get('/auth/sessions', headers=bearer(first))).json()
    other = next(s['sid'] for s in listed if not s['current'])
    response = await accounts_client.delete(f'/auth/sessions/{other}', headers=bearer(first))
    assert response.status_code == 204 and response.content == b''
    assert (await accounts_client.get('/auth/me', headers=bearer(second))).status_code == 401
    assert (await accounts_client.get('/auth/me', headers=bearer(first))).status_code == 200


async def test_another_users_session_is_404_and_stays_alive(accounts_client: TestClient):
    await signup(accounts_client, 'ann')
    await signup(accounts_client, 'bob')
    ann, bob = await login(accounts_client, 'ann'), await login(accounts_client, 'bob')
    bobs = (await accounts_client.get('/auth/sessions', headers=bearer(bob))).json()[0]['sid']
    for sid in (bobs, 'no-such-session', 'x' * 500):
        response = await accounts_client.delete(f'/auth/sessions/{sid}', headers=bearer(ann))
        assert response.status_code == 404 and response.json() == {'detail': 'Session not found'}
    assert (await accounts_client.get('/auth/me', headers=bearer(bob))).status_code == 200


async def test_a_forced_user_in_tests_can_list_sessions_and_change_the_password(accounts_client: TestClient):
    body = await signup(accounts_client)
    user = await accounts_client.app.config.user_model.find_one(id=body['id'])
    await login(accounts_client)
    accounts_client.force_authenticate(user)
    listed = (await accounts_client.get('/auth/sessions')).json()
    assert [session['current'] for session in listed] == [False]
    response = await accounts_client.post(
        '/auth/password/change', json={'current_password': PASSWORD, 'new_password': 'a brand new passphrase'}
    )
    assert response.status_code == 200 and response.json()['ended'] == 1
