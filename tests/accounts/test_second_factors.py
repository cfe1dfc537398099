"""Second factors through the account routes, in-process on each store: TOTP, recovery codes, MFA login, step-up."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pyotp
import pytest
import pytest_asyncio

from panther_like import Panther
from panther_like.login_state.factor_summary import HINT_FIELD, FactorSummary
from panther_like.testing import TestClient
from tests.accounts.conftest import PASSWORD, bearer, cookie_value, login, set_cookies, settings_module, signup
from tests.clock import ManualClock

pytestmark = pytest.mark.asyncio


@pytest.fixture
def clock() -> ManualClock:
    """Half an hour behind: tests move it forward to see time steps pass, and PyJWT refuses an ``iat`` ahead of
    the real time."""
    behind = ManualClock()
    behind.advance(-1800)
    return behind


@pytest_asyncio.fixture
async def client(store, clock) -> AsyncIterator[TestClient]:
    settings = settings_module(store[0], store[1], {'cookies': True})
    settings.JWTConfig = {'life_time': 3600}  # still valid for PyJWT, which reads the real time
    app = Panther(configs=settings, clock=clock)
    async with TestClient(app) as started:
        yield started


async def enrol(client: TestClient, clock: ManualClock, tokens: dict) -> tuple[pyotp.TOTP, list[str]]:
    """Set TOTP up and confirm it; the authenticator and the recovery codes."""
    begun = await client.post('/auth/mfa/totp', headers=bearer(tokens))
    assert begun.status_code == 200, begun.text
    totp = pyotp.TOTP(begun.json()['secret'])
    confirmed = await client.post(
        '/auth/mfa/totp/confirm', json={'code': totp.at(clock.time())}, headers=bearer(tokens)
    )
    assert confirmed.status_code == 200, confirmed.text
    clock.advance(30)  # the next code is a new time step
    return totp, confirmed.json()['recovery_codes']


async def enrolled(client: TestClient, clock: ManualClock) -> tuple[pyotp.TOTP, list[str]]:
    await signup(client)
    return await enrol(client, clock, await login(client))


async def mfa_token(client: TestClient) -> str:
    response = await client.post('/auth/login', json={'username': 'ann', 'password': PASSWORD})
    assert response.status_code == 401, response.text
    return response.json()['mfa_token']


# -- setting TOTP up -------------------------------------------------------------------------------


async def test_totp_setup_gives_a_secret_an_otpauth_uri_and_an_svg_qr_code(client, clock):
    await signup(client)
    response = await client.post('/auth/mfa/totp', headers=bearer(await login(client)))
    assert response.status_code == 200
    body = response.json()
    assert body['otpauth_uri'].startswith('otpauth://totp/panther_like:ann?secret=' + body['secret'])
    assert body['qr_svg'].startswith('<svg')


async def test_confirming_with_a_good_code_gives_ten_recovery_codes(client, clock):
    _, codes = await enrolled(client, clock)
    assert len(codes) == 10 and len(set(codes)) == 10


async def test_confirming_with_a_wrong_code_is_a_400(client, clock):
    await signup(client)
    tokens = await login(client)
    await client.post('/auth/mfa/totp', headers=bearer(tokens))
    response = await client.post('/auth/mfa/totp/confirm', json={'code': '000000'}, headers=bearer(tokens))
    assert response.status_code == 400


async def test_mfa_lists_the_factor_and_the_recovery_codes_left(client, clock):
    totp, _ = await enrolled(client, clock)
    response = await client.get('/auth/mfa', headers=bearer(await login_with_code(client, clock, totp)))
    assert response.status_code == 200, response.text
    assert response.json()['factors'][0]['type'] == 'totp'
    assert response.json()['recovery_codes_remaining'] == 10


async def test_a_pending_factor_does_not_ask_for_a_code_at_login(client, clock):
    await signup(client)
    await client.post('/auth/mfa/totp', headers=bearer(await login(client)))
    assert (await client.post('/auth/login', json={'username': 'ann', 'password': PASSWORD})).status_code == 200


async def test_the_secret_is_not_stored_in_the_clear(client, clock):
    await signup(client)
    begun = await client.post('/auth/mfa/totp', headers=bearer(await login(client)))
    rows = client.app.services.database.collection('panther_like_second_factors', durable=True)
    (row,) = await rows.find({})
    assert begun.json()['secret'] not in str(row)


# -- logging in with a second factor -----------------------------------------------------------------


async def login_with_code(client: TestClient, clock: ManualClock, totp: pyotp.TOTP) -> dict:
    token = await mfa_token(client)
    response = await client.post('/auth/login/mfa', json={'mfa_token': token, 'code': totp.at(clock.time())})
    assert response.status_code == 200, response.text
    clock.advance(30)
    return response.json()


async def test_a_password_alone_answers_401_mfa_required_without_tokens_or_cookies(client, clock):
    await enrolled(client, clock)
    response = await client.post('/auth/login', json={'username': 'ann', 'password': PASSWORD})
    assert response.status_code == 401
    body = response.json()
    assert body['mfa_required'] is True and body['methods'] == ['totp', 'recovery_code'] and body['mfa_token']
    assert 'access_token' not in body and not set_cookies(response)


async def test_the_form_login_also_asks_for_the_second_factor(client, clock):
    await enrolled(client, clock)
    response = await client.post('/auth/login', data={'username': 'ann', 'password': PASSWORD})
    assert response.status_code == 401 and response.json()['mfa_required'] is True


async def test_login_mfa_with_a_code_answers_as_login_with_cookies(client, clock):
    totp, _ = await enrolled(client, clock)
    token = await mfa_token(client)
    response = await client.post('/auth/login/mfa', json={'mfa_token': token, 'code': totp.at(clock.time())})
    assert response.status_code == 200
    assert response.json()['token_type'] == 'bearer' and response.json()['refresh_token']
    assert cookie_value(response, 'access_token') == response.json()['access_token']
    assert (await client.get('/auth/me', headers=bearer(response.json()))).status_code == 200


async def test_the_access_token_says_how_and_when_the_user_authenticated(client, clock):
    totp, _ = await enrolled(client, clock)
    tokens = await login_with_code(client, clock, totp)
    claims = client.app.services.login_sessions.codec.decode(tokens['access_token'], 'access')
    assert claims['amr'] == ['pwd', 'otp', 'mfa'] and abs(claims['auth_time'] - (clock.time() - 30)) <= 1


async def test_login_mfa_with_a_recovery_code_works_once(client, clock):
    _, codes = await enrolled(client, clock)
    first = await client.post('/auth/login/mfa', json={'mfa_token': await mfa_token(client), 'recovery_code': codes[0]})
    again = await client.post('/auth/login/mfa', json={'mfa_token': await mfa_token(client), 'recovery_code': codes[0]})
    assert (first.status_code, again.status_code) == (200, 401)


async def test_a_code_is_refused_when_replayed(client, clock):
    totp, _ = await enrolled(client, clock)
    code = totp.at(clock.time())
    first = await client.post('/auth/login/mfa', json={'mfa_token': await mfa_token(client), 'code': code})
    again = await client.post('/auth/login/mfa', json={'mfa_token': await mfa_token(client), 'code': code})
    assert (first.status_code, again.status_code) == (200, 401)


async def test_a_code_of_the_previous_time_step_is_accepted(client, clock):
    totp, _ = await enrolled(client, clock)
    clock.advance(30)  # the previous step is not the one the setup used
    code = totp.at(clock.time() - 30)
    response = await client.post('/auth/login/mfa', json={'mfa_token': await mfa_token(client), 'code': code})
    assert response.status_code == 200


async def test_a_code_two_time_steps_old_is_refused(client, clock):
    totp, _ = await enrolled(client, clock)
    clock.advance(60)
    code = totp.at(clock.time() - 60)
    response = await client.post('/auth/login/mfa', json={'mfa_token': await mfa_token(client), 'code': code})
    assert response.status_code == 401


async def test_the_mfa_token_works_once(client, clock):
    totp, _ = await enrolled(client, clock)
    token = await mfa_token(client)
    first = await client.post('/auth/login/mfa', json={'mfa_token': token, 'code': totp.at(clock.time())})
    clock.advance(30)
    again = await client.post('/auth/login/mfa', json={'mfa_token': token, 'code': totp.at(clock.time())})
    assert (first.status_code, again.status_code) == (200, 401)


async def test_the_mfa_token_expires_after_five_minutes(client, clock):
    totp, _ = await enrolled(client, clock)
    token = await mfa_token(client)
    clock.advance(301)
    response = await client.post('/auth/login/mfa', json={'mfa_token': token, 'code': totp.at(clock.time())})
    assert response.status_code == 401


async def test_the_mfa_token_is_not_an_access_token(client, clock):
    await enrolled(client, clock)
    response = await client.get('/auth/me', headers={'Authorization': f'Bearer {await mfa_token(client)}'})
    assert response.status_code == 401


async def test_wrong_codes_count_in_the_login_throttle(client, clock):
    totp, _ = await enrolled(client, clock)
    token = await mfa_token(client)
    for _ in range(3):  # LOGIN_THROTTLE max_failures is 3
        assert (await client.post('/auth/login/mfa', json={'mfa_token': token, 'code': '000000'})).status_code == 401
    response = await client.post('/auth/login/mfa', json={'mfa_token': token, 'code': totp.at(clock.time())})
    assert response.status_code == 429


async def test_a_password_change_kills_a_pending_mfa_token(client, clock):
    totp, _ = await enrolled(client, clock)
    token = await mfa_token(client)
    user = await client.app.config.user_model.find_by_username('ann')
    await client.app.services.accounts.change_password(user, 'another good passphrase')
    response = await client.post('/auth/login/mfa', json={'mfa_token': token, 'code': totp.at(clock.time())})
    assert response.status_code == 401


# -- step-up ------------------------------------------------------------------------------------------


async def test_totp_setup_after_the_reauthentication_timeout_needs_reauthentication(client, clock):
    await signup(client)
    tokens = await login(client)
    clock.advance(301)
    response = await client.post('/auth/mfa/totp', headers=bearer(tokens))
    assert response.status_code == 401 and response.json()['reauthentication_required'] is True


async def test_a_password_change_after_the_reauthentication_timeout_needs_reauthentication(client, clock):
    await signup(client)
    tokens = await login(client)
    clock.advance(301)
    body = {'current_password': PASSWORD, 'new_password': 'a brand new passphrase'}
    response = await client.post('/auth/password/change', headers=bearer(tokens), json=body)
    assert response.status_code == 401 and response.json()['reauthentication_required'] is True
    fresh = (await client.post('/auth/reauthenticate', headers=bearer(tokens), json={'password': PASSWORD})).json()
    assert (await client.post('/auth/password/change', headers=bearer(fresh), json=body)).status_code == 200


async def test_a_refreshed_token_keeps_the_time_of_the_login(client, clock):
    await signup(client)
    tokens = await login(client)
    clock.advance(301)
    refreshed = (await client.post('/auth/refresh', json={'refresh_token': tokens['refresh_token']})).json()
    response = await client.post('/auth/mfa/totp', headers=bearer(refreshed))
    assert response.status_code == 401 and response.json()['reauthentication_required'] is True


async def test_reauthenticating_with_the_password_gives_a_fresh_pair_for_the_same_session(client, clock):
    await signup(client)
    tokens = await login(client)
    clock.advance(301)
    response = await client.post('/auth/reauthenticate', json={'password': PASSWORD}, headers=bearer(tokens))
    assert response.status_code == 200
    codec = client.app.services.login_sessions.codec
    old, new = (codec.decode(pair['access_token'], 'access') for pair in (tokens, response.json()))
    assert new['sid'] == old['sid'] and new['auth_time'] > old['auth_time']
    assert (await client.post('/auth/mfa/totp', headers=bearer(response.json()))).status_code == 200


async def test_after_reauthenticating_the_earlier_refresh_token_is_spent(client, clock):
    await signup(client)
    tokens = await login(client)
    clock.advance(301)
    fresh = await client.post('/auth/reauthenticate', json={'password': PASSWORD}, headers=bearer(tokens))
    assert fresh.status_code == 200
    late = await client.post('/auth/refresh', json={'refresh_token': tokens['refresh_token']})
    assert late.status_code == 401
    # Like a rotated refresh token presented again: the session ends.
    assert (await client.get('/auth/me', headers=bearer(fresh.json()))).status_code == 401


async def test_the_refresh_token_of_a_reauthentication_in_the_same_second_as_the_login_works(client, clock):
    await signup(client)
    tokens = await login(client)
    fresh = await client.post('/auth/reauthenticate', json={'password': PASSWORD}, headers=bearer(tokens))
    assert fresh.status_code == 200
    refreshed = await client.post('/auth/refresh', json={'refresh_token': fresh.json()['refresh_token']})
    assert refreshed.status_code == 200, refreshed.text


async def test_reauthenticating_with_a_code(client, clock):
    totp, _ = await enrolled(client, clock)
    tokens = await login_with_code(client, clock, totp)
    clock.advance(301)
    response = await client.post('/auth/reauthenticate', json={'code': totp.at(clock.time())}, headers=bearer(tokens))
    assert response.status_code == 200
    claims = client.app.services.login_sessions.codec.decode(response.json()['access_token'], 'access')
    assert claims['amr'] == ['otp']


async def test_reauthenticating_with_a_wrong_password_is_a_401(client, clock):
    await signup(client)
    tokens = await login(client)
    response = await client.post('/auth/reauthenticate', json={'password': 'wrong password!'}, headers=bearer(tokens))
    assert response.status_code == 401


# -- recovery codes and removal ---------------------------------------------------------------------


async def test_new_recovery_codes_make_the_old_ones_stop_working(client, clock):
    totp, old = await enrolled(client, clock)
    tokens = await login_with_code(client, clock, totp)
    new = await client.post('/auth/mfa/recovery-codes', headers=bearer(tokens))
    assert new.status_code == 200 and len(new.json()['recovery_codes']) == 10
    response = await client.post(
        '/auth/login/mfa', json={'mfa_token': await mfa_token(client), 'recovery_code': old[0]}
    )
    assert response.status_code == 401


async def test_removing_totp_needs_a_current_code(client, clock):
    totp, _ = await enrolled(client, clock)
    tokens = await login_with_code(client, clock, totp)
    wrong = await client.request('DELETE', '/auth/mfa/totp', json={'code': '000000'}, headers=bearer(tokens))
    right = await client.request(
        'DELETE', '/auth/mfa/totp', json={'code': totp.at(clock.time())}, headers=bearer(tokens)
    )
    assert (wrong.status_code, right.status_code) == (400, 204)
    assert (await client.post('/auth/login', json={'username': 'ann', 'password': PASSWORD})).status_code == 200


async def test_removing_totp_with_a_recovery_code(client, clock):
    totp, codes = await enrolled(client, clock)
    tokens = await login_with_code(client, clock, totp)
    response = await client.request(
        'DELETE', '/auth/mfa/totp', json={'recovery_code': codes[3]}, headers=bearer(tokens)
    )
    assert response.status_code == 204


async def test_wrong_codes_when_removing_totp_count_in_the_login_throttle(client, clock):
    totp, _ = await enrolled(client, clock)
    tokens = await login_with_code(client, clock, totp)
    for _ in range(3):  # LOGIN_THROTTLE max_failures is 3
        await client.request('DELETE', '/auth/mfa/totp', json={'code': '000000'}, headers=bearer(tokens))
    right = await client.request(
        'DELETE', '/auth/mfa/totp', json={'code': totp.at(clock.time())}, headers=bearer(tokens)
    )
    assert right.status_code == 429


async def test_deleting_a_user_deletes_their_totp_factor_and_recovery_codes(client, clock):
    from panther_like.login_state.second_factors import FACTORS_COLLECTION, RECOVERY_COLLECTION

    await enrolled(client, clock)
    model = client.app.config.user_model
    ann = await model.find_one(username='ann')
    await signup(client, 'root')
    await (await model.find_one(username='root')).update(is_superuser=True)
    deleted = await client.delete(f'/auth/users/{ann.id}', headers=bearer(await login(client, 'root')))
    assert deleted.status_code == 204, deleted.text
    database = client.app.database
    assert await database.collection(FACTORS_COLLECTION).find_one({'_id': str(ann.id)}) is None
    assert await database.collection(RECOVERY_COLLECTION).count({'user_id': str(ann.id)}) == 0


# -- the hint on the user's document that they hold no second factor -----------------------------
# It may say "look" when nothing is there (a lookup too many); it must never say "none" while a
# factor exists (a password alone would do). See panther_like.login_state.factor_summary.


async def stored_hint(client: TestClient) -> Any:
    """Read through the model: a MongoDB-wire server on SQLite hands a ``$set`` boolean back as 1 or 0."""
    return (await client.app.config.user_model.find_one(username='ann')).second_factor_hint


async def forget_hint(client: TestClient) -> None:
    """Make ann's document look as one stored before the hint existed (a missing field reads as None)."""
    model = client.app.config.user_model
    await client.app.database.collection(model.collection_name).update_one({'username': 'ann'}, {HINT_FIELD: None})


async def password_login(client: TestClient):
    return await client.post('/auth/login', json={'username': 'ann', 'password': PASSWORD})


async def test_the_hint_is_a_field_of_the_user_model_that_responses_hide(client):
    model = client.app.config.user_model
    assert HINT_FIELD in model.model_fields and HINT_FIELD in model.secret_fields


async def test_a_new_user_is_stored_knowing_they_hold_no_second_factor(client):
    await signup(client)
    assert await stored_hint(client) is False


async def test_confirming_totp_marks_the_user_as_holding_a_second_factor(client, clock):
    await enrolled(client, clock)
    assert await stored_hint(client) is True


async def test_removing_the_only_factor_marks_the_user_as_holding_none(client, clock):
    totp, _ = await enrolled(client, clock)
    tokens = await login_with_code(client, clock, totp)
    removed = await client.request(
        'DELETE', '/auth/mfa/totp', json={'code': totp.at(clock.time())}, headers=bearer(tokens)
    )
    assert removed.status_code == 204, removed.text
    assert await stored_hint(client) is False


async def test_a_user_stored_before_the_hint_with_totp_is_still_asked_for_a_code(client, clock):
    await enrolled(client, clock)
    await forget_hint(client)
    response = await password_login(client)
    assert response.status_code == 401 and 'mfa_token' in response.json()
    assert await stored_hint(client) is True  # recorded: the next login does not look twice


async def test_a_user_stored_before_the_hint_without_a_factor_gets_it_at_their_next_login(client):
    await signup(client)
    await forget_hint(client)
    assert (await password_login(client)).status_code == 200
    assert await stored_hint(client) is False


async def test_a_stored_hint_saying_none_is_what_lets_the_login_skip_the_second_step(client, clock):
    """The hint is trusted: proof that it is read (and why only the framework may write it)."""
    await enrolled(client, clock)
    model = client.app.config.user_model
    await client.app.database.collection(model.collection_name).update_one({'username': 'ann'}, {HINT_FIELD: False})
    assert (await password_login(client)).status_code == 200


async def test_the_hint_is_not_a_field_a_user_can_set_on_themselves(client):
    await signup(client)
    response = await client.patch('/auth/me', json={HINT_FIELD: True}, headers=bearer(await login(client)))
    assert response.status_code in (400, 422), response.text
    assert await stored_hint(client) is False


# -- the writes that race, with the look at the factors played by a callable ----------------------
# (what a concurrent request would do between two awaits cannot be scheduled through the routes)


def summary_for(client: TestClient, looks: list[bool]) -> FactorSummary:
    answers = iter(looks)

    async def any_factor(user_id: str) -> bool:
        return next(answers)

    return FactorSummary(client.app.database, client.app.config.user_model.collection_name, any_factor)


async def user_id(client: TestClient) -> str:
    return str((await client.app.config.user_model.find_one(username='ann')).id)


async def test_a_removal_that_finds_a_factor_added_meanwhile_leaves_the_hint_saying_look(client):
    await signup(client)
    summary = summary_for(client, [False, True])  # nothing left at first; a factor appeared before the second look
    await summary.removed(await user_id(client))
    assert await stored_hint(client) is True


async def test_a_removal_that_finds_a_factor_left_does_not_write(client):
    await signup(client)
    await summary_for(client, [True]).removed(await user_id(client))
    assert await stored_hint(client) is False  # untouched: still the new user's value


async def test_a_login_that_found_none_does_not_overwrite_a_hint_set_meanwhile(client):
    await signup(client)
    summary = summary_for(client, [])
    await summary.adding(await user_id(client))
    await summary.found_none(await user_id(client))
    assert await stored_hint(client) is True
