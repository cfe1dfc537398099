"""`BaseUser`: the user document, and the credential version that ends sessions.

The user is data: it knows its database (see `panther_like.db.model.bind_models`) and hands
``login``/``logout`` and "I changed" to the login-session service the app bound, nothing else.

Every user carries a ``credential_version``: a random string that is replaced, in the same write,
whenever the password changes (`update(password=...)`, `set_password`), whoever makes the change
(a route, the CLI, a script). Every login session, token and `SessionAuth` session records the
version it was opened with, and is refused once it no longer matches: so a password change ends
every earlier session, including a login whose password check ran just before the change and whose
session was written just after it.
"""

from __future__ import annotations

import asyncio
import secrets
import unicodedata
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar, Self

from pydantic import Field, PrivateAttr

from panther_like.crypto.passwords import (
    hash_password,
    password_needs_rehash,
    verify_password,
    verify_password_dummy,
)
from panther_like.db.addresses import NO_ADDRESS_PREFIX, address_key
from panther_like.db.identities import forget_identities
from panther_like.db.model import Model, UserSessions, model_binding
from panther_like.db.usernames import InvalidUsername, username_key
from panther_like.exceptions import APIError, ConfigError, DuplicateKeyError
from panther_like.http.request import HTTPConnection


def new_credential_version() -> str:
    """A value no earlier session can hold: random, so two changes never produce the same one."""
    return secrets.token_urlsafe(12)


def _utc_now() -> datetime:
    return datetime.now(UTC)


#: Fields a user may never set on themselves, whatever `editable_fields` says.
PROTECTED_USER_FIELDS = frozenset(
    {
        'id',
        'password',
        'username_key',
        'email_key',
        'date_created',
        'last_login',
        'is_active',
        'is_verified',
        'is_superuser',
        'credential_version',
        'pending_email',
        'second_factor_hint',
    }
)


class BaseUser(Model):
    """The default user model; a project subclasses it to add fields.

    A change made through `update`, `set_password` or `delete` reaches the
    authentication caches of every worker within ``AUTH_CACHE['revocation_ttl']``:
    deactivating a user (``is_active=False``) stops their tokens as a logout would.

    ``username`` is shown as typed; ``username_key`` (its canonical form, see
    `panther_like.db.usernames`) is what is unique and what a login looks up, so
    ``Bob`` cannot sign up next to ``bob``. Likewise, a subclass that adds an ``email`` field gets
    ``email_key`` (its canonical form, see `panther_like.db.addresses`) unique and looked up, so one
    mailbox belongs to one account whatever its case.
    """

    username: str
    #: Derived from `username` on every insert and update; None only in a store made before it existed.
    username_key: str | None = None
    password: str = Field(default='', repr=False)  # an argon2id hash, or '' for "no usable password"
    date_created: datetime = Field(default_factory=_utc_now)
    last_login: datetime | None = None
    #: False: every token of the user is refused (401), as if each session had been logged out.
    is_active: bool = True
    #: Set once the user proved they own their e-mail address.
    is_verified: bool = False
    is_superuser: bool = False
    #: Replaced whenever the password changes; a session opened with another value is refused (see the module).
    credential_version: str = Field(default='', repr=False)
    #: Derived from ``email`` (when the model has one) on every insert and update; unique.
    email_key: str | None = Field(default=None, repr=False)
    #: An address the user asked to change ``email`` to, until they confirm it from that mailbox (``email/confirm``).
    pending_email: str | None = None
    #: False: the user holds no second factor, so a password login skips looking (see login_state.factor_summary).
    second_factor_hint: bool | None = Field(default=None, repr=False)

    unique_fields: ClassVar[tuple[str, ...]] = ('username', 'username_key')
    secret_fields: ClassVar[frozenset[str]] = frozenset(
        {'password', 'username_key', 'credential_version', 'email_key', 'second_factor_hint'}
    )
    #: An ``email`` field, when a subclass adds one, finds the account for a password reset.
    name_fields: ClassVar[frozenset[str]] = frozenset({'username', 'email'})
    #: The fields a user may change on their own account (``PATCH me``, and what ``signup`` accepts
    #: besides username and password). Never a flag, the password or the id: see `PROTECTED_USER_FIELDS`.
    editable_fields: ClassVar[frozenset[str]] = frozenset()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        protected = sorted(set(cls.editable_fields) & PROTECTED_USER_FIELDS)
        if protected:
            raise TypeError(f'{cls.__qualname__}.editable_fields must not include {", ".join(protected)}')

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        unknown = sorted(set(cls.editable_fields) - set(cls.model_fields))
        if unknown:
            raise TypeError(f'{cls.__qualname__}.editable_fields names no field {", ".join(unknown)}')
        if cls.has_email() and 'email_key' not in cls.unique_fields:
            # Decided once, as the class is made: one mailbox, one account.
            cls.unique_fields = (*cls.unique_fields, 'email_key')

    @classmethod
    def has_email(cls) -> bool:
        """Whether the model has an ``email`` field (then its canonical key is unique and looked up)."""
        return 'email' in cls.model_fields

    @classmethod
    def email_key_of(cls, email: Any) -> str:
        """What ``email_key`` holds for `email`: its canonical form (`InvalidAddress`, a 400, when refused);
        for no address, a value of its own that is no address's key, so the unique index lets many users
        have none."""
        if not isinstance(email, str) or _unstorable_name(email):
            # None; or what the model's own checks refuse with a 422 naming the field, as for any name field.
            return NO_ADDRESS_PREFIX + secrets.token_urlsafe(12)
        return address_key(email)

    @classmethod
    async def find_by_email(cls, email: str) -> Self | None:
        """The user whose address is `email` in any case (``Ann@Example.com`` finds ``ann@example.com``)."""
        if not cls.has_email():
            return None
        try:
            key = address_key(email)
        except InvalidUsername:  # InvalidAddress: an address nobody can have
            return None
        return await cls.find_one(email_key=key)

    async def mark_address_verified(self, address: str) -> bool:
        """Set ``is_verified`` if the account's address is still `address` (by its key); whether it was.

        One conditional write, not a read then a write: an address changed at the same moment (which
        clears ``is_verified`` in its own write) is never marked verified by a link sent to the old one.
        """
        model = type(self)
        if model.has_email():
            condition: dict[str, Any] = {'_id': self.id, 'email_key': address_key(address)}
        else:
            condition = {'_id': self.id, 'username': address}
        collection = await model._collection()
        if not await collection.update_one(condition, {'is_verified': True}):
            return False
        self.__dict__['is_verified'] = True
        await _user_changed(self.id)
        return True

    async def replace_email(self, email: str | None, *, expected_key: str | None, pending: str | None = None) -> bool:
        """Write `email` (verified when `pending` is given: it was confirmed from that mailbox) if the account's
        address key is still `expected_key` and, with `pending`, that change is still the one pending; whether it was.

        One conditional write, for the same reason as `mark_address_verified`; a key another account holds
        raises `DuplicateKeyError` for ``email`` (409).
        """
        model = type(self)
        condition: dict[str, Any] = {'_id': self.id, 'email_key': expected_key}
        values: dict[str, Any] = {'email': email, 'email_key': model.email_key_of(email)}
        if pending is not None:
            condition['pending_email'] = pending
            values.update(pending_email=None, is_verified=True)
        elif email is None:  # no address left: nothing is verified, and nothing can be pending
            values.update(pending_email=None, is_verified=False)
        collection = await model._collection()
        try:
            if not await collection.update_one(condition, values):
                return False
        except DuplicateKeyError as exc:
            raise _public_duplicate(exc) from None
        self.__dict__.update(values)
        await _user_changed(self.id)
        return True

    @classmethod
    async def insert_one(cls, **fields: Any) -> Self:
        """As Model.insert_one, but a given ``password`` is the raw one and is hashed first.

        The username is checked and its canonical key stored (`InvalidUsername`, a 400, when refused);
        a username whose key is taken raises `DuplicateKeyError` for ``username`` (409).
        """
        fields['username_key'] = username_key(fields.get('username'))
        if cls.has_email():
            fields['email_key'] = cls.email_key_of(fields.get('email'))
        fields.setdefault('credential_version', new_credential_version())
        fields.setdefault('second_factor_hint', False)  # a new user holds no second factor yet
        cls.refuse_unknown_fields(fields)  # before the slow hash
        raw = fields.get('password')
        if raw and isinstance(raw, str):  # anything else is left to the model's validation (a 422)
            fields['password'] = await asyncio.to_thread(hash_password, raw)
        try:
            return await super().insert_one(**fields)
        except DuplicateKeyError as exc:
            raise _public_duplicate(exc) from None

    @classmethod
    async def find_by_username(cls, username: str) -> Self | None:
        """The user whose canonical key is that of `username` (``Bob`` finds ``bob``); None when absent or refused."""
        try:
            key = username_key(username)
        except InvalidUsername:
            return None
        return await cls.find_one(username_key=key)

    async def update(self, **fields: Any) -> None:
        """As Model.update; a new ``password`` (a hash) also replaces the credential version, in the same write.

        That write ends every earlier session of the user (see the module docstring); every worker's
        cache hears of the change within ``AUTH_CACHE['revocation_ttl']``.
        """
        if 'username_key' in fields:
            raise ValueError('username_key is derived from username; update username instead')
        if 'email_key' in fields:
            raise ValueError('email_key is derived from email; update email instead')
        if 'username' in fields:
            fields['username_key'] = username_key(fields['username'])
        if 'email' in fields and type(self).has_email():
            fields['email_key'] = type(self).email_key_of(fields['email'])
        if 'password' in fields and 'credential_version' not in fields:
            fields['credential_version'] = new_credential_version()
        try:
            await super().update(**fields)
        except DuplicateKeyError as exc:
            raise _public_duplicate(exc) from None
        await _user_changed(self.id)

    def allowed_scopes(self) -> frozenset[str]:
        """The JWT scopes this user may ask for at login (``scope`` of the OAuth2 password grant).

        None by default: a login that asks for scopes gets the ones listed here and no others.
        """
        return frozenset()

    @classmethod
    async def count_without_username_key(cls) -> int:
        """Users stored before canonical usernames existed (see ``panther-like migrate-usernames``).

        Reads the collection directly: creating the unique index first could fail on such a store. With an
        ``email`` field, users stored with an address but before canonical addresses count too.
        """
        rows = model_binding().database.collection(cls.collection_name)
        legacy = await rows.count({'username_key': None})
        if cls.has_email():
            without = await rows.find({'email_key': None})
            legacy += sum(1 for row in without if row.get('username_key') is not None and row.get('email') is not None)
        return legacy

    async def delete(self) -> None:
        """Delete the user and their identity links (first: a link left behind would sign in as no one)."""
        if self.id is not None:
            await forget_identities(self.id)
        await super().delete()
        await _user_changed(self.id)

    async def record_login(self, at: datetime) -> None:
        """Set `last_login`: bookkeeping, so no other worker has to forget its copy of the user.

        Kept to the millisecond: such a time is a number any store keeps exactly, so the write needs
        no read-back (`panther_like.db.mongo`), and a login costs one round trip less.
        """
        await super().update(last_login=at.replace(microsecond=at.microsecond // 1000 * 1000))

    def can_authenticate(self) -> bool:
        """Whether the user's tokens may authenticate requests; a subclass may add conditions."""
        return self.is_active

    async def set_password(self, raw: str) -> None:
        """Hash (in a thread: argon2 is deliberately slow) and save; every earlier session of the user ends."""
        await self.update(password=await asyncio.to_thread(hash_password, raw))

    def check_password(self, raw: str) -> bool:
        """Constant-time (inside argon2); False for a wrong password or an unusable stored hash.

        Blocks for as long as argon2 takes; in a handler prefer `verify_password`.
        """
        return verify_password(self.password, raw)

    async def verify_password(self, raw: str) -> bool:
        """`check_password` in a thread, so a login does not stall every other request."""
        return await asyncio.to_thread(verify_password, self.password, raw)

    def password_needs_rehash(self) -> bool:
        """Whether the stored hash was made with older argon2 parameters than new hashes get."""
        return bool(self.password) and password_needs_rehash(self.password)

    async def rehash_password(self, raw: str) -> bool:
        """Store a hash of `raw` made with today's parameters, if the stored hash is still the one verified.

        For a login that just verified `raw`: a conditional write, so a password changed meanwhile is never
        overwritten, and not a password change: the credential version stays, every session survives.
        Returns whether the hash was rewritten.
        """
        verified = self.password
        fresh = await asyncio.to_thread(hash_password, raw)
        collection = await type(self)._collection()
        if not await collection.update_one({'_id': self.id, 'password': verified}, {'password': fresh}):
            return False
        self.__dict__['password'] = fresh
        return True

    # -- tokens -----------------------------------------------------------------------------

    #: The verified claims of the access token that authenticated this instance, if any.
    _token_claims: dict[str, Any] | None = PrivateAttr(default=None)
    #: The scope of the request (or websocket) this instance was authenticated for, which `logout` audits; not
    #: the request, which holds this instance: the cycle would leave every request to the garbage collector.
    _scope: Any = PrivateAttr(default=None)

    @classmethod
    async def verify_password_dummy(cls, raw: str) -> bool:
        """Spend what `verify_password` spends, for a username that does not exist (no timing probe)."""
        return await asyncio.to_thread(verify_password_dummy, raw)

    def attach_token_claims(self, claims: dict[str, Any]) -> None:
        """Called by the JWT classes, so that `logout` knows which session to end."""
        self._token_claims = claims

    def copy_for_session(self, claims: dict[str, Any], connection: Any = None) -> Self:
        """A copy of this user that carries `claims`, for one request (pydantic's shallow copy, made quicker).

        The token service keeps one cached user per id and hands each request its own copy, so claims
        attached for one request never reach another. It runs on every authenticated request.
        """
        clone = _new(type(self))
        _set(clone, '__dict__', self.__dict__.copy())
        _set(clone, '__pydantic_extra__', self.__pydantic_extra__)
        _set(clone, '__pydantic_fields_set__', self.__pydantic_fields_set__)
        private = dict(self.__pydantic_private__ or ())
        private['_token_claims'] = claims
        private['_scope'] = None if connection is None else connection.scope
        _set(clone, '__pydantic_private__', private)
        return clone

    async def login(self, *, scopes: Sequence[str] | None = None, request: Any = None) -> dict[str, str]:
        """A new session: ``{'access_token': ..., 'refresh_token': ...}``; records `last_login`.

        `scopes` become the tokens' ``scope`` claim, checked by ``@API(scopes=...)``;
        `request` gives the session its user agent and client address (see the session list).
        """
        return await bound_sessions().login(self, scopes=scopes, request=request)

    async def logout(self) -> None:
        """Revoke the session of the token that authenticated this request, in every worker and host."""
        if self._token_claims is None:
            raise APIError('logout needs a user authenticated by a JWT authentication class', 400)
        request = None if self._scope is None else HTTPConnection(self._scope)
        await bound_sessions().logout(self._token_claims, request=request)


_new, _set = object.__new__, object.__setattr__  # `copy_for_session`'s primitives, looked up once


def _unstorable_name(text: str) -> bool:
    """Control and invisible characters: a name field refuses them itself (`Model`'s name-field check)."""
    return any(unicodedata.category(ch) in ('Cc', 'Cf', 'Zl', 'Zp') for ch in text)


def _public_duplicate(exc: DuplicateKeyError) -> DuplicateKeyError:
    """A clash on a derived key, named by the field the user typed (``username``, ``email``)."""
    derived = {'username_key': 'username', 'email_key': 'email'}
    return DuplicateKeyError(derived[exc.field]) if exc.field in derived else exc


def bound_sessions() -> UserSessions:
    """The login-session service the app bound; a `ConfigError` when it has no JWT key."""
    sessions = model_binding().sessions
    if sessions is None:
        raise ConfigError(
            'JWTConfig', None, 'no JWT key is configured: set SECRET_KEY or JWTConfig["key"] in the settings module'
        )
    return sessions


async def _user_changed(user_id: str | None) -> None:
    """A user changed through this worker: no worker may go on serving its old copy."""
    sessions = model_binding().sessions
    if sessions is not None and user_id is not None:
        await sessions.user_changed(user_id)
