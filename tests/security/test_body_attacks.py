"""Bodies that violate the routes' input models, through a real uvicorn on both stores.

Every account route that declares an input model gets, per store, hundreds
of bodies that cannot fit it: non-objects, each required field missing,
each field of the wrong type (numbers, booleans, null, lists, operator
objects, strings too long or empty, deep nesting, long lists), extra fields
where the model forbids them, unicode oddities in names and values, bodies
over the size limit and JSON that does not parse. Each must be refused:
422 with the field errors for well-formed JSON, 400 for JSON that does not
parse, 413 for a body over the limit; never a 5xx, never the hostile value
echoed, never a change of state (the victim still logs in with its password).
"""

from __future__ import annotations

import collections
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson
import pytest

from tests.e2e.helpers import User, login, new_user
from tests.e2e.server import ExampleServer, launch
from tests.security.attack import BODY_REFUSALS, Attacker
from tests.servers import fresh_database_url

pytestmark = pytest.mark.server

#: What a required string field is sent instead of a string (None is a wrong type only where required).
WRONG_VALUES: tuple[Any, ...] = (
    123,
    -1,
    0,
    1.5,
    1e308,
    True,
    False,
    [],
    ['a'],
    {},
    {'$ne': None},
    {'$gt': ''},
    {'$regex': '.*'},
    '',
    'x' * 20_000,
    [[[[[[[[[[[[[[[[[[[[[[[[[[[[[['deep']]]]]]]]]]]]]]]]]]]]]]]]]]]]]],
    list(range(5000)),
    {'nested': {'object': [1, 2, {'$where': 'sleep(1000)'}]}},
    2**63,
    -0.0,
    {'$in': []},
    ['\u202e', None],
)
NON_OBJECTS: tuple[Any, ...] = (
    [],
    [{'username': 'a'}],
    0,
    1.5,
    -7,
    'username=a&password=b',
    True,
    False,
    '\uff42\uff4f\uff42',
    '\u202e',
)
#: Strings that are valid text but strange: where a field is missing, they fill the others.
ODD_TEXT = (
    '\u202egnp.exe',
    '\ufeffbob',
    'e\u0301\u0301\u0301',
    '\U0001d41b\U0001d428\U0001d41b',
    'a\u200bb',
    '\u0000nul',
    '\uffff',
    '\U0010ffff',
    '🙂' * 50,
    'İı',
    'ß' * 10,
    '\t\n ',
)
#: Field names a forbidding model refuses: privilege fields, operators, odd unicode, empty, huge.
EXTRA_FIELDS = ('is_superuser', '$where', 'ünïcödé', '', 'k' * 1000, '__proto__', 'password\u0000', 'id')
#: JSON text that does not parse (a lone surrogate, a trailing comma, NaN, a truncated document).
BROKEN = (
    b'{"username": "\\ud800", "password": "x"}',
    b'{"username": "a",}',
    b'{"password": NaN}',
    b'{"username": "a", "password": ',
    b'\xff\xfe{}',
    b'{"a": 1} {"b": 2}',
)


@dataclass(frozen=True)
class Target:
    path: str
    fields: dict[str, str]  # a plausible value for each field the model declares
    required: tuple[str, ...]
    forbids_extra: bool
    authenticated: bool = False
    method: str = 'POST'


TARGETS = (
    Target(
        '/auth/signup',
        {'username': 'hostilename', 'password': 'hostile passphrase 1'},
        ('username', 'password'),
        forbids_extra=False,
    ),
    Target(
        '/auth/login',
        {'username': 'hostilename', 'password': 'hostile passphrase 1'},
        ('username', 'password'),
        forbids_extra=False,
    ),
    Target('/auth/refresh', {'refresh_token': 'not-a-token'}, (), forbids_extra=True),
    Target('/auth/password/forgot', {'username': 'hostilename', 'email': 'a@example.com'}, (), forbids_extra=True),
    Target(
        '/auth/password/reset',
        {'token': 'a' * 43, 'new_password': 'hostile passphrase 2'},
        ('token', 'new_password'),
        forbids_extra=True,
    ),
    Target('/auth/verify', {'token': 'a' * 43}, ('token',), forbids_extra=True),
    Target(
        '/auth/password/change',
        {'current_password': 'wrong passphrase 0', 'new_password': 'hostile passphrase 3'},
        ('current_password', 'new_password'),
        forbids_extra=True,
        authenticated=True,
    ),
)


@dataclass(frozen=True)
class Case:
    target: Target
    what: str
    body: Any = None
    raw: bytes | None = None
    expect: int = 422
    field: str | None = None  # the field the 422 must name


def cases() -> Iterator[Case]:
    for target in TARGETS:
        for value in NON_OBJECTS:
            yield Case(target, f'non-object {value!r:.40}', value)
        for name in target.fields:
            for value in WRONG_VALUES:
                if value == '' or (isinstance(value, str) and len(value) > 1000) or not isinstance(value, str):
                    yield Case(target, f'{name}={value!r:.40}', {**target.fields, name: value}, field=name)
            if name in target.required:
                yield Case(target, f'{name}=null', {**target.fields, name: None}, field=name)
                for odd in ODD_TEXT:
                    others = {other: odd for other in target.fields if other != name}
                    yield Case(target, f'without {name}, others {odd!r:.20}', others, field=name)
        if target.forbids_extra:
            for extra in EXTRA_FIELDS:
                yield Case(target, f'extra {extra!r:.30}', {**target.fields, extra: True}, field=extra)
        for raw in BROKEN:
            yield Case(target, f'broken {raw!r:.40}', raw=raw, expect=400)
        yield Case(target, 'over the size limit', raw=b'{"a": "' + b'x' * (1024 * 1024 + 10) + b'"}', expect=413)


CASES = tuple(cases())


@pytest.fixture(scope='module', params=['embedded', 'mongodb'])
def body_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ExampleServer]:
    mongodb_url = fresh_database_url(request.getfixturevalue('mongodb_url')) if request.param == 'mongodb' else None
    yield from launch(
        tmp_path_factory,
        f'bodies_{request.param}',
        mongodb_url=mongodb_url,
        extra_env={'LOGIN_MAX_FAILURES_PER_ADDRESS': '1000000'},
    )


def test_the_suite_sends_enough_varied_bodies() -> None:
    assert len(CASES) >= 500
    assert len({(case.target.path, case.what) for case in CASES}) == len(CASES)


def test_bodies_that_violate_input_models_are_refused_with_their_field_errors(body_server: ExampleServer) -> None:
    with body_server.client() as control:
        victim: User = new_user(control, 'bodyvictim')
    attacker = Attacker(body_server.url, body_server.port)
    statuses: collections.Counter[int] = collections.Counter()
    try:
        for case in CASES:
            headers = {'Content-Type': 'application/json'}
            if case.target.authenticated:
                headers['Authorization'] = f'Bearer {victim.access_token}'
            content = case.raw if case.raw is not None else orjson.dumps(case.body)
            response = attacker.http_request(
                'body.model-violation', case.target.method, case.target.path, content=content, headers=headers
            )
            statuses[response.status_code] += 1
            where = (case.target.path, case.what, response.text[:300])
            assert response.status_code in BODY_REFUSALS, where
            assert response.status_code == case.expect, where
            assert response.headers['content-type'].startswith('application/json'), where
            assert 'x' * 1000 not in response.text and '$regex' not in response.text, where
            if case.expect == 422 and case.field is not None:
                named = {error['loc'][0] if error['loc'] else '' for error in response.json()['errors']}
                assert case.field in named, where
    finally:
        attacker.close()
    assert sum(statuses.values()) == len(CASES) >= 500
    assert statuses[422] >= 400, statuses
    with body_server.client() as control:  # nothing the bodies did changed the victim's account
        assert login(control, victim.username, victim.password)['access_token']
