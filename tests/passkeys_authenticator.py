"""A software WebAuthn authenticator for tests: what a browser and a platform authenticator would answer.

It keeps ES256 keys per credential, and answers the JSON forms of
``navigator.credentials.create()`` and ``get()`` (``PublicKeyCredential.toJSON()``):
an attestationObject of format ``none`` (CBOR) with authenticator data holding
the RP ID hash, the UP/UV/AT/BE/BS flags, the sign counter and the attested
credential data (AAGUID, credential id, COSE key), the clientDataJSON, and for
an assertion the signature over authenticatorData || SHA-256(clientDataJSON).
Every part can be bent (origin, RP ID, challenge, type, flags, counter, user
handle) to test that the server refuses it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import struct
from dataclasses import dataclass, field
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

UP, UV, BE, BS, AT = 0x01, 0x04, 0x08, 0x10, 0x40
AAGUID = bytes.fromhex('00112233445566778899aabbccddeeff')


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b'=').decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + '=' * (-len(text) % 4))


@dataclass
class Credential:
    credential_id: bytes
    key: ec.EllipticCurvePrivateKey
    rp_id: str
    user_handle: bytes
    counter: int = 0


@dataclass
class SoftAuthenticator:
    """Holds passkeys like a platform authenticator; `origin` is the page the browser is on."""

    origin: str = 'http://localhost:8000'
    counts: bool = False  # whether it keeps a sign counter (many passkey providers send 0 always)
    backed_up: bool = True
    credentials: dict[bytes, Credential] = field(default_factory=dict)

    def _flags(self, *, uv: bool, attested: bool) -> int:
        flags = UP | (UV if uv else 0) | (BE | BS if self.backed_up else 0)
        return flags | (AT if attested else 0)

    @staticmethod
    def _client_data(kind: str, challenge: str, origin: str) -> bytes:
        return json.dumps(
            {'type': kind, 'challenge': challenge, 'origin': origin, 'crossOrigin': False}, separators=(',', ':')
        ).encode()

    def create(
        self,
        options: dict[str, Any],
        *,
        origin: str | None = None,
        rp_id: str | None = None,
        challenge: str | None = None,
        kind: str = 'webauthn.create',
        uv: bool = True,
        credential_id: bytes | None = None,
    ) -> dict[str, Any]:
        """``navigator.credentials.create({publicKey: options})`` as JSON; a new ES256 credential (with the id
        `credential_id`, which a real authenticator would never reuse)."""
        rp_id = rp_id or options['rp']['id']
        excluded = {unb64url(item['id']) for item in options.get('excludeCredentials', [])}
        assert not excluded & set(self.credentials), 'the browser would refuse: this authenticator holds one'
        credential_id = credential_id or os.urandom(32)
        key = ec.generate_private_key(ec.SECP256R1())
        numbers = key.public_key().public_numbers()
        cose = cbor2.dumps({1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, 'big'), -3: numbers.y.to_bytes(32, 'big')})
        handle = unb64url(options['user']['id'])
        credential = Credential(credential_id, key, rp_id, handle)
        auth_data = (
            hashlib.sha256(rp_id.encode()).digest()
            + bytes([self._flags(uv=uv, attested=True)])
            + struct.pack('>I', credential.counter)
            + AAGUID
            + struct.pack('>H', len(credential_id))
            + credential_id
            + cose
        )
        attestation = cbor2.dumps({'fmt': 'none', 'attStmt': {}, 'authData': auth_data})
        client_data = self._client_data(kind, challenge or options['challenge'], origin or self.origin)
        self.credentials[credential_id] = credential
        return {
            'id': b64url(credential_id),
            'rawId': b64url(credential_id),
            'type': 'public-key',
            'response': {
                'clientDataJSON': b64url(client_data),
                'attestationObject': b64url(attestation),
                'transports': ['internal', 'hybrid'],
            },
            'clientExtensionResults': {},
            'authenticatorAttachment': 'platform',
        }

    def get(
        self,
        options: dict[str, Any],
        *,
        credential_id: bytes | None = None,
        origin: str | None = None,
        rp_id: str | None = None,
        challenge: str | None = None,
        kind: str = 'webauthn.get',
        uv: bool = True,
        counter: int | None = None,
        user_handle: bytes | bool | None = True,
    ) -> dict[str, Any]:
        """``navigator.credentials.get({publicKey: options})`` as JSON, signed by `credential_id` (else the only or
        newest credential). `user_handle`: True for the credential's own, None to leave it out, or other bytes."""
        allowed = [unb64url(item['id']) for item in options.get('allowCredentials', [])]
        if credential_id is None:
            candidates = [cid for cid in self.credentials if not allowed or cid in allowed]
            credential_id = candidates[-1]
        credential = self.credentials[credential_id]
        if self.counts and counter is None:
            credential.counter += 1
        count = credential.counter if counter is None else counter
        auth_data = (
            hashlib.sha256((rp_id or options.get('rpId') or credential.rp_id).encode()).digest()
            + bytes([self._flags(uv=uv, attested=False)])
            + struct.pack('>I', count)
        )
        client_data = self._client_data(kind, challenge or options['challenge'], origin or self.origin)
        signature = credential.key.sign(auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256()))
        handle = credential.user_handle if user_handle is True else user_handle
        response = {
            'clientDataJSON': b64url(client_data),
            'authenticatorData': b64url(auth_data),
            'signature': b64url(signature),
        }
        if handle is not None and handle is not False:
            response['userHandle'] = b64url(handle)
        return {
            'id': b64url(credential_id),
            'rawId': b64url(credential_id),
            'type': 'public-key',
            'response': response,
            'clientExtensionResults': {},
            'authenticatorAttachment': 'platform',
        }
