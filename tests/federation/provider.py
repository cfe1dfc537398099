"""A stand-in OpenID provider, served by a real uvicorn on 127.0.0.1, for the resource-server tests.

Why a stand-in and not a real provider: these tests need to do to a provider what no real one
lets a test do on demand: rotate its keys between two requests, count every request it gets,
publish a key without ``alg``, name another issuer in its discovery document, or answer with a
megabyte of JSON. It serves only what a resource server reads (discovery and the JWK Set) over
real HTTP, and signs tokens with keys made here by `cryptography`, through PyJWT. (A test against a
real provider, node's oidc-provider, belongs to the sign-in-with-a-provider tests.)

One server holds many tenants, each its own issuer (``http://127.0.0.1:<port>/<name>``), so every
test starts from a provider of its own without starting a server of its own.
"""

from __future__ import annotations

import itertools
import json
import secrets
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import jwt
import uvicorn
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import get_default_algorithms

from tests.servers import free_port

_names = itertools.count()


def new_key(algorithm: str) -> Any:
    if algorithm.startswith('ES'):
        return ec.generate_private_key(ec.SECP256R1())
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_pem(private_key: Any) -> str:
    return (
        private_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


@dataclass
class Tenant:
    """One issuer of the stand-in: its keys (kid -> private key), what it serves, what it was asked."""

    issuer: str
    keys: dict[str, tuple[Any, str]] = field(default_factory=dict)
    requests: Counter[str] = field(default_factory=Counter)
    #: What its discovery document says the issuer is (None: the truth).
    discovery_issuer: str | None = None
    #: Whether the JWK Set says which algorithm each key is for.
    publish_alg: bool = True
    #: Bytes of padding added to the JWK Set (a provider that sends too much).
    padding: int = 0
    #: Answer every request with a 500 (a provider that is down behind its load balancer).
    failing: bool = False

    def add_key(self, kid: str | None = None, algorithm: str = 'RS256') -> str:
        kid = kid or secrets.token_hex(4)
        self.keys[kid] = (new_key(algorithm), algorithm)
        return kid

    def drop_key(self, kid: str) -> None:
        del self.keys[kid]

    def jwks(self) -> dict[str, Any]:
        keys = []
        for kid, (private, algorithm) in self.keys.items():
            jwk = get_default_algorithms()[algorithm].to_jwk(private.public_key(), as_dict=True)
            jwk.update({'kid': kid, 'use': 'sig'})
            if self.publish_alg:
                jwk['alg'] = algorithm
            keys.append(jwk)
        document: dict[str, Any] = {'keys': keys}
        if self.padding:
            document['padding'] = 'x' * self.padding
        return document

    def claims(self, subject: str = 'subject-1', **changes: Any) -> dict[str, Any]:
        """Good claims for `subject` (a change to None removes that claim)."""
        now = int(time.time())
        claims = {
            'iss': self.issuer,
            'sub': subject,
            'aud': 'orders-api',
            'iat': now,
            'exp': now + 300,
            'preferred_username': subject,
        }
        claims.update(changes)
        return {name: value for name, value in claims.items() if value is not None}

    def token(self, subject: str = 'subject-1', *, kid: str | None = None, **changes: Any) -> str:
        """A token signed by the tenant's key `kid` (its first key by default)."""
        kid = kid or next(iter(self.keys))
        private, algorithm = self.keys[kid]
        return jwt.encode(self.claims(subject, **changes), private, algorithm=algorithm, headers={'kid': kid})

    def signing_key(self, kid: str | None = None) -> Any:
        return self.keys[kid or next(iter(self.keys))][0]


class Provider:
    """The ASGI app and the uvicorn thread serving it."""

    def __init__(self) -> None:
        self.port = free_port()
        self.tenants: dict[str, Tenant] = {}
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f'http://127.0.0.1:{self.port}'

    def tenant(self, *, algorithm: str = 'RS256') -> Tenant:
        """A new issuer with one key."""
        name = f't{next(_names)}'
        tenant = Tenant(issuer=f'{self.url}/{name}')
        tenant.add_key(algorithm=algorithm)
        self.tenants[name] = tenant
        return tenant

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope['type'] != 'http':
            return
        name, _, rest = scope['path'].lstrip('/').partition('/')
        tenant = self.tenants.get(name)
        body: Any = None
        status = 200
        if tenant is not None:
            tenant.requests[rest] += 1
            if tenant.failing:
                status, body = 500, {'error': 'down'}
            elif rest == '.well-known/openid-configuration':
                body = {'issuer': tenant.discovery_issuer or tenant.issuer, 'jwks_uri': f'{tenant.issuer}/jwks'}
            elif rest == 'jwks':
                body = tenant.jwks()
        status = 404 if body is None else status
        payload = json.dumps(body or {'error': 'not found'}).encode()
        headers = [(b'content-type', b'application/json'), (b'content-length', str(len(payload)).encode())]
        await send({'type': 'http.response.start', 'status': status, 'headers': headers})
        await send({'type': 'http.response.body', 'body': payload})

    def start(self) -> None:
        config = uvicorn.Config(self, host='127.0.0.1', port=self.port, log_level='warning', lifespan='off')
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name='oidc-stand-in', daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError('the stand-in provider did not start')
            time.sleep(0.01)

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
