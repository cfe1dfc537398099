"""``password/forgot`` and ``password/reset``: a link by mail, good once, that ends every session.

Each test runs on the embedded store, on MongoDB, and on the embedded
store with Redis (where the single-use claim and the throttle live then);
mail goes through a real SMTP server and the token is read from it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets

import pytest

from panther_like.db.models import BaseUser
from panther_like.login_state.one_time_tokens import TOKENS_COLLECTION
from panther_like.login_state.throttle import ActionLimit
from tests.recovery.setup import (
    PASSWORD,
    address,
    bearer,
    build_app,
    client_from_own_address,
    delivered_token,
    forgot,
    mail_settings,
    new_user,
    reload,
    reset_token,
    verify_token,
)
from tests.servers import free_port

#: What the routes allow per account name and per client address (the throttle's defaults).
LIMIT = ActionLimit()


async def reset(client, token: str, new_password: str = 'second-password-2'):
    return await client.post('/auth/password/reset', json={'token': token, 'new_password': new_password})


def audit_events(caplog) -> list[dict]:
    return [json.loads(record.getMessage()) for record in caplog.records if record.name == 'panther_like.audit']


# -- the flow -----------------------------------------------------------------------------------------


async def test_forgot_answers_202_and_mails_a_reset_link_to_the_users_address(app, client, smtp_server, user):
    response = await forgot(client, username=user.username)
    assert response.status_code == 202
    assert 'on its way' in response.json()['detail']
    token = await delivered_token(app, smtp_server, user.email, 'reset')
    [mail] = smtp_server.messages(user.email)
    assert mail['Subject'] == 'Reset your password' and mail['From'] == 'accounts@example.com'
    assert '15 minutes' in mail.get_content() and len(token) == 43


async def test_the_link_sets_the_new_password_and_the_old_one_stops_working(app, client, smtp_server, user):
    token = await reset_token(app, client, smtp_server, user)
    response = await reset(client, token, 'second-password-2')
    assert response.status_code == 204 and response.content == b''
    user = await reload(user)
    assert await user.verify_password('second-password-2')
    assert not await user.verify_password(PASSWORD)


async def test_a_reset_ends_every_session_of_the_user(app, client, smtp_server, user):
    sessions = [await user.login(), await user.login()]
    for pair in sessions:
        assert (await client.get('/whoami', headers=bearer(pair))).status_code == 200
    token = await reset_token(app, client, smtp_server, user)
    assert (await reset(client, token)).status_code == 204
    for pair in sessions:
        assert (await client.get('/whoami', headers=bearer(pair))).status_code == 401


async def test_the_same_token_again_is_a_400_and_changes_nothing(app, client, smtp_server, user):
    token = await reset_token(app, client, smtp_server, user)
    assert (await reset(client, token, 'second-password-2')).status_code == 204
    again = await reset(client, token, 'third-password-3')
    assert again.status_code == 400 and 'invalid or has expired' in again.json()['detail']
    assert await (await reload(user)).verify_password('second-password-2')


async def test_of_concurrent_uses_of_one_token_exactly_one_succeeds(app, client, smtp_server, user):
    token = await reset_token(app, client, smtp_server, user)
    answers = await asyncio.gather(*(reset(client, token, f'racing-password-{i}') for i in range(8)))
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [204] + [400] * 7
    winner = next(i for i, answer in enumerate(answers) if answer.status_code == 204)
    assert await (await reload(user)).verify_password(f'racing-password-{winner}')


async def test_an_expired_token_is_a_400_and_the_password_stays(app, client, smtp_server, user, clock):
    token = await reset_token(app, client, smtp_server, user)
    clock.advance(15 * 60 + 1)
    assert (await reset(client, token)).status_code == 400
    assert await (await reload(user)).verify_password(PASSWORD)


@pytest.mark.parametrize(
    'forge',
    [
        lambda token: secrets.token_urlsafe(32),
        lambda token: token[:-1] + ('A' if token[-1] != 'A' else 'B'),
        lambda token: token.upper() if token.upper() != token else token.lower(),
        lambda token: token + 'A',
        lambda token: token[:42],
    ],
)
async def test_a_forged_token_is_a_400_and_the_real_one_still_works(app, client, smtp_server, user, forge):
    token = await reset_token(app, client, smtp_server, user)
    assert (await reset(client, forge(token))).status_code == 400
    assert await (await reload(user)).verify_password(PASSWORD)
    assert (await reset(client, token)).status_code == 204


async def test_a_verification_token_does_not_reset_a_password_and_stays_good_for_verifying(
    app,
    client,
    smtp_server,
    user,
):
    token = await verify_token(app, client, smtp_server, user)
    assert (await reset(client, token)).status_code == 400
    assert await (await reload(user)).verify_password(PASSWORD)
    assert (await client.post('/auth/verify', json={'token': token})).status_code == 204


async def test_a_weak_new_password_is_a_400_and_the_token_still_works(app, client, smtp_server, user):
    token = await reset_token(app, client, smtp_server, user)
    for weak in ('short', user.username):
        refused = await reset(client, token, weak)
        assert refused.status_code == 400 and 'password' in refused.json()['detail']
    assert (await reset(client, token)).status_code == 204


async def test_a_password_changed_another_way_kills_the_links_already_mailed(app, client, smtp_server, user):
    token = await reset_token(app, client, smtp_server, user)
    await user.set_password('changed-elsewhere-1')
    assert (await reset(client, token)).status_code == 400
    assert await (await reload(user)).verify_password('changed-elsewhere-1')


async def test_after_a_reset_the_users_other_reset_links_are_dead(app, client, smtp_server, user):
    first = await reset_token(app, client, smtp_server, user)
    second = await reset_token(app, client, smtp_server, user)
    assert (await reset(client, second, 'second-password-2')).status_code == 204
    assert (await reset(client, first, 'third-password-3')).status_code == 400


async def test_an_address_changed_since_the_mail_kills_the_link(app, client, smtp_server, user):
    token = await reset_token(app, client, smtp_server, user)
    await user.update(email=address())
    assert (await reset(client, token)).status_code == 400


async def test_one_users_reset_leaves_another_user_alone(app, client, smtp_server, user):
    other = await new_user(app)
    token = await reset_token(app, client, smtp_server, user)
    assert (await reset(client, token)).status_code == 204
    assert await (await reload(other)).verify_password(PASSWORD)


# -- what an account probe learns: nothing --------------------------------------------------------------


async def test_an_unknown_account_gets_the_same_202_and_body_and_no_mail(app, client, smtp_server, user):
    known = await forgot(client, username=user.username)
    unknown = await forgot(client, username='nobody-' + secrets.token_hex(6))
    assert (known.status_code, known.content) == (unknown.status_code, unknown.content)
    assert sorted(known.headers.keys()) == sorted(unknown.headers.keys())
    await app.outbox.drain()
    assert len(smtp_server.messages(user.email)) == 1


async def test_an_unknown_account_costs_the_same_store_write_as_a_known_one(app, client, user):
    rows = app.database.collection(TOKENS_COLLECTION)
    before = await rows.count({})
    await forgot(client, username=user.username)
    await forgot(client, username='nobody-' + secrets.token_hex(6))
    assert await rows.count({}) == before + 2


async def test_forgot_by_email_finds_the_account_when_the_model_has_an_email_field(app, client, smtp_server, user):
    assert (await forgot(client, email=user.email)).status_code == 202
    assert await delivered_token(app, smtp_server, user.email, 'reset')


async def test_an_inactive_account_gets_the_same_202_and_no_mail(app, client, smtp_server, user):
    await user.update(is_active=False)
    assert (await forgot(client, username=user.username)).status_code == 202
    await app.outbox.drain()
    assert smtp_server.messages(user.email) == []


async def test_forgot_is_throttled_per_account_the_same_for_known_and_unknown_names(app, client, user):
    unknown = 'nobody-' + secrets.token_hex(6)
    for name in (user.username, unknown):
        statuses = [(await forgot(client, username=name)).status_code for _ in range(LIMIT.per_subject_and_address + 1)]
        assert statuses == [202] * LIMIT.per_subject_and_address + [429]


async def test_changing_the_case_of_the_name_does_not_buy_more_mail(app, client, user):
    variants = [user.username.upper(), user.username.title(), user.username.swapcase(), user.username.lower()]
    allowed = LIMIT.per_subject_and_address
    statuses = [(await forgot(client, username=variants[i % 4])).status_code for i in range(allowed + 1)]
    assert statuses == [202] * allowed + [429]


async def test_forgot_is_throttled_per_client_address(app, client):
    statuses = [(await forgot(client, username=f'nobody-{i}')).status_code for i in range(LIMIT.per_address + 1)]
    assert statuses == [202] * LIMIT.per_address + [429]


# -- failures ----------------------------------------------------------------------------------------


async def test_mail_that_cannot_be_delivered_still_answers_202_and_is_in_the_audit_log(
    stores,
    smtp_server,
    caplog,
):
    caplog.set_level(logging.INFO, logger='panther_like.audit')
    dead = {
        'class': 'panther_like.mail.SMTPMailer',
        'host': '127.0.0.1',
        'port': free_port(),
        'tls': 'none',
        'sender': 'accounts@example.com',
        'timeout': 2,
    }
    app = build_app(mail_settings(smtp_server, **stores, MAILER=dead))
    async with client_from_own_address(app) as client:
        user = await new_user(app)
        assert (await forgot(client, username=user.username)).status_code == 202
        await app.outbox.drain()
    [failure] = [event for event in audit_events(caplog) if event['event'] == 'mail.failure']
    assert failure['user_id'] == user.id and failure['kind'] == 'password_reset'
    assert failure['path'] == '/auth/password/forgot'
    assert user.email not in caplog.text


async def test_a_refused_recipient_still_answers_202_and_is_in_the_audit_log(app, client, smtp_server, caplog):
    caplog.set_level(logging.INFO, logger='panther_like.audit')
    user = await new_user(app, email='refuse-' + address())
    assert (await forgot(client, username=user.username)).status_code == 202
    await app.outbox.drain()
    [failure] = [event for event in audit_events(caplog) if event['event'] == 'mail.failure']
    assert '550' in failure['reason'] and failure['user_id'] == user.id


async def test_no_token_ever_reaches_the_audit_log(app, client, smtp_server, user, caplog):
    caplog.set_level(logging.DEBUG)
    token = await reset_token(app, client, smtp_server, user)
    await reset(client, token)
    await reset(client, token)
    events = [event['event'] for event in audit_events(caplog)]
    assert {'password_reset.requested', 'mail.sent', 'password_reset', 'password_reset.failure'} <= set(events)
    assert token not in caplog.text


async def test_the_audit_line_of_a_reset_counts_the_sessions_it_ended(app, client, smtp_server, user, caplog):
    caplog.set_level(logging.INFO, logger='panther_like.audit')
    await user.login()
    await user.login()
    await reset(client, await reset_token(app, client, smtp_server, user))
    [line] = [event for event in audit_events(caplog) if event['event'] == 'password_reset']
    assert (line['user_id'], line['sessions_ended']) == (user.id, 2)


# -- what the mail says ---------------------------------------------------------------------------------


async def test_without_a_reset_url_the_mail_carries_the_code_alone(stores, smtp_server):
    app = build_app(mail_settings(smtp_server, **stores, ACCOUNT_EMAILS={'reset_life_time': 3600}))
    async with client_from_own_address(app) as client:
        user = await new_user(app)
        assert (await forgot(client, username=user.username)).status_code == 202
        await app.outbox.drain()
        [mail] = smtp_server.wait_for(user.email)
        text = mail.get_content()
        assert 'Enter this code' in text and 'https://' not in text and '60 minutes' in text
        token = text.split('Enter this code to choose a new password:')[1].split()[0]
        assert (await reset(client, token)).status_code == 204


async def test_a_model_without_an_email_field_mails_a_username_that_is_an_address(tmp_path, smtp_server):
    app = build_app(mail_settings(smtp_server, DATABASE={'path': str(tmp_path / 'plain.sqlite3')}, USER_MODEL=BaseUser))
    async with client_from_own_address(app) as client:
        user = await BaseUser.insert_one(username=address(), password=PASSWORD)
        plain = await BaseUser.insert_one(username='plain-name', password=PASSWORD)
        assert (await forgot(client, username=user.username)).status_code == 202
        assert (await forgot(client, username=plain.username)).status_code == 202
        token = await delivered_token(app, smtp_server, user.username, 'reset')
        assert (await reset(client, token)).status_code == 204
        refused = await forgot(client, email=user.username)
        assert refused.status_code == 400 and 'username' in refused.json()['detail']
