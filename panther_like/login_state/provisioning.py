"""Accounts made on first sight of an identity provider's subject.

`provision_user(issuer, claims)` returns the local account linked to the claims' ``sub`` at
`issuer`, making it (and the link) the first time. It serves the resource server
(`OIDCAuthentication` with ``provision``) and a sign-in with a provider alike.

The link is written before the account, with the account's id chosen up front: the link's
unique key lets one of any number of simultaneous first sights win, and every sight then makes
(or finds) the account under that one id, so however many requests arrive at once, one account
exists afterwards. Nothing is ever merged by e-mail address: an account someone already holds
is never handed to whoever presents a token naming its address.

The account: its username is the claims' ``preferred_username`` (else the address's local part,
else ``user``), under the framework's username rules, with ``-2``, ``-3``... appended while the
name is taken; no usable password (the provider proves who signs in); its address only when the
provider says it checked it (``email_verified`` is true) and no other account holds it.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

import bson

from panther_like.db.identities import Identity, find_identity, identity_key
from panther_like.db.user import BaseUser
from panther_like.db.usernames import MAX_USERNAME_LENGTH, InvalidUsername, username_key
from panther_like.exceptions import DuplicateKeyError

#: Numbered names tried before a random suffix: enough for any real collision, bounded for a hostile one.
MAX_NUMBERED_NAMES = 20
FALLBACK_USERNAME = 'user'

#: The app's ``USER_MODEL``, bound when the app is built (`bind_user_model`): one process serves one app.
_user_model: type[BaseUser] | None = None


def bind_user_model(model: type[BaseUser] | None) -> None:
    """Called when an app is built: `provision_user` makes accounts of `model` unless told another."""
    global _user_model
    _user_model = model


def verified_email(claims: Mapping[str, Any]) -> str | None:
    """The claims' address when the provider says it checked it (``email_verified`` is the JSON ``true``)."""
    email = claims.get('email')
    if claims.get('email_verified') is True and isinstance(email, str) and email:
        return email
    return None


def username_candidates(claims: Mapping[str, Any]) -> list[str]:
    """The names to try, in order: the preferred one, then the same with a numbered suffix."""
    base = _base_username(claims)
    numbered = [f'{base[: MAX_USERNAME_LENGTH - 4]}-{number}' for number in range(2, MAX_NUMBERED_NAMES + 2)]
    return [base, *numbered]


def _base_username(claims: Mapping[str, Any]) -> str:
    email = claims.get('email')
    local_part = email.partition('@')[0] if isinstance(email, str) else None
    for name in (claims.get('preferred_username'), local_part):
        if isinstance(name, str):
            name = name.strip()[: MAX_USERNAME_LENGTH - 4].strip()
            try:
                username_key(name)
            except InvalidUsername:
                continue
            return name
    return FALLBACK_USERNAME


async def provision_user(issuer: str, claims: Mapping[str, Any], *, user_model: type[BaseUser] | None = None) -> Any:
    """The account linked to ``claims['sub']`` at `issuer`, made with its link on first sight.

    `user_model` defaults to the app's ``USER_MODEL``. Marks the link used.
    """
    subject = claims.get('sub')
    if not isinstance(subject, str) or not subject:
        raise ValueError("provision_user needs claims with a non-empty string 'sub'")
    model = user_model or _user_model
    if model is None:
        raise RuntimeError('no panther_like app has been built in this process; build Panther(...) first')
    identity = await find_identity(issuer, subject)
    if identity is None:
        email = claims.get('email') if isinstance(claims.get('email'), str) else None
        try:
            identity = await Identity.insert_one(
                key=identity_key(issuer, subject),
                issuer=issuer,
                subject=subject,
                user_id=str(bson.ObjectId()),
                email=email,
                email_verified=claims.get('email_verified') is True,
            )
        except DuplicateKeyError:  # another first sight won: its link, and the account it names
            identity = await find_identity(issuer, subject)
            if identity is None:
                raise
    user = await model.find_one(id=identity.user_id)
    if user is None:
        user = await _create_account(model, identity.user_id, claims)
    return user


async def _create_account(model: type[BaseUser], user_id: str, claims: Mapping[str, Any]) -> BaseUser:
    """The account under the id the link names; whichever simultaneous sight writes it first, it is one."""
    email = verified_email(claims) if model.has_email() else None
    names = iter([*username_candidates(claims), f'{_base_username(claims)[:100]}-{secrets.token_hex(4)}'])
    username = next(names)
    while True:
        fields: dict[str, Any] = {'id': user_id, 'username': username, 'password': ''}
        if email is not None:
            fields.update(email=email, is_verified=True)
        try:
            return await model.insert_one(**fields)
        except DuplicateKeyError as exc:
            made = await model.find_one(id=user_id)
            if made is not None:  # the same first sight, made by another request
                return made
            if exc.field == 'email' and email is not None:  # another account holds the address: do without it
                email = None
                continue
            following = next(names, None)
            if following is None:
                raise
            username = following


__all__ = ['bind_user_model', 'provision_user', 'username_candidates', 'verified_email']
