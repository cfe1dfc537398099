"""The ``WWW-Authenticate`` challenges of the 401s the framework writes (RFC 9110 11.6.1, RFC 6750 3)."""

from __future__ import annotations

#: The protection space named in every ``WWW-Authenticate`` challenge the framework writes.
REALM = 'api'


def quoted(value: str) -> str:
    """A value safe inside an auth-param's quoted-string (RFC 9110 5.6.4)."""
    return value.replace('\\', '').replace('"', "'").replace('\r', ' ').replace('\n', ' ')


def bearer_challenge(realm: str = REALM, invalid_reason: str | None = None) -> str:
    """The ``WWW-Authenticate`` value of an RFC 6750 bearer method (header or query parameter).

    Without an error code when no credential was sent (section 3.1: a
    client that did not know it had to authenticate), with
    ``error="invalid_token"`` and the reason when one was sent and refused.
    """
    challenge = f'Bearer realm="{quoted(realm)}"'
    if invalid_reason is not None:
        challenge += f', error="invalid_token", error_description="{quoted(invalid_reason)}"'
    return challenge
