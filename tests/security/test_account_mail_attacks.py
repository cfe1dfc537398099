"""Hostile requests at what the account routes mail and verify, on a real uvicorn, per store layout.

The example project on the embedded store and on MongoDB with Redis, mailing to the test SMTP server,
with the default login throttle. Each client says who it is with ``X-Forwarded-For`` (the server trusts
127.0.0.1, as the example does), so every victim and every probe can come from an address of its own,
IPv6 networks included. Every hostile request goes through `Attacker` (no 5xx, no traceback, a JSON
``detail``); each test counts its bypasses and requires none:

- a verification racing an address change never verifies the new address;
- two reset links of one user used together reset the password once;
- a mailbox held by one account cannot be taken, in any case or spelling, nor its reset mail captured;
- one mailbox gets no more mail than documented, whatever route is asked and from wherever;
- a bad bearer on ``/auth/verify`` is a 401, never "anonymous";
- an IPv6 /48 gets one budget of failed logins, not one per /64.
"""

from __future__ import annotations

import itertools
import re
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass

import httpx
import pytest

from panther_like.settings.checks import ThrottleSettings
from tests.e2e.helpers import launch_per_store_layout
from tests.e2e.server import ExampleServer
from tests.mail_server import SMTPServer
from tests.security.attack import Attacker

pytestmark = pytest.mark.server

LINK = re.compile(r'https://app\.example\.com/(reset|verify)#token=([A-Za-z0-9_-]{43})')
PASSWORD = 'mail-attacks passphrase'
#: docs/security.md: what one mailbox may be sent in the first hour.
FIRST_HOUR = 26
_clients = (f'192.0.{n // 250 % 250}.{n % 250 + 1}' for n in itertools.count(uuid.uuid4().int % 10_000))


def fresh_client() -> dict[str, str]:
    """The header that makes the next request come from an address no other request used."""
    return {'X-Forwarded-For': next(_clients)}


@pytest.fixture(scope='module', params=['embedded', 'mongodb-redis'])
def mail_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, smtp_server: SMTPServer
) -> Iterator[ExampleServer]:
    yield from launch_per_store_layout(request, tmp_path_factory, 'accountmail', extra_env=smtp_server.example_env())


@pytest.fixture(scope='module')
def hostile(mail_server: ExampleServer) -> Iterator[Attacker]:
    with closing(Attacker(mail_server.url, mail_server.port)) as attacker:
        yield attacker


@dataclass
class Victim:
    username: str
    email: str
    bearer: dict[str, str]


def sign_up(server: ExampleServer, email: str | None = None) -> Victim:
    username = f'mailvictim{uuid.uuid4().hex[:10]}'
    email = email or f'{username}@example.com'
    with server.client() as client:
        body = {'username': username, 'password': PASSWORD, 'email': email}
        created = client.post('/auth/signup', json=body, headers=fresh_client())
        assert created.status_code == 201, created.text
        login = client.post('/auth/login', json={'username': username, 'password': PASSWORD}, headers=fresh_client())
        assert login.status_code == 200, login.text
    return Victim(username, email, {'Authorization': f'Bearer {login.json()["access_token"]}'})


def mailed_token(smtp_server: SMTPServer, to: str, kind: str, count: int) -> str:
    message = smtp_server.wait_for(to, count=count)[count - 1]
    found = LINK.search(message.get_content())
    assert found is not None and found.group(1) == kind
    return found.group(2)


def me(server: ExampleServer, victim: Victim) -> dict:
    with server.client() as client:
        response = client.get('/auth/me', headers=victim.bearer)
    assert response.status_code == 200, response.text
    return response.json()


# -- verification racing an address change ----------------------------------------------------------------


def _verify(hostile: Attacker, token: str) -> int:
    return hostile.http_request(
        'accounts.mail: verify racing an address change', 'POST', '/auth/verify', json={'token': token}
    ).status_code


def _change_address(hostile: Attacker, bearer: dict[str, str], address: str) -> int:
    return hostile.http_request(
        'accounts.mail: address change racing a verify', 'PATCH', '/auth/me', json={'email': address}, headers=bearer
    ).status_code


def _reset(hostile: Attacker, token: str) -> int:
    return hostile.http_request(
        'accounts.mail: two reset links at once',
        'POST',
        '/auth/password/reset',
        json={'token': token, 'new_password': f'racing-password-{uuid.uuid4().hex[:12]}'},
    ).status_code


def test_verifying_while_the_address_changes_never_verifies_the_new_address(
    mail_server: ExampleServer, hostile: Attacker, smtp_server: SMTPServer
) -> None:
    bypasses = 0
    for _ in range(6):
        victim = sign_up(mail_server)
        with mail_server.client() as client:
            asked = client.post('/auth/verify/request', headers={**victim.bearer, **fresh_client()})
            assert asked.status_code == 202, asked.text
        token = mailed_token(smtp_server, victim.email, 'verify', 1)
        new_address = f'other{uuid.uuid4().hex[:10]}@example.com'

        with ThreadPoolExecutor(max_workers=2) as pool:
            futures = [
                pool.submit(_verify, hostile, token),
                pool.submit(_change_address, hostile, victim.bearer, new_address),
            ]
            assert {future.result() for future in futures} <= {202, 204, 400}
        after = me(mail_server, victim)
        bypasses += after['is_verified'] and after['email'] == new_address
    assert bypasses == 0


# -- two reset links at once ----------------------------------------------------------------------------


def test_two_reset_links_used_at_once_reset_the_password_once(
    mail_server: ExampleServer, hostile: Attacker, smtp_server: SMTPServer
) -> None:
    bypasses = 0
    for _ in range(4):
        victim = sign_up(mail_server)
        with mail_server.client() as client:
            for _ in range(2):
                asked = client.post('/auth/password/forgot', json={'username': victim.username}, headers=fresh_client())
                assert asked.status_code == 202
        tokens = [mailed_token(smtp_server, victim.email, 'reset', count) for count in (1, 2)]

        with ThreadPoolExecutor(max_workers=2) as pool:
            statuses = sorted(pool.map(_reset, [hostile] * 2, tokens))
        assert statuses in ([204, 400], [400, 400])
        bypasses += statuses.count(204) > 1
    assert bypasses == 0


# -- one mailbox, one account ---------------------------------------------------------------------------


def _spellings(email: str) -> list[str]:
    local, domain = email.split('@')
    return [
        email.upper(),
        f'{local.title()}@{domain.upper()}',
        f'{local}@{domain.title()}',
        f'{local.upper()}@{domain}',
    ]


def test_another_account_cannot_take_a_mailbox_in_any_case(
    mail_server: ExampleServer, hostile: Attacker, smtp_server: SMTPServer
) -> None:
    victim = sign_up(mail_server)
    attacker = sign_up(mail_server)
    taken = 0
    for spelling in _spellings(victim.email):
        body = {'username': f'thief{uuid.uuid4().hex[:10]}', 'password': PASSWORD, 'email': spelling}
        created = hostile.http_request(
            'accounts.mail: signup with a held address', 'POST', '/auth/signup', json=body, headers=fresh_client()
        )
        taken += created.status_code == 201
        moved = hostile.http_request(
            'accounts.mail: PATCH me to a held address',
            'PATCH',
            '/auth/me',
            json={'email': spelling},
            headers={**attacker.bearer, **fresh_client()},
        )
        taken += moved.status_code == 200
        assert (created.status_code, moved.status_code) == (409, 409)
    assert taken == 0
    assert me(mail_server, attacker)['email'] == attacker.email


def test_a_reset_asked_for_in_another_case_reaches_the_owner_only(
    mail_server: ExampleServer, hostile: Attacker, smtp_server: SMTPServer
) -> None:
    victim = sign_up(mail_server)
    asked = hostile.http_request(
        'accounts.mail: forgot in another case',
        'POST',
        '/auth/password/forgot',
        json={'email': victim.email.upper()},
        headers=fresh_client(),
    )
    assert asked.status_code == 202
    assert len(smtp_server.wait_for(victim.email, count=1)) == 1
    assert smtp_server.messages(victim.email.upper()) == []


MALFORMED = [
    'plain',
    '@example.com',
    'ann@',
    'ann@@example.com',
    'ann@example',
    '.ann@example.com',
    'ann.@example.com',
    'a..nn@example.com',
    'ann@-example.com',
    'ann@example..com',
    'ann@exam ple.com',
    '"ann"@example.com',
    'ann(comment)@example.com',
    'Ann <ann@example.com>',
    'ann@example.com, bob@example.com',
    'ann@example.com\r\nBcc: all@example.com',
    'ánn@example.com',
    'x' * 65 + '@example.com',
    'ann@' + 'd' * 64 + '.com',
    'ann@' + '.'.join(['d' * 62] * 4) + '.com',
    'ann@xn--.com',
    'ann@\u202eexample.com',
    'ann\x00@example.com',
]


@pytest.mark.parametrize('address', MALFORMED)
def test_a_malformed_address_is_refused_at_signup_and_patch(
    mail_server: ExampleServer, hostile: Attacker, address: str
) -> None:
    body = {'username': f'odd{uuid.uuid4().hex[:10]}', 'password': PASSWORD, 'email': address}
    created = hostile.http_request(
        'accounts.mail: malformed address at signup', 'POST', '/auth/signup', json=body, headers=fresh_client()
    )
    assert created.status_code in (400, 422), created.text
    victim = sign_up(mail_server)
    moved = hostile.http_request(
        'accounts.mail: malformed address in PATCH me',
        'PATCH',
        '/auth/me',
        json={'email': address},
        headers={**victim.bearer, **fresh_client()},
    )
    assert moved.status_code in (400, 422), moved.text
    forgot = hostile.http_request(
        'accounts.mail: malformed address at forgot',
        'POST',
        '/auth/password/forgot',
        json={'email': address},
        headers=fresh_client(),
    )
    assert forgot.status_code in (202, 422)


# -- how much mail one mailbox gets ---------------------------------------------------------------------


def test_every_route_together_sends_one_mailbox_no_more_than_documented(
    mail_server: ExampleServer, hostile: Attacker, smtp_server: SMTPServer
) -> None:
    victim = sign_up(mail_server)
    requests = itertools.cycle(
        [
            ('/auth/password/forgot', {'username': victim.username}, {}),
            ('/auth/password/forgot', {'email': victim.email}, {}),
            ('/auth/password/forgot', {'email': victim.email.upper()}, {}),
            ('/auth/password/forgot', {'username': victim.username.upper()}, {}),
            ('/auth/verify/request', None, victim.bearer),
        ]
    )
    deadline = time.monotonic() + 20
    sent = 0
    while time.monotonic() < deadline and sent < 120:
        path, body, headers = next(requests)
        response = hostile.http_request(
            'accounts.mail: one mailbox from every route',
            'POST',
            path,
            json=body,
            headers={**headers, **fresh_client()},
        )
        assert response.status_code in (202, 429)
        sent += 1
        time.sleep(0.1)
    smtp_server.wait_for(victim.email, count=ThrottleSettings().max_failures)  # the first ones surely arrived
    time.sleep(1.0)  # and whatever else the outbox still had
    assert len(smtp_server.messages(victim.email)) <= FIRST_HOUR


# -- bad bearers on /auth/verify ------------------------------------------------------------------------


def test_a_bad_bearer_on_verify_is_a_401_and_verifies_nothing(
    mail_server: ExampleServer, hostile: Attacker, smtp_server: SMTPServer, tmp_path
) -> None:
    victim = sign_up(mail_server)
    with mail_server.client() as client:
        assert client.post('/auth/verify/request', headers={**victim.bearer, **fresh_client()}).status_code == 202
    token = mailed_token(smtp_server, victim.email, 'verify', 1)
    other = sign_up(mail_server)
    with mail_server.client() as client:
        assert client.post('/auth/logout', headers=other.bearer).status_code in (200, 204)
    bearers = [
        'garbage',
        'a.b.c',
        'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.',
        victim.bearer['Authorization'].split()[1] + 'x',
        other.bearer['Authorization'].split()[1],  # logged out
        'two words',
    ]
    accepted = 0
    for value in bearers:
        response = hostile.http_request(
            'accounts.mail: bad bearer on verify',
            'POST',
            '/auth/verify',
            json={'token': token},
            headers={'Authorization': f'Bearer {value}'},
        )
        accepted += response.status_code == 204
        assert response.status_code == 401, (value, response.text)
    assert accepted == 0 and not me(mail_server, victim)['is_verified']
    with mail_server.client() as client:
        assert client.post('/auth/verify', json={'token': token}).status_code == 204


# -- IPv6 networks --------------------------------------------------------------------------------------


def test_a_48_gets_one_budget_of_failed_logins_not_one_per_64(mail_server: ExampleServer, hostile: Attacker) -> None:
    network = f'2001:db8:{uuid.uuid4().int % 0xFFFF:x}'
    budget = ThrottleSettings().max_failures_per_network
    statuses = []
    for n in range(budget + 1):
        response = hostile.http_request(
            'accounts.mail: failed logins across the /64s of one /48',
            'POST',
            '/auth/login',
            json={'username': f'nobody{uuid.uuid4().hex[:10]}', 'password': 'a wrong guess'},
            headers={'X-Forwarded-For': f'{network}:{n + 1:x}::1'},
        )
        statuses.append(response.status_code)
    assert statuses[:budget] == [401] * budget
    assert statuses[-1] == 429
    elsewhere = httpx.post(
        f'{mail_server.url}/auth/login',
        json={'username': 'nobody', 'password': 'a wrong guess'},
        headers={'X-Forwarded-For': f'2001:db8:{(uuid.uuid4().int + 1) % 0xFFFF:x}:1::1'},
    )
    assert elsewhere.status_code == 401


# -- an address change: races, swaps, replays and junk at email/confirm --------------------------------------


def _confirm(hostile: Attacker, category: str, token: object, bearer: dict[str, str] | None = None) -> int:
    return hostile.http_request(
        category, 'POST', '/auth/email/confirm', json={'token': token}, headers={**(bearer or {}), **fresh_client()}
    ).status_code


def _ask_change(server: ExampleServer, victim: Victim, address: str) -> None:
    with server.client() as client:
        asked = client.patch('/auth/me', json={'email': address}, headers={**victim.bearer, **fresh_client()})
    assert asked.status_code == 202, asked.text


def test_a_confirmation_racing_a_second_change_and_a_thief_moves_the_address_only_by_its_link(
    mail_server: ExampleServer, hostile: Attacker, smtp_server: SMTPServer
) -> None:
    """Confirm, a second change of address and another account's claim of the new one, all at once.

    Whatever wins, the account holds its old address or the confirmed one (verified), never the second,
    unconfirmed one, and no mailbox ends up held by two accounts.
    """
    bypasses = 0
    for _ in range(6):
        victim, thief = sign_up(mail_server), sign_up(mail_server)
        wanted, second = (f'{name}{uuid.uuid4().hex[:10]}@example.com' for name in ('wanted', 'second'))
        _ask_change(mail_server, victim, wanted)
        token = mailed_token(smtp_server, wanted, 'verify', 1)
        with ThreadPoolExecutor(max_workers=3) as pool:
            futures = [
                pool.submit(_confirm, hostile, 'accounts.mail: confirm racing a change', token),
                pool.submit(_change_address, hostile, victim.bearer, second),
                pool.submit(_change_address, hostile, thief.bearer, wanted),
            ]
            assert {future.result() for future in futures} <= {200, 202, 204, 400, 409}
        mine, theirs = me(mail_server, victim), me(mail_server, thief)
        bypasses += mine['email'] == second
        bypasses += mine['email'] == wanted and not mine['is_verified']
        bypasses += mine['email'] == theirs['email'] == wanted
    assert bypasses == 0


def test_a_confirmation_link_works_once_and_for_no_other_account(
    mail_server: ExampleServer, hostile: Attacker, smtp_server: SMTPServer
) -> None:
    victim, other = sign_up(mail_server), sign_up(mail_server)
    wanted = f'once{uuid.uuid4().hex[:10]}@example.com'
    _ask_change(mail_server, victim, wanted)
    token = mailed_token(smtp_server, wanted, 'verify', 1)
    assert _confirm(hostile, 'accounts.mail: a link confirmed by another account', token, other.bearer) == 400
    assert me(mail_server, other)['email'] == other.email
    assert _confirm(hostile, 'accounts.mail: the link itself', token, victim.bearer) == 204
    replays = [_confirm(hostile, 'accounts.mail: a replayed link', token) for _ in range(20)]
    assert set(replays) == {400}
    assert me(mail_server, victim)['email'] == wanted


@pytest.mark.parametrize(
    'token',
    [
        '',
        'x',
        'A' * 43,
        'A' * 44,
        'A' * 10_000,
        '../../etc/passwd',
        '\u0000' * 43,
        0,
        -1,
        1e308,
        True,
        None,
        [],
        {},
        {'$ne': None},
        ['A' * 43],
    ],
)
def test_junk_tokens_at_email_confirm_are_refused_without_a_5xx(hostile: Attacker, token: object) -> None:
    for _ in range(10):
        status = _confirm(hostile, 'accounts.mail: junk at email/confirm', token)
        assert status in {400, 413, 422, 429}, status


@pytest.mark.parametrize(
    'body', [b'{"token": "\\ud800"}', b'{"token": "\xff\xfe"}', b'{"token": ', b'[]', b'"token"', b'\x00' * 64]
)
def test_junk_bodies_at_email_confirm_are_refused_without_a_5xx(hostile: Attacker, body: bytes) -> None:
    for _ in range(10):
        response = hostile.http_request(
            'accounts.mail: junk bodies at email/confirm',
            'POST',
            '/auth/email/confirm',
            content=body,
            headers={'Content-Type': 'application/json', **fresh_client()},
        )
        assert response.status_code in {400, 413, 422, 429}, response.text
