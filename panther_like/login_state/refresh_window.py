"""The successor pair a refresh answers, kept sealed for a second tab that presents the same token.

Two tabs of one browser often refresh with the same refresh token at the same
moment. The first spends it and gets a new pair; the second, within the
refresh window, gets that same pair back instead of ending the session. The
store keeps the pair for the window, sealed (AES-GCM) under a key only the
holder of the spent token can derive, so what the store holds is no token.
"""

from __future__ import annotations

import base64
import hashlib
import secrets


def _successor_key(refresh_token: str) -> bytes:
    """Only the holder of the spent token can open its successor: the store never holds a usable token."""
    return hashlib.sha256(b'panther_like refresh successor\x00' + refresh_token.encode()).digest()


def seal_successor(refresh_token: str, jti: str, pair: dict[str, str]) -> str:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce = secrets.token_bytes(12)
    plain = f'{pair["access_token"]} {pair["refresh_token"]}'.encode()
    sealed = AESGCM(_successor_key(refresh_token)).encrypt(nonce, plain, jti.encode())
    return base64.urlsafe_b64encode(nonce + sealed).decode()


def open_successor(refresh_token: str, jti: str, sealed: str) -> dict[str, str] | None:
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    try:
        raw = base64.urlsafe_b64decode(sealed.encode())
        plain = AESGCM(_successor_key(refresh_token)).decrypt(raw[:12], raw[12:], jti.encode())
    except (InvalidTag, ValueError):
        return None
    access, _, refresh = plain.decode().partition(' ')
    return {'access_token': access, 'refresh_token': refresh}
