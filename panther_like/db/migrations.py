"""Bringing a store made by an earlier version up to date, run by ``panther-like migrate-usernames``.

Users stored before canonical usernames have no ``username_key``, so they
are neither unique by it nor found by a login that looks it up; the app
refuses to start on such a store (`BaseUser.count_without_username_key`).
`migrate_usernames` gives each its key, and writes nothing at all when
two accounts would get the same key (``Bob`` and ``bob``) or a username
is one that is now refused: which account keeps the name is a decision
for a person, never made silently.

The same holds for e-mail addresses, on a user model with an ``email``
field: users stored before canonical addresses have no ``email_key``, so two
accounts may hold one mailbox in different cases. The migration gives each
its key (`panther_like.db.addresses`), and writes nothing when two accounts
hold the same mailbox or an address is now refused: which account keeps
the address is, again, a person's decision.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from panther_like.db.addresses import NO_ADDRESS_PREFIX, address_key
from panther_like.db.backend import Database
from panther_like.db.usernames import InvalidUsername, username_key


@dataclass
class UsernameMigration:
    total: int = 0
    #: ``(user id, key)`` of the users whose key is missing or stale.
    pending: list[tuple[str, str]] = field(default_factory=list)
    #: One line per username that is now refused, and per group of users that would share a key.
    problems: list[str] = field(default_factory=list)
    written: bool = False
    #: ``(user id, email key)`` of the users whose e-mail key is missing or stale.
    pending_emails: list[tuple[str, str]] = field(default_factory=list)


async def migrate_usernames(database: Database, collection: str, *, dry_run: bool = False) -> UsernameMigration:
    rows = database.collection(collection)
    documents = await rows.find({})
    report = UsernameMigration(total=len(documents))
    owners: dict[str, list[str]] = {}
    for document in documents:
        username, user_id = document.get('username'), str(document['_id'])
        try:
            key = username_key(username)
        except InvalidUsername as exc:
            report.problems.append(f'{username!r} (id {user_id}): {exc.detail}')
            continue
        owners.setdefault(key, []).append(f'{username!r} (id {user_id})')
        if document.get('username_key') != key:
            report.pending.append((user_id, key))
    report.problems += [f'{", ".join(names)} would all be {key!r}' for key, names in owners.items() if len(names) > 1]
    if any('email' in document for document in documents):
        _email_keys(documents, report)
    if report.problems or dry_run:
        return report
    for user_id, key in report.pending:
        await rows.update_one({'_id': user_id}, {'username_key': key})
    for user_id, key in report.pending_emails:
        await rows.update_one({'_id': user_id}, {'email_key': key})
    report.written = True
    return report


def _email_keys(documents: list[dict[str, Any]], report: UsernameMigration) -> None:
    """The e-mail key each user lacks (a user without an address gets a key that is no address's)."""
    holders: dict[str, list[str]] = {}
    for document in documents:
        email, user_id, stored = document.get('email'), str(document['_id']), document.get('email_key')
        if not isinstance(email, str):
            if not (isinstance(stored, str) and stored.startswith(NO_ADDRESS_PREFIX)):
                report.pending_emails.append((user_id, NO_ADDRESS_PREFIX + secrets.token_urlsafe(12)))
            continue
        try:
            key = address_key(email)
        except InvalidUsername as exc:
            report.problems.append(f'e-mail {email!r} (id {user_id}): {exc.detail}')
            continue
        holders.setdefault(key, []).append(f'{email!r} (id {user_id})')
        if stored != key:
            report.pending_emails.append((user_id, key))
    report.problems += [
        f'{", ".join(names)} are all the mailbox {key!r}' for key, names in holders.items() if len(names) > 1
    ]
