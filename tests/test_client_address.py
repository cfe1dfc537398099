"""``TRUSTED_PROXIES``: which peers may name the client in ``X-Forwarded-For``, and how the name is read.

Through the app (real ASGI calls: the handler and the audit log see the
client) and on `TrustedProxies` itself. The rule must be uvicorn's, since
``panther-like run`` hands uvicorn the same list and both then rewrite the
same scope: a hypothesis test compares the two on generated headers.
"""

from __future__ import annotations

import json
import logging

import pytest
from hypothesis import given
from hypothesis import strategies as st
from uvicorn.middleware.proxy_headers import _TrustedHosts

from panther_like import API, Panther, Request
from panther_like.exceptions import ConfigError
from panther_like.http.client_address import (
    DEFAULT_TRUSTED_PROXIES,
    TrustedProxies,
    address_group,
    wider_address_group,
)
from panther_like.settings.deployment import trusted_proxies as setting
from panther_like.testing import TestClient, WebsocketRefused
from tests.settings import settings_module

PEER = '127.0.0.1'  # where httpx's ASGI transport says every request comes from


@API(methods=['GET'])
async def whoami(request: Request):
    return {'client': request.client[0], 'scheme': request.scope['scheme']}


@API(auth=True, methods=['GET'])
async def private(request: Request):
    return {}


def app_trusting(tmp_path, proxies) -> Panther:
    extra = {} if proxies is None else {'TRUSTED_PROXIES': proxies}
    module = settings_module(
        DATABASE={'path': str(tmp_path / 'proxies.sqlite3')},
        SECRET_KEY='proxies-' * 6,
        AUTHENTICATION='panther_like.authentications.JWTAuthentication',
        **extra,
    )
    return Panther(module, urls={'whoami': whoami, 'private': private})


async def seen_by_the_app(tmp_path, proxies, headers: dict[str, str]) -> dict:
    async with TestClient(app_trusting(tmp_path, proxies)) as client:
        response = await client.get('/whoami', headers=headers)
        assert response.status_code == 200
        return response.json()


# -- through the app --------------------------------------------------------------------------


async def test_by_default_the_app_believes_a_proxy_on_the_same_host_as_uvicorn_does(tmp_path) -> None:
    seen = await seen_by_the_app(tmp_path, None, {'X-Forwarded-For': '203.0.113.5'})
    assert seen['client'] == '203.0.113.5'


async def test_an_untrusted_peers_x_forwarded_for_is_ignored(tmp_path) -> None:
    seen = await seen_by_the_app(tmp_path, ['10.0.0.5'], {'X-Forwarded-For': '203.0.113.5'})
    assert seen['client'] == PEER


async def test_an_empty_list_trusts_nobody_not_even_the_local_host(tmp_path) -> None:
    seen = await seen_by_the_app(tmp_path, [], {'X-Forwarded-For': '203.0.113.5', 'X-Forwarded-Proto': 'https'})
    assert seen == {'client': PEER, 'scheme': 'http'}


async def test_a_trusted_proxys_x_forwarded_proto_sets_the_scheme(tmp_path) -> None:
    seen = await seen_by_the_app(tmp_path, [PEER], {'X-Forwarded-Proto': 'https'})
    assert seen['scheme'] == 'https'


async def test_the_audit_log_names_the_forwarded_client(tmp_path, caplog) -> None:
    async with TestClient(app_trusting(tmp_path, [PEER])) as client:
        with caplog.at_level(logging.INFO, logger='panther_like.audit'):
            response = await client.get('/private', headers={'X-Forwarded-For': '203.0.113.9'})
    assert response.status_code == 401
    [line] = [json.loads(record.getMessage()) for record in caplog.records if record.name == 'panther_like.audit']
    assert line['event'] == 'auth.failure' and line['client'] == '203.0.113.9'


async def test_a_websocket_from_a_trusted_proxy_gets_the_forwarded_client(tmp_path) -> None:
    async with TestClient(app_trusting(tmp_path, [PEER])) as client:
        session = client.websocket('/nowhere', headers={'X-Forwarded-For': '203.0.113.7', 'X-Forwarded-Proto': 'https'})
        with pytest.raises(WebsocketRefused):
            async with session:
                pass
    assert session.scope['client'] == ('203.0.113.7', 0) and session.scope['scheme'] == 'wss'


# -- reading X-Forwarded-For ------------------------------------------------------------------


def client_of(proxies: TrustedProxies, peer: str, *forwarded_for: str) -> tuple[str, int]:
    scope = {
        'type': 'http',
        'client': (peer, 4321),
        'headers': [(b'x-forwarded-for', value.encode()) for value in forwarded_for],
    }
    proxies.apply(scope)
    return scope['client']


def test_the_client_is_the_right_most_address_that_is_not_a_trusted_proxy() -> None:
    proxies = TrustedProxies(['10.0.0.0/8'])
    # The client wrote "1.1.1.1"; the edge proxy 10.0.0.2 appended the address it saw; 10.0.0.9 forwarded it.
    assert client_of(proxies, '10.0.0.9', '1.1.1.1, 198.51.100.4, 10.0.0.2') == ('198.51.100.4', 0)


def test_repeated_x_forwarded_for_headers_read_as_one_list() -> None:
    assert client_of(TrustedProxies(['10.0.0.9']), '10.0.0.9', '1.1.1.1', '198.51.100.4') == ('198.51.100.4', 0)


def test_when_every_hop_is_trusted_the_left_most_is_the_client() -> None:
    assert client_of(TrustedProxies(['10.0.0.0/8']), '10.0.0.9', '10.0.0.3, 10.0.0.2') == ('10.0.0.3', 0)


@pytest.mark.parametrize(
    ('hop', 'client'),
    [
        ('198.51.100.4:5678', ('198.51.100.4', 5678)),
        ('[2001:db8::1]:443', ('2001:db8::1', 443)),
        ('2001:db8::1', ('2001:db8::1', 0)),
    ],
)
def test_a_hop_may_carry_a_port(hop: str, client: tuple[str, int]) -> None:
    assert client_of(TrustedProxies(['10.0.0.9']), '10.0.0.9', hop) == client


def test_an_empty_x_forwarded_for_leaves_the_peer() -> None:
    assert client_of(TrustedProxies(['10.0.0.9']), '10.0.0.9', ' , ') == ('10.0.0.9', 4321)


def test_star_trusts_every_peer() -> None:
    assert client_of(TrustedProxies(['*']), '192.0.2.1', '198.51.100.4') == ('198.51.100.4', 0)


HOPS = st.sampled_from(
    [
        '10.0.0.2',
        '10.0.0.9',
        '10.1.2.3',
        '198.51.100.4',
        '203.0.113.5:8080',
        '::1',
        '2001:db8::1',
        '[2001:db8::2]:443',
        'unknown',
        '127.0.0.1',
        '10.0.0.2:99',
    ]
)


@given(
    trusted=st.lists(st.sampled_from(['10.0.0.0/16', '10.0.0.9', '127.0.0.1', '::1', '2001:db8::/64']), max_size=3),
    hops=st.lists(HOPS, min_size=1, max_size=5),
)
def test_the_client_is_whom_uvicorn_would_name(trusted: list[str], hops: list[str]) -> None:
    header = ', '.join(hops)
    ours = TrustedProxies(trusted).forwarded_client(header)
    assert ours == _TrustedHosts(trusted).get_trusted_client_address(header)


# -- the setting ------------------------------------------------------------------------------


def test_the_setting_defaults_to_what_uvicorn_trusts() -> None:
    assert setting(None).entries == DEFAULT_TRUSTED_PROXIES == ('127.0.0.1', '::1')


def test_the_setting_takes_a_comma_separated_string() -> None:
    assert setting(' 10.0.0.5, 10.1.0.0/16 ,').entries == ('10.0.0.5', '10.1.0.0/16')


@pytest.mark.parametrize('value', [[], '', False])
def test_the_setting_empty_trusts_nobody(value) -> None:
    assert not setting(value) and not setting(value).trusts('127.0.0.1')


@pytest.mark.parametrize('value', [['proxy.internal'], ['10.0.0.1/8'], ['10.0.0.300'], 5, [5], {'a': 1}])
def test_a_wrong_setting_is_a_config_error_naming_it(value) -> None:
    with pytest.raises(ConfigError, match='TRUSTED_PROXIES'):
        setting(value)


def test_a_wrong_setting_stops_the_app_from_being_built(tmp_path) -> None:
    with pytest.raises(ConfigError, match='TRUSTED_PROXIES'):
        app_trusting(tmp_path, ['nginx'])


def test_uvicorn_is_given_the_same_list() -> None:
    assert TrustedProxies(['10.0.0.5', '10.1.0.0/16']).uvicorn_value() == '10.0.0.5,10.1.0.0/16'
    assert TrustedProxies(['*']).uvicorn_value() == '*'


# -- what a per-address count keys on ---------------------------------------------------------


@pytest.mark.parametrize(
    ('host', 'group'),
    [
        ('198.51.100.4', '198.51.100.4'),
        ('2001:db8:1:2:aaaa::1', '2001:db8:1:2::/64'),
        ('::ffff:198.51.100.4', '198.51.100.4'),
        ('unknown', 'not-an-ip-address'),
    ],
)
def test_a_per_address_count_keys_ipv6_clients_by_their_64_network(host: str, group: str) -> None:
    assert address_group(host) == group


@pytest.mark.parametrize(
    ('spelling', 'group'),
    [
        ('09.9.9.9', '9.9.9.9'),
        ('009.009.009.009', '9.9.9.9'),
        (' 9.9.9.9 ', '9.9.9.9'),
        ('fe80::1%eth0', 'fe80::/64'),
        ('FE80::1', 'fe80::/64'),
        ('0:0:0:0:0:ffff:909:909', '9.9.9.9'),
    ],
)
def test_every_spelling_of_one_address_counts_as_that_address(spelling: str, group: str) -> None:
    assert address_group(spelling) == group


@pytest.mark.parametrize('junk', ['unknown', '999.1.1.1', '1.2.3', 'x' * 300, '1.2.3.4.5'])
def test_hosts_that_are_no_ip_address_share_one_count(junk: str) -> None:
    assert address_group(junk) == 'not-an-ip-address'


def test_an_ipv6_client_also_counts_in_its_48() -> None:
    assert wider_address_group('2001:db8:1:2:aaaa::1') == wider_address_group('2001:db8:1:ffff::9') == '2001:db8:1::/48'


def test_an_ipv4_client_has_no_wider_group() -> None:
    assert wider_address_group('198.51.100.4') is None
