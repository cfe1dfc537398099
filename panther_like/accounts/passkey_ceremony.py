"""What the passkey routes (`panther_like.accounts.passkeys`, `panther_like.accounts.passkey_login`) share:
the setting, the public view of a passkey, and the check of a login answer (an assertion).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel
from pydantic.config import JsonDict

from panther_like.exceptions import NotFoundAPIError
from panther_like.http.request import Request
from panther_like.login_state.passkey_protocol import InvalidCredential, challenge_of, parse_assertion, verify_assertion
from panther_like.login_state.passkeys import Passkey
from panther_like.login_state.services import services_of
from panther_like.settings.webauthn import WebAuthnSettings

INVALID_PASSKEY = 'This passkey was not accepted; ask for new options and try again'
CREDENTIAL_SCHEMA: JsonDict = {'type': 'object', 'description': 'PublicKeyCredential.toJSON() of the browser'}


class PasskeyView(BaseModel):
    id: str
    name: str
    created: str
    last_used: str | None
    backed_up: bool
    transports: list[str]


def _iso(moment: float | None) -> str | None:
    return None if moment is None else datetime.fromtimestamp(moment, UTC).isoformat()


def public_view(passkey: Passkey) -> dict[str, Any]:
    """What a client is shown of a passkey: never its key or its owner's handle."""
    return {
        'id': passkey.id,
        'name': passkey.name,
        'created': _iso(passkey.created),
        'last_used': _iso(passkey.last_used),
        'backed_up': passkey.backed_up,
        'transports': list(passkey.transports),
    }


def relying_party(request: Request) -> WebAuthnSettings:
    """The setting; 404 while passkeys are off."""
    rp = services_of(request).config.accounts.webauthn
    if rp is None:
        raise NotFoundAPIError()
    return rp


async def verified_passkey(request: Request, kind: str, credential: Any, user_id: str | None) -> Passkey:
    """The passkey `credential` proves, with its counter and last use stored; else `InvalidCredential`.

    `user_id`: whose it must be (the second step of their login, a re-authentication); None for a username-less
    login, where the user handle the authenticator returns must be the passkey owner's.
    """
    rp = relying_party(request)
    store = services_of(request).accounts.passkeys
    assertion = parse_assertion(credential)
    taken = await store.take_challenge(kind, challenge_of(credential))
    if taken is None or taken.user_id != user_id:
        raise InvalidCredential(f'no live {kind} challenge for this login')
    passkey = await store.find(assertion.credential_id)
    if passkey is None or (user_id is not None and passkey.user_id != user_id):
        raise InvalidCredential('unknown credential')
    if user_id is None and assertion.user_handle != passkey.user_handle:
        raise InvalidCredential("the user handle is not the passkey owner's")
    if assertion.user_handle is not None and assertion.user_handle != passkey.user_handle:
        raise InvalidCredential("the user handle is not the passkey owner's")
    verified = verify_assertion(rp, assertion, taken.challenge, passkey.public_key, passkey.sign_count)
    if not await store.record_use(passkey, verified.sign_count, verified.backed_up):
        raise InvalidCredential('the sign counter moved meanwhile (a cloned authenticator?)')
    return passkey
