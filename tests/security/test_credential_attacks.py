"""Hostile requests at credentials and sessions, through the hostile suite's real uvicorn.

- Basic brute force: wrong passwords through ``GET /basic/me`` get 401 up to the login
  limit (5 per username from one address), then 429 with ``Retry-After``, the right password
  included, on the Basic route and on ``/auth/login`` alike.
- Sessions after a password change: access, refresh and cookie tokens of every earlier session
  are refused (the refresh tokens again and again), and so is a `SessionAuth` session; the
  session that changed the password goes on, and a login with the new password works.
- Time claims: ``exp``, ``iat`` and ``nbf`` as strings, booleans, huge or nested values, signed
  with the server's own key, are refused every time (never a 200 and then a 500); finite
  numbers, floats included, are NumericDates and work.
- Signup enumeration: a taken username is 409 until the address has had its 50, then 429.

Each attacking "client" is its own address in ``X-Forwarded-For`` (the example trusts the
loopback proxy), from the documentation range 203.0.113.0/24 (nothing is sent there), so the
counters of one family never meet those of another, or of the rest of the suite. Every
request goes through `Attacker`; each test checks how many it sent.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.e2e.helpers import basic, claims_for, unique_username
from tests.security import corpus
from tests.security.attack import TALLY, Attacker

pytestmark = pytest.mark.server

PASSWORD = 'hostile credentials passphrase'
LOGIN_LIMIT = 5  # the example's LOGIN_THROTTLE max_failures
ADDRESS_LIMIT = 50  # and max_failures_per_address
_addresses = (f'203.0.113.{n}' for n in itertools.count(1))


def sent_by(category_prefix: str) -> int:
    return sum(n for name, n in TALLY.by_category.items() if name.startswith(category_prefix))


@contextmanager
def sending(category_prefix: str, at_least: int) -> Iterator[None]:
    """The block sends at least `at_least` requests of its family (counted in the suite's tally)."""
    before = sent_by(category_prefix)
    yield
    sent = sent_by(category_prefix) - before
    assert sent >= at_least, f'{category_prefix}: {sent} requests, expected at least {at_least}'


def from_address(address: str, **headers: str) -> dict[str, str]:
    return {'X-Forwarded-For': address, **headers}


def new_account(attacker: Attacker, category: str) -> tuple[str, dict]:
    username = unique_username('cred')
    response = attacker.http_request(
        f'control.{category}',
        'POST',
        '/auth/signup',
        headers=from_address(next(_addresses)),
        json={'username': username, 'password': PASSWORD},
    )
    assert response.status_code == 201, response.text
    return username, response.json()


def login(attacker: Attacker, category: str, username: str, password: str = PASSWORD) -> dict:
    response = attacker.http_request(
        f'control.{category}',
        'POST',
        '/auth/login',
        headers=from_address(next(_addresses)),
        json={'username': username, 'password': password},
    )
    assert response.status_code == 200, response.text
    return response.json()


def assert_429(response) -> None:
    assert response.status_code == 429, response.text
    assert 1 <= int(response.headers['retry-after']) <= 300
    assert set(response.json()) == {'detail'}


# -- Basic brute force --------------------------------------------------------------------------

GUESSES = [
    'wrong',
    '',
    ':',
    'a:b:c',
    PASSWORD.upper(),
    PASSWORD + ' ',
    'пароль',
    '密码',
    '\t',
    'x' * 300,
    'null',
    '%00',
    '" or 1=1 --',
    'admin',
    '123456',
    PASSWORD[:-1],
]


def test_basic_brute_force_is_refused_with_429_on_the_basic_route_and_at_login(
    attacker: Attacker,
) -> None:
    victims = 8
    with sending('credentials.basic', victims * 22):
        for _ in range(victims):
            username, _ = new_account(attacker, 'credentials.basic')
            address = next(_addresses)
            for attempt, guess in enumerate(itertools.islice(itertools.cycle(GUESSES), 20)):
                response = attacker.http_request(
                    'credentials.basic', 'GET', '/basic/me', headers=from_address(address, **basic(username, guess))
                )
                if attempt < LOGIN_LIMIT:
                    assert response.status_code == 401, response.text
                    assert response.headers['www-authenticate'].startswith('Basic')
                else:
                    assert_429(response)
            # The right password from the guessing address: still 429, on Basic and at login.
            assert_429(
                attacker.http_request(
                    'credentials.basic', 'GET', '/basic/me', headers=from_address(address, **basic(username, PASSWORD))
                )
            )
            assert_429(
                attacker.http_request(
                    'credentials.basic',
                    'POST',
                    '/auth/login',
                    headers=from_address(address),
                    json={'username': username, 'password': PASSWORD},
                )
            )
            # The owner, elsewhere, gets in.
            owner = attacker.http_request(
                'control.credentials.basic',
                'GET',
                '/basic/me',
                headers=from_address(next(_addresses), **basic(username, PASSWORD)),
            )
            assert owner.status_code == 200, owner.text


# -- sessions after a password change -----------------------------------------------------------


def test_every_earlier_session_is_refused_after_a_password_change(
    attacker: Attacker,
) -> None:
    users = 10
    with sending('credentials.after-change', users * 9):
        for number in range(users):
            username, _ = new_account(attacker, 'credentials.after-change')
            current = login(attacker, 'credentials.after-change', username)
            other = login(attacker, 'credentials.after-change', username)
            spent = other['refresh_token']
            rotated = attacker.http_request(
                'control.credentials.after-change', 'POST', '/auth/refresh', json={'refresh_token': spent}
            ).json()
            session = attacker.http_request(
                'control.credentials.after-change',
                'POST',
                '/session/login',
                headers=from_address(next(_addresses), **basic(username, PASSWORD)),
            )
            sessionid = session.cookies['sessionid']
            new_password = f'{PASSWORD} {number}'
            changed = attacker.http_request(
                'control.credentials.after-change',
                'POST',
                '/auth/password/change',
                headers={'Authorization': f'Bearer {current["access_token"]}'},
                json={'current_password': PASSWORD, 'new_password': new_password},
            )
            assert changed.status_code == 200, changed.text
            for token in (rotated['refresh_token'], spent, rotated['refresh_token']):
                attacker.protected('credentials.after-change', 'POST', '/auth/refresh', json={'refresh_token': token})
            for token in (other['access_token'], rotated['access_token']):
                attacker.protected(
                    'credentials.after-change', 'GET', '/me', headers={'Authorization': f'Bearer {token}'}
                )
                attacker.protected(
                    'credentials.after-change', 'GET', '/whoami', headers={'Cookie': f'access_token={token}'}
                )
            attacker.protected(
                'credentials.after-change', 'GET', '/session/me', headers={'Cookie': f'sessionid={sessionid}'}
            )
            attacker.protected(
                'credentials.after-change', 'POST', '/auth/login', json={'username': username, 'password': PASSWORD}
            )
            # The session that made the change goes on; the new password logs in.
            mine = attacker.http_request(
                'control.credentials.after-change',
                'GET',
                '/me',
                headers={'Authorization': f'Bearer {current["access_token"]}'},
            )
            assert mine.status_code == 200, mine.text
            login(attacker, 'credentials.after-change', username, new_password)


# -- time claims --------------------------------------------------------------------------------

NOT_NUMBERS = [
    '9999999999',
    '1e10',
    ' 9999999999',
    '0x2540BE3FF',
    True,
    False,
    None,
    [9999999999],
    {'$numberLong': '9999999999'},
    10**400,
    -(10**400),
    2**63,
    1e300,
    -1e300,
]


def test_time_claims_that_are_not_numbers_are_refused_every_time(
    attacker: Attacker,
    secret_key: str,
    victims,
) -> None:
    with sending('credentials.time-claims', 3 * len(NOT_NUMBERS) * 3):
        for claim in ('exp', 'iat', 'nbf'):
            for value in NOT_NUMBERS:
                claims = claims_for(victims.alice.id)
                claims[claim] = value
                token = corpus.hs_sign(b'{"alg":"HS256","typ":"JWT"}', json.dumps(claims).encode(), secret_key.encode())
                for _ in range(2):
                    attacker.protected(
                        'credentials.time-claims', 'GET', '/me', headers={'Authorization': f'Bearer {token}'}
                    )
                refresh_claims = {**claims, 'token_type': 'refresh'}
                refresh = corpus.hs_sign(
                    b'{"alg":"HS256","typ":"JWT"}', json.dumps(refresh_claims).encode(), secret_key.encode()
                )
                attacker.protected('credentials.time-claims', 'POST', '/auth/refresh', json={'refresh_token': refresh})


def test_time_claims_that_are_finite_numbers_are_accepted(
    attacker: Attacker,
    secret_key: str,
    victims,
) -> None:
    with sending('control.credentials.time-claims', 8):
        now = time.time()
        for overrides in (
            {'exp': now + 3600.5},
            {'iat': now - 0.25},
            {'nbf': now - 10},
            {'nbf': int(now) - 1},
            {'exp': int(now) + 60, 'iat': int(now)},
            {'iat': 0},
            {'nbf': -5},
            {'exp': 2**40},
        ):
            claims = claims_for(victims.alice.id, cv=victims.alice.credential_version, **overrides)
            token = corpus.hs_sign(b'{"alg":"HS256","typ":"JWT"}', json.dumps(claims).encode(), secret_key.encode())
            response = attacker.http_request(
                'control.credentials.time-claims', 'GET', '/me', headers={'Authorization': f'Bearer {token}'}
            )
            assert response.status_code == 200, (overrides, response.text)


# -- signup enumeration -------------------------------------------------------------------------


def test_signup_of_taken_usernames_is_throttled_per_address(attacker: Attacker) -> None:
    taken = [new_account(attacker, 'credentials.signup')[0] for _ in range(3)]
    with sending('credentials.signup', ADDRESS_LIMIT + 12):
        address = next(_addresses)
        spellings = itertools.cycle([str.upper, str.title, str.lower, lambda name: name.replace('c', '\uff43', 1)])
        for attempt in range(ADDRESS_LIMIT + 10):
            name = next(spellings)(taken[attempt % len(taken)])
            response = attacker.http_request(
                'credentials.signup',
                'POST',
                '/auth/signup',
                headers=from_address(address),
                json={'username': name, 'password': PASSWORD},
            )
            if attempt < ADDRESS_LIMIT:
                assert response.status_code == 409, response.text
            else:
                assert_429(response)
        # Refused for any name now, a new one included; another address is not.
        assert_429(
            attacker.http_request(
                'credentials.signup',
                'POST',
                '/auth/signup',
                headers=from_address(address),
                json={'username': unique_username('fresh'), 'password': PASSWORD},
            )
        )
        other = attacker.http_request(
            'credentials.signup',
            'POST',
            '/auth/signup',
            headers=from_address(next(_addresses)),
            json={'username': taken[0], 'password': PASSWORD},
        )
        assert other.status_code == 409, other.text
