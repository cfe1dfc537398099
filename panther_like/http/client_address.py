"""Who the client is behind a reverse proxy: ``TRUSTED_PROXIES`` applied to each connection.

Why the app does this itself rather than leave it to the server: the login
throttle counts by client address, and a count keyed on something a client
can write is no count at all. The app must therefore know which peers may
name the client in ``X-Forwarded-For``, and hold to it whatever serves it
(uvicorn, hypercorn, a test client). The rule is uvicorn's, so the two
agree when both apply it (``panther-like run`` passes the same list to
uvicorn): when the peer is trusted, the client is the right-most
``X-Forwarded-For`` entry that is not itself a trusted proxy (every proxy
appends the address it got the request from, so entries further left were
written by the client and prove nothing); when every entry is trusted, the
left-most. An untrusted peer's headers are ignored.

A server that already rewrote ``client`` with a wider trust than the app's
cannot be undone here: run plain uvicorn with ``--forwarded-allow-ips``
set to the same list (or ``--no-proxy-headers`` when the list is empty).
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Iterable

from panther_like.http.asgi import Scope

#: Trusted when the setting is absent: what uvicorn trusts by default.
DEFAULT_TRUSTED_PROXIES = ('127.0.0.1', '::1')
_SCHEMES = {'http': ('http', 'ws'), 'https': ('https', 'wss'), 'ws': ('http', 'ws'), 'wss': ('https', 'wss')}

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class TrustedProxies:
    """The peers whose ``X-Forwarded-For`` and ``X-Forwarded-Proto`` are believed.

    Built from addresses (``'10.0.0.5'``), networks (``'10.0.0.0/8'``) or
    ``'*'`` (everyone: only when nothing but the proxy can reach the app);
    a mistake is a `ValueError` naming the entry. Empty: nobody.
    """

    __slots__ = ('_addresses', '_everyone', '_literals', '_networks', '_trusts', 'entries')

    def __init__(self, entries: Iterable[str] = DEFAULT_TRUSTED_PROXIES) -> None:
        self.entries: tuple[str, ...] = tuple(entries)
        self._everyone = '*' in self.entries
        self._addresses: set[IPAddress] = set()
        self._networks: list[IPNetwork] = []
        for entry in self.entries:
            if entry == '*':
                continue
            if '/' in entry:
                try:
                    self._networks.append(ipaddress.ip_network(entry))
                except ValueError as exc:
                    raise ValueError(f'{entry!r} is not a network such as 10.0.0.0/8 ({exc})') from None
            else:
                try:
                    self._addresses.add(ipaddress.ip_address(entry))
                except ValueError:
                    raise ValueError(f'{entry!r} is not an IP address (a host name cannot be trusted)') from None
        # A peer address as the server reports it is already in canonical form: the common case is a set lookup.
        self._literals = frozenset(str(address) for address in self._addresses)
        self._trusts = functools.lru_cache(maxsize=4096)(self._compute_trust)

    def __bool__(self) -> bool:
        return bool(self.entries)

    def __repr__(self) -> str:
        return f'TrustedProxies({list(self.entries)!r})'

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TrustedProxies) and other.entries == self.entries

    def __hash__(self) -> int:
        return hash(self.entries)

    def describe(self) -> str:
        """One phrase for a start-up summary."""
        if not self.entries:
            return 'none (X-Forwarded-For is ignored)'
        return ', '.join(self.entries)

    def uvicorn_value(self) -> str:
        """The same list as uvicorn's ``forwarded_allow_ips`` takes it."""
        return '*' if self._everyone else ','.join(self.entries)

    def trusts(self, host: str | None) -> bool:
        if self._everyone:
            return True
        if not host:
            return False
        if host in self._literals:
            return True
        return len(host) <= 64 and self._trusts(host)  # nothing longer is an IP address; not worth caching

    def _compute_trust(self, host: str) -> bool:
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        return address in self._addresses or any(address in network for network in self._networks)

    def forwarded_client(self, forwarded_for: str) -> tuple[str, int] | None:
        """The client an ``X-Forwarded-For`` value names, read from the right; None when it names nobody."""
        hops = [hop for hop in (part.strip() for part in forwarded_for.split(',')) if hop]
        if not hops:
            return None
        for hop in reversed(hops):
            host, port = _host_and_port(hop)
            if not self.trusts(host):
                return host, port
        return _host_and_port(hops[0])  # every hop is one of ours: the first one asked

    def apply(self, scope: Scope) -> None:
        """Put the real client (and scheme) into an HTTP or websocket `scope` sent by a trusted peer."""
        client = scope.get('client')
        if not self.trusts(client[0] if client else None):
            return
        forwarded_for: list[bytes] | None = None
        proto = None
        for name, value in scope.get('headers', ()):
            if name == b'x-forwarded-for':
                if forwarded_for is None:
                    forwarded_for = [value]
                else:
                    forwarded_for.append(value)
            elif name == b'x-forwarded-proto':
                proto = value
        if proto is not None:
            schemes = _SCHEMES.get(proto.decode('latin-1').strip().lower())
            if schemes is not None:
                scope['scheme'] = schemes[1] if scope.get('type') == 'websocket' else schemes[0]
        if forwarded_for:
            named = self.forwarded_client(b','.join(forwarded_for).decode('latin-1'))
            if named is not None:
                scope['client'] = named


def _host_and_port(hop: str) -> tuple[str, int]:
    """``1.2.3.4``, ``1.2.3.4:5678``, ``::1`` or ``[::1]:5678`` -> (host, port or 0); anything else unchanged."""
    if hop.startswith('['):
        host, bracket, rest = hop[1:].partition(']')
        if not bracket or (rest and not rest.startswith(':')):
            return hop, 0
        return host, _port(rest[1:]) or 0
    if hop.count(':') == 1:
        host, _, port = hop.partition(':')
        number = _port(port)
        return (hop, 0) if number is None else (host, number)
    return hop, 0


def _port(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None


#: What every host that is no IP address at all shares as its per-address count (see `address_group`).
UNPARSABLE_GROUP = 'not-an-ip-address'


def canonical_address(host: str) -> IPAddress | None:
    """The IP address `host` spells, whatever the spelling; None when it spells none.

    A trusted proxy may forward an address as its client wrote it, and one
    address has many spellings: an IPv6 zone id (``fe80::1%eth0``), IPv4
    octets with leading zeros (``09.9.9.9``, read as decimal, as ``inet_pton``
    style parsers that accept them do), upper or lower case hex, or an
    IPv4-mapped IPv6 form. Counting by the spelling would give each one a
    budget of its own.
    """
    text = host.strip().split('%', 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        octets = text.split('.')
        if len(octets) != 4 or not all(octet.isdigit() and len(octet) <= 3 for octet in octets):
            return None
        try:
            address = ipaddress.IPv4Address('.'.join(str(int(octet)) for octet in octets))
        except ValueError:
            return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def address_group(host: str) -> str:
    """What a per-address count keys on: the address itself, or for IPv6 its /64 network.

    Why /64: one IPv6 subscriber is usually given a whole /64 and can pick a
    fresh address from it for every request; counting single addresses would
    give such a client 2**64 budgets. Every spelling of one address counts
    as that address (`canonical_address`). A host that is no IP address
    (what a misconfigured proxy may forward) shares one count with every
    other such host, so junk cannot buy fresh budgets.
    """
    address = canonical_address(host)
    if address is None:
        return UNPARSABLE_GROUP
    if isinstance(address, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def wider_address_group(host: str) -> str | None:
    """For an IPv6 client, its /48: the block a site or a customer is commonly given; None otherwise.

    A client holding a /48 could otherwise move across its 65,536 /64s and get
    a fresh per-address budget in each; counting the /48 as well, with its own
    limit, bounds that.
    """
    address = canonical_address(host)
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    return str(ipaddress.IPv6Network((address, 48), strict=False))
