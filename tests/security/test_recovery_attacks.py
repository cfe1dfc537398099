"""Attacks on password reset and address verification: forged, spent and misdirected tokens, account probes.

Everything goes through the hostile server (a real uvicorn), whose mail
reaches the test SMTP server; the real tokens the attacks misuse are read
from there. The attacker's own requests come from 127.0.0.1 and are
counted by the suite; the victims' legitimate requests come from
addresses of their own (127.0.1.N), so the per-address limits the attacks
run into never stop the controls.
"""

from __future__ import annotations

import itertools
import re
import statistics
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from panther_like.login_state.throttle import ActionLimit
from tests.e2e.server import ExampleServer
from tests.mail_server import SMTPServer
from tests.security.attack import Attacker

pytestmark = pytest.mark.server

LINK = re.compile(r'https://app\.example\.com/(reset|verify)#token=([A-Za-z0-9_-]{43})')
ROUTES = ('/auth/password/forgot', '/auth/password/reset', '/auth/verify')
_addresses = (f'127.0.1.{n}' for n in itertools.count(1))
PER_ACCOUNT = ActionLimit().per_subject_and_address  # from one address
#: Every real token the tests were mailed; the log scan at the end looks for each.
MAILED_TOKENS: list[str] = []


@dataclass
class Account:
    username: str
    password: str
    email: str


@contextmanager
def own_address(server: ExampleServer) -> Iterator[httpx.Client]:
    """A well-behaved client from a loopback address no other test uses."""
    transport = httpx.HTTPTransport(local_address=next(_addresses))
    with httpx.Client(base_url=server.url, transport=transport, timeout=15.0) as client:
        yield client


def sign_up(client: httpx.Client) -> Account:
    username = f'victim_{uuid.uuid4().hex[:12]}'
    account = Account(username, f'pw-{uuid.uuid4().hex}', f'{username}@example.com')
    body = {'username': account.username, 'password': account.password, 'email': account.email}
    assert client.post('/auth/signup', json=body).status_code == 201
    return account


def mailed_token(smtp_server: SMTPServer, to: str, kind: str, count: int = 1) -> str:
    message = smtp_server.wait_for(to, count=count)[count - 1]
    found = LINK.search(message.get_content())
    assert found is not None and found.group(1) == kind
    MAILED_TOKENS.append(found.group(2))
    return found.group(2)


def reset_token_for(client: httpx.Client, smtp_server: SMTPServer, account: Account) -> str:
    count = len(smtp_server.messages(account.email)) + 1
    assert client.post('/auth/password/forgot', json={'username': account.username}).status_code == 202
    return mailed_token(smtp_server, account.email, 'reset', count)


def bearer(client: httpx.Client, account: Account) -> dict[str, str]:
    response = client.post('/auth/login', json={'username': account.username, 'password': account.password})
    assert response.status_code == 200, response.text
    return {'Authorization': f'Bearer {response.json()["access_token"]}'}


def verify_token_for(client: httpx.Client, smtp_server: SMTPServer, account: Account) -> str:
    count = len(smtp_server.messages(account.email)) + 1
    assert client.post('/auth/verify/request', headers=bearer(client, account)).status_code == 202
    return mailed_token(smtp_server, account.email, 'verify', count)


def can_log_in(client: httpx.Client, account: Account, password: str) -> bool:
    return client.post('/auth/login', json={'username': account.username, 'password': password}).status_code == 200


# -- forged tokens and hostile bodies ----------------------------------------------------------------------

TOKENS = st.one_of(st.from_regex(r'[A-Za-z0-9_-]{43}', fullmatch=True), st.text(max_size=300))


@given(token=TOKENS)
def test_forged_reset_tokens_are_refused(attacker: Attacker, token: str) -> None:
    response = attacker.http_request(
        'recovery: forged reset token',
        'POST',
        '/auth/password/reset',
        json={'token': token, 'new_password': 'attacker-chosen-password'},
    )
    assert response.status_code in (400, 422)  # 422: a token longer than any the server issues


@given(token=TOKENS)
def test_forged_verification_tokens_are_refused(attacker: Attacker, token: str) -> None:
    response = attacker.http_request(
        'recovery: forged verification token', 'POST', '/auth/verify', json={'token': token}
    )
    assert response.status_code in (400, 422)  # 422: a token longer than any the server issues


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=50),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)
FIELDS = st.fixed_dictionaries(
    {},
    optional={
        'username': JSON,
        'email': JSON,
        'token': JSON,
        'new_password': JSON,
        'is_superuser': JSON,
    },
)


@given(route=st.sampled_from(ROUTES), document=st.one_of(JSON, FIELDS))
def test_hostile_bodies_to_the_recovery_routes_are_answered_never_an_error(
    attacker: Attacker,
    route: str,
    document,
) -> None:
    response = attacker.http_request('recovery: hostile body', 'POST', route, json=document)
    allowed = {202, 400, 422, 429} if route.endswith('forgot') else {400, 422}
    assert response.status_code in allowed, (response.status_code, response.text)


# -- real tokens misused ---------------------------------------------------------------------------------


def test_a_spent_reset_token_never_works_again(
    attacker: Attacker,
    hostile_server: ExampleServer,
    smtp_server: SMTPServer,
) -> None:
    with own_address(hostile_server) as client:
        account = sign_up(client)
        token = reset_token_for(client, smtp_server, account)
        assert (
            client.post(
                '/auth/password/reset', json={'token': token, 'new_password': 'owner-new-password-1'}
            ).status_code
            == 204
        )
    for attempt in range(100):
        response = attacker.http_request(
            'recovery: spent token',
            'POST',
            '/auth/password/reset',
            json={'token': token, 'new_password': f'attacker-password-{attempt}'},
        )
        assert response.status_code == 400
    with own_address(hostile_server) as client:
        assert can_log_in(client, account, 'owner-new-password-1')


def test_racing_one_token_from_twenty_connections_wins_once(
    hostile_server: ExampleServer,
    smtp_server: SMTPServer,
) -> None:
    with own_address(hostile_server) as client:
        account = sign_up(client)
        token = reset_token_for(client, smtp_server, account)

    def use(index: int) -> int:
        attacker = Attacker(hostile_server.url, hostile_server.port)
        try:
            return attacker.http_request(
                'recovery: token race',
                'POST',
                '/auth/password/reset',
                json={'token': token, 'new_password': f'racing-password-{index}'},
            ).status_code
        finally:
            attacker.close()

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(use, range(20)))
    assert sorted(statuses) == [204] + [400] * 19
    with own_address(hostile_server) as client:
        assert can_log_in(client, account, f'racing-password-{statuses.index(204)}')


def test_a_token_of_one_purpose_never_serves_the_other(
    attacker: Attacker,
    hostile_server: ExampleServer,
    smtp_server: SMTPServer,
) -> None:
    with own_address(hostile_server) as client:
        account = sign_up(client)
        reset = reset_token_for(client, smtp_server, account)
        verify = verify_token_for(client, smtp_server, account)
    for _ in range(50):
        assert (
            attacker.http_request('recovery: wrong purpose', 'POST', '/auth/verify', json={'token': reset}).status_code
            == 400
        )
        assert (
            attacker.http_request(
                'recovery: wrong purpose',
                'POST',
                '/auth/password/reset',
                json={'token': verify, 'new_password': 'attacker-password-1'},
            ).status_code
            == 400
        )
    with own_address(hostile_server) as client:  # both still do what they were issued for
        assert client.post('/auth/verify', json={'token': verify}).status_code == 204
        assert (
            client.post(
                '/auth/password/reset', json={'token': reset, 'new_password': 'owner-new-password-2'}
            ).status_code
            == 204
        )


def test_another_users_verification_token_verifies_nobody(
    attacker: Attacker,
    hostile_server: ExampleServer,
    smtp_server: SMTPServer,
) -> None:
    with own_address(hostile_server) as client:
        owner, mallory = sign_up(client), sign_up(client)
        token = verify_token_for(client, smtp_server, owner)
        as_mallory = bearer(client, mallory)
    for _ in range(20):
        response = attacker.http_request(
            "recovery: another user's token", 'POST', '/auth/verify', json={'token': token}, headers=as_mallory
        )
        assert response.status_code == 400
    with own_address(hostile_server) as client:
        # Mallory is still unverified (she may ask for a link), the owner's link still works.
        assert client.post('/auth/verify/request', headers=bearer(client, mallory)).status_code == 202
        assert client.post('/auth/verify', json={'token': token}).status_code == 204


# -- account probes --------------------------------------------------------------------------------------


def probe(client: httpx.Client, name: str) -> tuple[httpx.Response, float]:
    started = time.perf_counter()
    response = client.post('/auth/password/forgot', json={'username': name})
    return response, time.perf_counter() - started


def test_probes_for_existing_and_unknown_accounts_get_identical_answers(
    attacker: Attacker,
    hostile_server: ExampleServer,
) -> None:
    with own_address(hostile_server) as client:
        accounts = [sign_up(client) for _ in range(20)]
    for index, account in enumerate(accounts):
        with own_address(hostile_server) as client:  # a fresh address: no per-address limit in the way
            known, _ = probe(client, account.username)
            unknown, _ = probe(client, f'ghost_{uuid.uuid4().hex[:12]}')
        for response in (known, unknown):
            attacker._check(
                'recovery: account probe',
                response.status_code,
                response.headers['content-type'],
                response.content,
                f'probe {index}',
            )
        assert (known.status_code, known.content) == (unknown.status_code, unknown.content) == (202, known.content)
        assert sorted(known.headers) == sorted(unknown.headers)


def test_probes_for_existing_and_unknown_accounts_take_about_as_long(hostile_server: ExampleServer) -> None:
    """Medians of 60 probes each, interleaved; a generous bound, since a shared machine is noisy."""
    with own_address(hostile_server) as client:
        accounts = [sign_up(client) for _ in range(60)]
    known_times, unknown_times = [], []
    for batch in range(0, 60, 10):  # 21 requests per address: under its limit (30 by default)
        with own_address(hostile_server) as client:
            probe(client, 'warm-up-' + uuid.uuid4().hex)
            for account in accounts[batch : batch + 10]:
                known_times.append(probe(client, account.username)[1])
                unknown_times.append(probe(client, f'ghost_{uuid.uuid4().hex[:12]}')[1])
    known, unknown = statistics.median(known_times), statistics.median(unknown_times)
    assert max(known, unknown) / min(known, unknown) < 2.0, (known, unknown)


def test_the_throttle_treats_existing_and_unknown_accounts_alike(hostile_server: ExampleServer) -> None:
    with own_address(hostile_server) as client:
        account = sign_up(client)
        for name in (account.username, f'ghost_{uuid.uuid4().hex[:12]}'):
            statuses = [probe(client, name)[0].status_code for _ in range(PER_ACCOUNT + 1)]
            assert statuses == [202] * PER_ACCOUNT + [429], name


# -- what the attacks left -----------------------------------------------------------------------------------


@pytest.mark.after_attacks
def test_no_mailed_token_appears_in_the_server_log(hostile_server: ExampleServer) -> None:
    assert MAILED_TOKENS, 'control: the tests above were mailed real tokens'
    log = hostile_server.log()
    assert '"event":"password_reset"' in log  # control: the log holds the reset events
    assert not [token for token in MAILED_TOKENS if token in log]
