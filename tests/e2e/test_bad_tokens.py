"""Every way a Bearer credential can be wrong: a 401 with a JSON detail and a challenge; the handler never runs.

GET /me would return the user; a body that is exactly ``{"detail": ...}``
shows the handler did not run. No 401 ever echoes the credential.
"""

from __future__ import annotations

import time

import httpx
import pytest

from tests.e2e.helpers import (
    assert_refused,
    claims_for,
    new_user,
    sign,
    unsigned_token,
    with_payload,
)
from tests.e2e.server import ExampleServer, random_secret

pytestmark = pytest.mark.server


def refused(client: httpx.Client, authorization: str | bytes | None, credential: str | None = None) -> str:
    headers = {} if authorization is None else {'Authorization': authorization}
    response = client.get('/me', headers=headers)
    return assert_refused(response, credential=credential)


def test_missing_authorization_header(client: httpx.Client) -> None:
    response = client.get('/me')
    assert_refused(response)
    assert 'error=' not in response.headers['www-authenticate']  # RFC 6750 3.1: no error code without credentials


def test_bearer_alone(client: httpx.Client) -> None:
    refused(client, 'Bearer')


def test_bearer_with_three_parts(client: httpx.Client) -> None:
    user = new_user(client, 'threeparts')
    refused(client, f'Bearer {user.access_token} extra', credential=user.access_token)
    refused(client, 'Bearer a b', credential='a b')


def test_basic_scheme(client: httpx.Client) -> None:
    refused(client, 'Basic xyz', credential='xyz')


def test_token_scheme(client: httpx.Client) -> None:
    user = new_user(client, 'tokenscheme')
    refused(client, f'Token {user.access_token}', credential=user.access_token)


def test_non_latin1_bytes_in_token(client: httpx.Client) -> None:
    raw = b'\xe9\xff\xfe\x80abc.\xc3\xa9.\xff'
    response = client.get('/me', headers={b'Authorization': b'Bearer ' + raw})
    assert_refused(response, credential=raw.decode('latin-1'))


def test_not_enough_segments(client: httpx.Client) -> None:
    refused(client, 'Bearer notajwt', credential='notajwt')
    refused(client, 'Bearer abc.def', credential='abc.def')


def test_junk_token_with_three_segments(client: httpx.Client) -> None:
    refused(client, 'Bearer aaaa.bbbb.cccc', credential='aaaa.bbbb.cccc')


def test_expired_token(client: httpx.Client, example_server: ExampleServer) -> None:
    user = new_user(client, 'expired')
    now = int(time.time())
    token = sign(claims_for(user.id, iat=now - 7200, exp=now - 3600), example_server.secret_key)
    detail = refused(client, f'Bearer {token}', credential=token)
    assert 'expired' in detail.lower()


def test_token_not_yet_valid(client: httpx.Client, example_server: ExampleServer) -> None:
    user = new_user(client, 'nbf')
    token = sign(claims_for(user.id, nbf=int(time.time()) + 3600), example_server.secret_key)
    refused(client, f'Bearer {token}', credential=token)


def test_token_signed_with_another_key(client: httpx.Client) -> None:
    user = new_user(client, 'wrongkey')
    token = sign(claims_for(user.id), random_secret())
    refused(client, f'Bearer {token}', credential=token)


def test_alg_none_token(client: httpx.Client) -> None:
    user = new_user(client, 'algnone')
    token = unsigned_token(claims_for(user.id))
    refused(client, f'Bearer {token}', credential=token)


def test_alg_none_token_with_the_signature_of_a_real_token(client: httpx.Client) -> None:
    user = new_user(client, 'algnonesig')
    _header, payload, signature = user.access_token.split('.')
    token = unsigned_token({}).split('.')[0] + f'.{payload}.{signature}'
    refused(client, f'Bearer {token}', credential=token)


@pytest.mark.filterwarnings('ignore::jwt.warnings.InsecureKeyLengthWarning')
def test_hs512_token_when_hs256_is_configured(client: httpx.Client, example_server: ExampleServer) -> None:
    user = new_user(client, 'hs512')
    token = sign(claims_for(user.id), example_server.secret_key, algorithm='HS512')
    refused(client, f'Bearer {token}', credential=token)


def test_tampered_payload(client: httpx.Client) -> None:
    victim = new_user(client, 'victim')
    attacker = new_user(client, 'attacker')
    token = with_payload(attacker.access_token, user_id=victim.id)
    refused(client, f'Bearer {token}', credential=token)


def test_refresh_token_as_access_token(client: httpx.Client) -> None:
    user = new_user(client, 'refreshasaccess')
    refused(client, f'Bearer {user.refresh_token}', credential=user.refresh_token)


def test_token_without_user_id(client: httpx.Client, example_server: ExampleServer) -> None:
    token = sign(claims_for(None), example_server.secret_key)
    refused(client, f'Bearer {token}', credential=token)


def test_token_for_a_user_that_does_not_exist(client: httpx.Client, example_server: ExampleServer) -> None:
    token = sign(claims_for('ffffffffffffffffffffffff'), example_server.secret_key)
    refused(client, f'Bearer {token}', credential=token)


def test_revoked_token(client: httpx.Client) -> None:
    user = new_user(client, 'revoked')
    assert client.post('/auth/logout', headers=user.bearer).status_code == 200
    detail = refused(client, f'Bearer {user.access_token}', credential=user.access_token)
    assert 'revoked' in detail.lower()


def test_a_valid_token_is_accepted_by_the_same_checks(client: httpx.Client, example_server: ExampleServer) -> None:
    """The crafted tokens above fail for their one defect: the same recipe, correct, is accepted."""
    user = new_user(client, 'control')
    token = sign(claims_for(user.id, cv=user.credential_version), example_server.secret_key)
    response = client.get('/me', headers={'Authorization': f'Bearer {token}'})
    assert response.status_code == 200, response.text
    assert response.json() == {'id': user.id, 'username': user.username}


@pytest.mark.parametrize(
    'claim, value',
    [
        ('exp', '9999999999'),
        ('exp', True),
        ('exp', 10**400),
        ('exp', [9999999999]),
        ('iat', '1700000000'),
        ('iat', True),
        ('iat', None),
        ('nbf', '0'),
        ('nbf', False),
        ('nbf', 10**400),
    ],
    ids=lambda value: repr(value)[:16],
)
def test_a_time_claim_that_is_not_a_number_is_refused_every_time(
    client: httpx.Client,
    example_server: ExampleServer,
    claim: str,
    value: object,
) -> None:
    """Signed with the real key: a string, a boolean or a huge integer is a 401, on the first and every later use."""
    user = new_user(client, 'timeclaim')
    claims = claims_for(user.id)
    claims[claim] = value
    token = sign(claims, example_server.secret_key)
    for _ in range(3):
        refused(client, f'Bearer {token}', credential=token)
