"""The WebAuthn ceremonies, by py_webauthn: the options a browser is given and the checks of what it answers.

Every protocol check is the library's (`webauthn.verify_registration_response`,
`webauthn.verify_authentication_response`): the challenge, the origin
against ``ACCOUNTS['webauthn']['origins']``, the RP ID hash, the user
present and verified flags, the signature, a sign counter that did not
go backwards (when the authenticator keeps one). What this module adds
is the framework's part: the options' policy (discoverable credentials,
user verification required, no attestation asked for), and turning any
answer the library cannot accept, however malformed, into
`InvalidCredential` (a 400 or 401 at the routes, never a 500).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from panther_like.login_state.passkeys import CHALLENGE_LIFE, b64url, from_b64url
from panther_like.settings.webauthn import WebAuthnSettings

#: The size of a credential (as JSON) this server will look at; a real one is a few kilobytes at most.
MAX_CREDENTIAL_FIELD = 16 * 1024
_TRANSPORTS = frozenset({'ble', 'cable', 'hybrid', 'internal', 'nfc', 'smart-card', 'usb'})


class InvalidCredential(Exception):
    """The browser's answer was refused: malformed, or a protocol check failed; the reason is for the log."""


@dataclass(frozen=True, slots=True)
class NewCredential:
    """A registration answer that passed every check: what to store."""

    credential_id: bytes
    public_key: bytes
    sign_count: int
    aaguid: str
    backed_up: bool
    transports: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Assertion:
    """A login answer, parsed but not yet verified: which credential, and the user handle it names."""

    credential_id: str
    user_handle: str | None
    parsed: Any


@dataclass(frozen=True, slots=True)
class VerifiedAssertion:
    sign_count: int
    backed_up: bool


def _checked_shape(credential: Any) -> dict[str, Any]:
    """`credential` if it is an object whose ``response`` is an object of short strings; else InvalidCredential."""
    if not isinstance(credential, dict) or not isinstance(credential.get('response'), dict):
        raise InvalidCredential('the credential must be an object with a "response" object')
    for key in ('id', 'rawId', 'type'):
        if not isinstance(credential.get(key), str) or len(credential[key]) > MAX_CREDENTIAL_FIELD:
            raise InvalidCredential(f'the credential\'s "{key}" must be a string')
    for key, item in credential['response'].items():
        if key == 'transports':
            if not isinstance(item, list) or not all(isinstance(name, str) for name in item):
                raise InvalidCredential('"transports" must be a list of strings')
        elif key == 'publicKeyAlgorithm':  # a COSE algorithm number in a browser's toJSON()
            if not isinstance(item, int) or isinstance(item, bool):
                raise InvalidCredential('"response.publicKeyAlgorithm" must be a whole number')
        elif item is not None and (not isinstance(item, str) or len(item) > MAX_CREDENTIAL_FIELD):
            raise InvalidCredential(f'"response.{key}" must be a base64url string')
    return credential


def challenge_of(credential: Any) -> bytes:
    """The challenge the answer's ``clientDataJSON`` says it signed (checked again by the verification)."""
    from webauthn.helpers import parse_client_data_json

    data = _checked_shape(credential)['response'].get('clientDataJSON')
    if not isinstance(data, str):
        raise InvalidCredential('"response.clientDataJSON" is missing')
    try:
        challenge: bytes = parse_client_data_json(from_b64url(data)).challenge
    except Exception as exc:  # the library raises many kinds on bad input; none of it is the server's fault
        raise InvalidCredential(f'clientDataJSON is malformed ({type(exc).__name__})') from None
    return challenge


def registration_options(
    rp: WebAuthnSettings,
    challenge: bytes,
    *,
    user_handle: str,
    username: str,
    display_name: str,
    exclude: Sequence[str],
) -> dict[str, Any]:
    """``PublicKeyCredentialCreationOptionsJSON`` for a new discoverable, user-verifying passkey."""
    from webauthn import generate_registration_options
    from webauthn.helpers import options_to_json_dict
    from webauthn.helpers.structs import (
        AttestationConveyancePreference,
        AuthenticatorSelectionCriteria,
        PublicKeyCredentialDescriptor,
        ResidentKeyRequirement,
        UserVerificationRequirement,
    )

    options = generate_registration_options(
        rp_id=rp.rp_id,
        rp_name=rp.rp_name,
        user_name=username,
        user_id=from_b64url(user_handle),
        user_display_name=display_name,
        challenge=challenge,
        timeout=CHALLENGE_LIFE * 1000,
        attestation=AttestationConveyancePreference.NONE,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            require_resident_key=True,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        exclude_credentials=[PublicKeyCredentialDescriptor(id=from_b64url(item)) for item in exclude],
    )
    return options_to_json_dict(options)


def verify_registration(rp: WebAuthnSettings, credential: Any, challenge: bytes) -> NewCredential:
    """The new credential, if the answer passes every check of the library with user verification; else
    `InvalidCredential`."""
    from webauthn import verify_registration_response
    from webauthn.helpers import parse_registration_credential_json

    try:
        parsed = parse_registration_credential_json(_checked_shape(credential))
        verified = verify_registration_response(
            credential=parsed,
            expected_challenge=challenge,
            expected_rp_id=rp.rp_id,
            expected_origin=list(rp.origins),
            require_user_verification=True,
        )
    except InvalidCredential:
        raise
    except Exception as exc:  # malformed input surfaces as many exception types inside the library
        raise InvalidCredential(f'{type(exc).__name__}: {exc}') from None
    transports = tuple(
        str(getattr(item, 'value', item))
        for item in (parsed.response.transports or ())
        if str(getattr(item, 'value', item)) in _TRANSPORTS
    )
    return NewCredential(
        credential_id=verified.credential_id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        aaguid=verified.aaguid,
        backed_up=verified.credential_backed_up,
        transports=transports,
    )


def authentication_options(
    rp: WebAuthnSettings, challenge: bytes, allow: Sequence[tuple[str, Sequence[str]]] = ()
) -> dict[str, Any]:
    """``PublicKeyCredentialRequestOptionsJSON``: user verification required; `allow` (id, transports) empty for
    a username-less login."""
    from webauthn import generate_authentication_options
    from webauthn.helpers import options_to_json_dict
    from webauthn.helpers.structs import (
        AuthenticatorTransport,
        PublicKeyCredentialDescriptor,
        UserVerificationRequirement,
    )

    descriptors = [
        PublicKeyCredentialDescriptor(
            id=from_b64url(item), transports=[AuthenticatorTransport(name) for name in transports] or None
        )
        for item, transports in allow
    ]
    options = generate_authentication_options(
        rp_id=rp.rp_id,
        challenge=challenge,
        timeout=CHALLENGE_LIFE * 1000,
        allow_credentials=descriptors,
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    return options_to_json_dict(options)


def parse_assertion(credential: Any) -> Assertion:
    """Which credential a login answer is made with, and the user handle it names; not yet verified."""
    from webauthn.helpers import parse_authentication_credential_json

    try:
        parsed = parse_authentication_credential_json(_checked_shape(credential))
    except InvalidCredential:
        raise
    except Exception as exc:
        raise InvalidCredential(f'{type(exc).__name__}: {exc}') from None
    handle = parsed.response.user_handle
    return Assertion(b64url(parsed.raw_id), None if not handle else b64url(handle), parsed)


def verify_assertion(
    rp: WebAuthnSettings, assertion: Assertion, challenge: bytes, public_key: bytes, sign_count: int
) -> VerifiedAssertion:
    """The new counter, if the answer passes every check of the library with user verification; else
    `InvalidCredential` (a counter that did not move forward included)."""
    from webauthn import verify_authentication_response

    try:
        verified = verify_authentication_response(
            credential=assertion.parsed,
            expected_challenge=challenge,
            expected_rp_id=rp.rp_id,
            expected_origin=list(rp.origins),
            credential_public_key=public_key,
            credential_current_sign_count=sign_count,
            require_user_verification=True,
        )
    except Exception as exc:
        raise InvalidCredential(f'{type(exc).__name__}: {exc}') from None
    return VerifiedAssertion(verified.new_sign_count, verified.credential_backed_up)
