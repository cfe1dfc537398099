"""Whatever a client sends in place of a credential, a name or an mfa_token: a 400 or 401 with a detail, never a 500."""

from __future__ import annotations

import copy

import pytest

from tests.accounts.conftest import bearer
from tests.accounts.passkeys.conftest import login_options, user_with_passkey
from tests.passkeys_authenticator import SoftAuthenticator

pytestmark = pytest.mark.asyncio

#: One value of every JSON type, and the awkward ones of each.
JUNK = [None, True, False, 0, -1, 2**70, 1.5, '', 'x', 'A' * 5000, '!!not base64!!', [], [1, 'a'], {}, {'a': None}]
REGISTRATION_FIELDS = [
    (),
    ('id',),
    ('rawId',),
    ('type',),
    ('response',),
    ('response', 'clientDataJSON'),
    ('response', 'attestationObject'),
    ('response', 'transports'),
    ('response', 'authenticatorData'),
    ('response', 'publicKey'),
    ('response', 'publicKeyAlgorithm'),
    ('clientExtensionResults',),
    ('authenticatorAttachment',),
]
#: Members a server may do without: junk there may be refused or ignored (but never a 500).
IGNORABLE = {
    ('clientExtensionResults',),
    ('authenticatorAttachment',),
    ('response', 'transports'),
    ('response', 'authenticatorData'),
    ('response', 'publicKey'),
    ('response', 'publicKeyAlgorithm'),
}
LOGIN_FIELDS = [
    (),
    ('id',),
    ('rawId',),
    ('type',),
    ('response',),
    ('response', 'clientDataJSON'),
    ('response', 'authenticatorData'),
    ('response', 'signature'),
    ('response', 'userHandle'),
]


@pytest.fixture
def store(tmp_path) -> tuple[dict, None]:
    return {'path': str(tmp_path / 'passkeys.sqlite3')}, None


def bent(credential: dict, path: tuple[str, ...], value: object) -> object:
    if not path:
        return value
    changed = copy.deepcopy(credential)
    holder = changed
    for key in path[:-1]:
        holder = holder[key]
    holder[path[-1]] = value
    return changed


def answered_with_a_detail(response, statuses: set[int]) -> bool:
    return response.status_code in statuses and isinstance(response.json().get('detail'), str)


async def test_junk_in_every_field_of_a_registration_is_a_400(client):
    tokens, _, _ = await user_with_passkey(client)
    for path in REGISTRATION_FIELDS:
        for value in JUNK:
            options = (await client.post('/auth/passkeys/register/options', headers=bearer(tokens))).json()
            credential = SoftAuthenticator().create(options)
            body = {'credential': bent(credential, path, value)}
            response = await client.post('/auth/passkeys/register', json=body, headers=bearer(tokens))
            if path in IGNORABLE:
                assert response.status_code in (201, 400), (path, value, response.text)
            else:
                assert answered_with_a_detail(response, {400}), (path, value, response.text)


async def test_junk_in_every_field_of_a_login_is_a_401(client, clock):
    _, device, _ = await user_with_passkey(client)
    for path in LOGIN_FIELDS:
        for value in JUNK:
            clock.advance(301)  # past the per-address limit's window: every attempt is looked at
            credential = device.get(await login_options(client))
            response = await client.post('/auth/passkeys/login', json={'credential': bent(credential, path, value)})
            assert answered_with_a_detail(response, {401}), (path, value, response.text)


async def test_junk_as_the_name_is_a_400(client):
    tokens, _, view = await user_with_passkey(client)
    for value in [True, 0, 1.5, '', '   ', 'x' * 65, 'tab\there', [], {}]:
        response = await client.patch(f'/auth/passkeys/{view["id"]}', json={'name': value}, headers=bearer(tokens))
        assert answered_with_a_detail(response, {400}), (value, response.text)


async def test_junk_as_the_mfa_token_is_a_401(client):
    _, device, _ = await user_with_passkey(client)
    for value in [True, 0, 1.5, '', 'x', 'A' * 43, [], {}]:
        options = await client.post('/auth/passkeys/login/options', json={'mfa_token': value})
        assert answered_with_a_detail(options, {401}), (value, options.text)
        credential = device.get(await login_options(client))
        response = await client.post('/auth/passkeys/login', json={'mfa_token': value, 'credential': credential})
        assert answered_with_a_detail(response, {401}), (value, response.text)


async def test_a_body_that_is_not_an_object_is_refused_with_a_detail(client):
    tokens, _, _ = await user_with_passkey(client)
    for body in [None, 1, 'x', [], True]:
        response = await client.post('/auth/passkeys/login', json=body)
        assert 400 <= response.status_code < 500 and response.json()['detail'], response.text
        response = await client.post('/auth/passkeys/register', json=body, headers=bearer(tokens))
        assert 400 <= response.status_code < 500 and response.json()['detail'], response.text
