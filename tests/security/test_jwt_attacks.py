"""Forged, mangled and confused JWTs against GET /me, GET /whoami and POST /auth/refresh on a real uvicorn.

GET /me returns the user only when authentication succeeds, so any 200
to a token the server must not trust is a request that reached a
protected handler. Tokens signed with the server's own key but carrying
bad claims are checked against an oracle (`corpus.accepts`): the server
may be stricter than the oracle, never looser.
"""

from __future__ import annotations

import hashlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.e2e.server import random_secret
from tests.security import corpus
from tests.security.attack import Attacker
from tests.security.conftest import Victims

pytestmark = pytest.mark.server


def _header_safe(value: str) -> str:
    """What can travel in one header line at all (CR/LF would end it)."""
    return value.replace('\r', '').replace('\n', '')


def bearer(token: str) -> dict[str, str]:
    return {'Authorization': f'Bearer {token}'}


def test_the_victims_tokens_are_accepted(attacker: Attacker, victims: Victims) -> None:
    """Positive control: the tokens the attacks start from are good, so a refusal below is the attack's doing."""
    response = attacker.http_request('control', 'GET', '/me', headers=bearer(victims.alice.access_token))
    assert response.status_code == 200, response.text
    assert response.json() == {'id': victims.alice.id, 'username': victims.alice.username}


@given(data=st.data())
def test_mangled_bearer_tokens_never_reach_the_handler(attacker: Attacker, victims: Victims, data) -> None:
    original = victims.alice.access_token
    token = _header_safe(data.draw(corpus.token_mutations(original)))  # what one header line can carry
    if corpus.same_token(token.strip(' \t'), original):
        return  # the same token spelled differently (non-canonical base64url, SP/HTAB around it)
    attacker.raw_get_protected('jwt.mangled-bearer', '/me', [(b'Authorization', b'Bearer ' + token.encode())])


@given(data=st.data())
def test_mangled_cookie_tokens_never_reach_the_handler(attacker: Attacker, victims: Victims, data) -> None:
    original = victims.bob.access_token
    token = _header_safe(data.draw(corpus.token_mutations(original)))
    if corpus.same_token(token.strip(' \t'), original) or ';' in token:
        return
    attacker.raw_get_protected('jwt.mangled-cookie', '/whoami', [(b'Cookie', b'access_token=' + token.encode())])


@given(data=st.data())
def test_tokens_signed_with_the_server_key_are_accepted_only_with_valid_claims(
    attacker: Attacker, victims: Victims, secret_key: str, data
) -> None:
    user_ids = [victims.alice.id, victims.bob.id]
    claims = data.draw(corpus.forged_claims(user_ids))
    token = corpus.hs_sign(b'{"alg":"HS256","typ":"JWT"}', json.dumps(claims).encode(), secret_key.encode())
    if corpus.accepts(claims, set(user_ids)):
        response = attacker.http_request('control.valid-claims', 'GET', '/me', headers=bearer(token))
        assert response.status_code in (200, 401), response.text
        if response.status_code == 200:
            assert response.json()['id'] == claims['user_id']
        return
    attacker.protected('jwt.forged-claims', 'GET', '/me', headers=bearer(token))


@given(data=st.data())
def test_forged_claims_signed_with_another_key_are_refused(attacker: Attacker, victims: Victims, data) -> None:
    claims = data.draw(corpus.forged_claims([victims.alice.id]))
    token = corpus.hs_sign(b'{"alg":"HS256","typ":"JWT"}', json.dumps(claims).encode(), random_secret().encode())
    attacker.protected('jwt.wrong-key', 'GET', '/me', headers=bearer(token))


@st.composite
def duplicated_members(draw: st.DrawFn, good: dict) -> list[tuple[str, object]]:
    """The good claims with some members repeated with other values, in any order."""
    pairs = list(good.items())
    for _ in range(draw(st.integers(1, 4))):
        name = draw(st.sampled_from(sorted(good)))
        value = draw(st.one_of(st.just(good[name]), corpus.json_values, st.just('refresh')))
        pairs.insert(draw(st.integers(0, len(pairs))), (name, value))
    return pairs


def _object(pairs: list[tuple[str, object]]) -> bytes:
    return ('{' + ','.join(f'{json.dumps(k)}:{json.dumps(v)}' for k, v in pairs) + '}').encode()


@given(data=st.data())
def test_duplicated_claims_are_read_as_their_last_value(
    attacker: Attacker, victims: Victims, secret_key: str, data
) -> None:
    """RFC 7515 5.2: a duplicate member is rejected or the lexically last one wins; never the first."""
    pairs = data.draw(duplicated_members(corpus.claims_for(victims.alice.id)))
    token = corpus.hs_sign(b'{"alg":"HS256","typ":"JWT"}', _object(pairs), secret_key.encode())
    effective = dict(pairs)  # what a last-wins parser sees
    if corpus.accepts(effective, {victims.alice.id}):
        response = attacker.http_request('control.duplicate-claims', 'GET', '/me', headers=bearer(token))
        assert response.status_code in (200, 401), response.text
        return
    attacker.protected('jwt.duplicate-claims', 'GET', '/me', headers=bearer(token))


@pytest.mark.parametrize('first_alg', ['none', 'HS512', 'RS256', 'HS256'])
@pytest.mark.parametrize('last_alg', ['none', 'HS512', 'RS256'])
def test_duplicated_alg_header_is_refused_unless_the_last_is_the_configured_one(
    attacker: Attacker, victims: Victims, secret_key: str, first_alg: str, last_alg: str
) -> None:
    header = f'{{"alg":"{first_alg}","typ":"JWT","alg":"{last_alg}"}}'.encode()
    payload = json.dumps(corpus.claims_for(victims.alice.id)).encode()
    for digest in (hashlib.sha256, hashlib.sha512):
        token = corpus.hs_sign(header, payload, secret_key.encode(), digest)
        attacker.protected('jwt.duplicate-alg', 'GET', '/me', headers=bearer(token))


@pytest.mark.filterwarnings('ignore::jwt.warnings.InsecureKeyLengthWarning')
@pytest.mark.parametrize('algorithm', corpus.ALGORITHMS)
def test_every_algorithm_pyjwt_knows_is_refused_unless_it_is_the_configured_one(
    attacker: Attacker, victims: Victims, secret_key: str, algorithm: str
) -> None:
    claims = corpus.claims_for(victims.alice.id)
    header_variants = [None, {'typ': 'at+jwt'}, {'kid': 'default'}, {'crit': ['exp']}, {'cty': 'JWT'}]
    for headers in header_variants:
        for secret in (secret_key, random_secret()):
            if algorithm == corpus.CONFIGURED_ALGORITHM and secret == secret_key:
                continue  # the one legitimate combination; see the control test
            token = corpus.sign_with(algorithm, claims, secret, headers)
            attacker.protected(f'jwt.alg-{algorithm}', 'GET', '/me', headers=bearer(token))


def test_the_configured_algorithm_with_the_server_key_is_accepted(
    attacker: Attacker, victims: Victims, secret_key: str
) -> None:
    """Control for the test above: the same recipe with the right algorithm and key works."""
    claims = corpus.claims_for(victims.alice.id, cv=victims.alice.credential_version)
    token = corpus.sign_with(corpus.CONFIGURED_ALGORITHM, claims, secret_key)
    response = attacker.http_request('control', 'GET', '/me', headers=bearer(token))
    assert response.status_code == 200, response.text


@pytest.mark.parametrize('name', sorted(corpus.key_confusion_tokens(corpus.claims_for('x'))))
def test_hs_rs_key_confusion_is_refused(attacker: Attacker, victims: Victims, name: str) -> None:
    """HS256 signed with public keys (PEM, DER, JWK) as the secret, embedded jwk/jku/x5u/kid headers."""
    token = corpus.key_confusion_tokens(corpus.claims_for(victims.alice.id))[name]
    attacker.protected('jwt.key-confusion', 'GET', '/me', headers=bearer(token))
    attacker.protected('jwt.key-confusion', 'GET', '/whoami', headers={'Cookie': f'access_token={token}'})


@given(data=st.data())
def test_mangled_refresh_tokens_get_no_new_pair(attacker: Attacker, victims: Victims, data) -> None:
    original = victims.refresh_target.refresh_token
    token = data.draw(corpus.token_mutations(original))
    response = attacker.http_request('jwt.mangled-refresh', 'POST', '/auth/refresh', json={'refresh_token': token})
    if response.status_code == 200:
        assert corpus.same_token(token, original), token  # only the real token, spent once
    else:
        assert response.status_code in (400, 401, 422), response.text  # 422: an empty or oversized token


def test_access_tokens_get_no_new_pair(attacker: Attacker, victims: Victims) -> None:
    response = attacker.http_request(
        'jwt.access-as-refresh', 'POST', '/auth/refresh', json={'refresh_token': victims.alice.access_token}
    )
    assert response.status_code == 401, response.text
