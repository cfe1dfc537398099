"""Bringing a store made by an earlier version up to date, run by ``panther-like migrate-usernames``.

Users stored before canonical usernames have no ``username_key``, so they
are neither unique by it nor found by a login that looks it up; the app
refuses to start on such a store (`BaseUser.count_without_username_key`).
`migrate_usernames` gives each its key, and writes nothing at all when
two accounts would get the same key (``Bob`` and ``bob``) or a username
is one that is now refused: which account keeps the name is a decision
for a person, never made silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field

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
    if report.problems or dry_run:
        return report
    for user_id, key in report.pending:
        await rows.update_one({'_id': user_id}, {'username_key': key})
    report.written = True
    return report
