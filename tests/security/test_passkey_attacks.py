"""Attacks on passkeys: forged and mangled credentials, replays, another origin, another user's handle.

Against the hostile server (a real uvicorn running the example app, which turns passkeys on for the
origin http://localhost:8000). The victims' passkeys are made by the software authenticator. The
attacker sends from addresses of its own (127.0.6.N), the victims from others (127.7.N.N, a new one for
each login's options), so the per-address passkey limit the attacks run into stops neither the victims
nor the other files' controls.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.e2e.server import ExampleServer
from tests.passkeys_authenticator import SoftAuthenticator, unb64url
from tests.security.attack import Attacker
from tests.security.corpus import json_values

pytestmark = pytest.mark.server

ORIGIN = 'http://localhost:8000'
_addresses = (f'127.7.{n // 250}.{n % 250 + 1}' for n in itertools.count())
_attacker_addresses = (f'127.0.6.{n}' for n in itertools.count(1))
#: Any JSON value (no NaN or infinity: those are not JSON, and a client could not send them).
JSON = json_values
FIELDS = ('id', 'rawId', 'type', 'response', 'clientDataJSON', 'authenticatorData', 'signature', 'userHandle')


@dataclass
class Holder:
    """A user with one passkey, its own client and a fresh session."""

    server: ExampleServer
    client: httpx.Client
    device: SoftAuthenticator
    access_token: str

    @property
    def bearer(self) -> dict[str, str]:
        return {'Authorization': f'Bearer {self.access_token}'}

    def assertion(self, **bend: object) -> dict:
        with _client(self.server, next(_addresses)) as fresh:
            options = fresh.post('/auth/passkeys/login/options', json={})
        assert options.status_code == 200, options.text
        return self.device.get(options.json(), **bend)


def _client(server: ExampleServer, address: str) -> httpx.Client:
    return httpx.Client(base_url=server.url, transport=httpx.HTTPTransport(local_address=address), timeout=15.0)


def holder(server: ExampleServer) -> Holder:
    client = _client(server, next(_addresses))
    username, password = f'pk_{uuid.uuid4().hex[:12]}', f'pw-{uuid.uuid4().hex}'
    assert client.post('/auth/signup', json={'username': username, 'password': password}).status_code == 201
    tokens = client.post('/auth/login', json={'username': username, 'password': password}).json()
    bearer = {'Authorization': f'Bearer {tokens["access_token"]}'}
    device = SoftAuthenticator(ORIGIN)
    options = client.post('/auth/passkeys/register/options', headers=bearer)
    assert options.status_code == 200, options.text
    added = client.post('/auth/passkeys/register', json={'credential': device.create(options.json())}, headers=bearer)
    assert added.status_code == 201, added.text
    return Holder(server, client, device, tokens['access_token'])


@pytest.fixture(scope='module')
def passkey_attacker(hostile_server: ExampleServer) -> Iterator[Attacker]:
    with closing(Attacker(hostile_server.url, hostile_server.port)) as attacker:
        attacker.http.close()
        attacker.http = _client(hostile_server, next(_attacker_addresses))
        yield attacker


@pytest.fixture(scope='module')
def alice(hostile_server: ExampleServer) -> Iterator[Holder]:
    user = holder(hostile_server)
    with closing(user.client):
        yield user


@pytest.fixture(scope='module')
def bob(hostile_server: ExampleServer) -> Iterator[Holder]:
    user = holder(hostile_server)
    with closing(user.client):
        yield user


def _from_a_new_address(attacker: Attacker) -> Attacker:
    """The attacker, sending the next example from an address of its own.

    From one address, the login throttle answers 429 after 50 refusals, before the credential is even
    read: the examples after those would prove the throttle, not the checks they are meant to reach.
    """
    attacker.http.close()
    attacker.http = httpx.Client(
        base_url=attacker.base_url, transport=httpx.HTTPTransport(local_address=next(_addresses)), timeout=15.0
    )
    return attacker


@settings(max_examples=60)
@given(credential=JSON)
def test_forged_credentials_never_log_in(passkey_attacker: Attacker, credential: object) -> None:
    response = _from_a_new_address(passkey_attacker).http_request(
        'passkeys: forged credential', 'POST', '/auth/passkeys/login', json={'credential': credential}
    )
    assert response.status_code == 401, response.text


@settings(max_examples=60)
@given(field=st.sampled_from(FIELDS), value=JSON)
def test_a_mangled_assertion_never_logs_in(
    passkey_attacker: Attacker, alice: Holder, field: str, value: object
) -> None:
    credential = alice.assertion()
    (credential['response'] if field not in ('id', 'rawId', 'type', 'response') else credential)[field] = value
    response = _from_a_new_address(passkey_attacker).http_request(
        'passkeys: mangled assertion', 'POST', '/auth/passkeys/login', json={'credential': credential}
    )
    assert response.status_code == 401, response.text


@settings(max_examples=40)
@given(field=st.sampled_from(('id', 'rawId', 'type', 'response', 'clientDataJSON', 'attestationObject')), value=JSON)
def test_a_mangled_registration_adds_nothing(
    passkey_attacker: Attacker, bob: Holder, field: str, value: object
) -> None:
    options = bob.client.post('/auth/passkeys/register/options', headers=bob.bearer).json()
    credential = SoftAuthenticator(ORIGIN).create(options)
    (credential['response'] if field in ('clientDataJSON', 'attestationObject') else credential)[field] = value
    response = passkey_attacker.http_request(
        'passkeys: mangled registration',
        'POST',
        '/auth/passkeys/register',
        json={'credential': credential},
        headers=bob.bearer,
    )
    assert response.status_code == 400, response.text


def test_a_replayed_assertion_is_refused(passkey_attacker: Attacker, alice: Holder) -> None:
    credential = alice.assertion()
    with _client(alice.server, next(_addresses)) as fresh:
        assert fresh.post('/auth/passkeys/login', json={'credential': credential}).status_code == 200
    again = passkey_attacker.http_request(
        'passkeys: replayed assertion', 'POST', '/auth/passkeys/login', json={'credential': credential}
    )
    assert again.status_code in (401, 429)


def test_an_assertion_made_on_a_phishing_page_is_refused(passkey_attacker: Attacker, alice: Holder) -> None:
    credential = alice.assertion(origin='https://examp1e.com')
    response = passkey_attacker.http_request(
        'passkeys: phishing origin', 'POST', '/auth/passkeys/login', json={'credential': credential}
    )
    assert response.status_code in (401, 429)


def test_the_attackers_passkey_with_the_victims_handle_is_refused(
    passkey_attacker: Attacker, alice: Holder, bob: Holder
) -> None:
    alice_handle = next(iter(alice.device.credentials.values())).user_handle
    credential = bob.assertion(user_handle=alice_handle)
    response = passkey_attacker.http_request(
        'passkeys: swapped user handle', 'POST', '/auth/passkeys/login', json={'credential': credential}
    )
    assert response.status_code in (401, 429)
    assert unb64url(credential['response']['userHandle']) == alice_handle
