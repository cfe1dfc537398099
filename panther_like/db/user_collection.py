"""Where the users are: the user model's collection, checked when the app is built and when it starts.

A model's collection is named after its class, so renaming ``User`` to
``Member`` (without ``collection_name``) points the app at an empty
collection: every account would silently vanish, and signups would fill the
new one. So the first start records the user model and its collection in a
small framework document (`RECORD`, in `META_COLLECTION`); a later start
whose collection is empty while the recorded one still holds users is
refused with a `ConfigError` that says how to migrate
(`moved_users_refusal`). One ``find_one`` per start; the counts only when
the collection changed.

The framework's own collections start with `RESERVED_PREFIX`: a user model
whose collection has that name would share it with them, which is refused
when the app is built.
"""

from __future__ import annotations

from dataclasses import dataclass

from panther_like.db.backend import Database
from panther_like.db.user import BaseUser
from panther_like.exceptions import ConfigError, DuplicateKeyError

#: Every collection the framework keeps for itself is named so (``panther_like_login_sessions``...).
RESERVED_PREFIX = 'panther_like_'
META_COLLECTION = 'panther_like_meta'
#: The ``_id`` of the document that records the user model of the last start.
RECORD = 'user_model'
MIGRATE_COMMAND = 'panther-like migrate-user-collection'


def qualified_name(model: type[BaseUser]) -> str:
    return f'{model.__module__}.{model.__qualname__}'


def check_collection_name(model: type[BaseUser]) -> None:
    """A `ConfigError` when the user model's collection is one of the framework's own."""
    name = model.collection_name
    if not isinstance(name, str) or not name or name.startswith(RESERVED_PREFIX):
        raise ConfigError(
            'USER_MODEL',
            qualified_name(model),
            f'{model.__qualname__}.collection_name {name!r} is not a collection for users: names starting with '
            f"{RESERVED_PREFIX!r} are the framework's own collections; choose another collection_name",
        )


@dataclass(frozen=True)
class RecordedCollection:
    """What the last start recorded: the user model's qualified name and its collection."""

    model: str
    collection: str


async def recorded(database: Database) -> RecordedCollection | None:
    document = await database.collection(META_COLLECTION).find_one({'_id': RECORD})
    if document is None or not isinstance(document.get('collection'), str):
        return None
    return RecordedCollection(str(document.get('model')), document['collection'])


async def record(database: Database, model: type[BaseUser]) -> None:
    """Record `model` and its collection as the user model of this start (one write, only when it changed)."""
    rows = database.collection(META_COLLECTION)
    values = {'model': qualified_name(model), 'collection': model.collection_name}
    if not await rows.update_one({'_id': RECORD}, values):
        try:
            await rows.insert_one({'_id': RECORD, **values})
        except DuplicateKeyError:  # another worker recorded it at the same moment: the same values
            await rows.update_one({'_id': RECORD}, values)


async def check_user_collection(database: Database, model: type[BaseUser]) -> None:
    """Refuse to start when `model`'s collection is empty but the one an earlier start recorded holds users."""
    earlier = await recorded(database)
    current = RecordedCollection(qualified_name(model), model.collection_name)
    if earlier == current:
        return
    if earlier is not None and earlier.collection != current.collection:
        left_behind = await database.collection(earlier.collection).count({})
        if left_behind and not await database.collection(current.collection).count({}):
            raise moved_users_refusal(model, earlier, left_behind)
    await record(database, model)


def moved_users_refusal(model: type[BaseUser], earlier: RecordedCollection, users: int) -> ConfigError:
    return ConfigError(
        'USER_MODEL',
        qualified_name(model),
        f'{model.__qualname__} keeps its users in the collection {model.collection_name!r}, which is empty, but '
        f'{earlier.collection!r} (the collection of {earlier.model}, the user model of an earlier start) holds '
        f"{users} user(s): a model's collection is named after its class, so renaming the class hid them. "
        f'Either keep them where they are: set collection_name = {earlier.collection!r} on {model.__qualname__}; '
        f'or move them: run `{MIGRATE_COMMAND}` (it moves every user from {earlier.collection!r} to '
        f'{model.collection_name!r}); then start again',
    )


async def move_users(database: Database, model: type[BaseUser]) -> tuple[RecordedCollection | None, int]:
    """Move every user from the recorded collection to `model`'s, then record `model`; (what was recorded, moved).

    Nothing moves when the recorded collection is `model`'s, or when `model`'s already holds users
    (a `ConfigError`: merging two user stores is a person's decision).
    """
    earlier = await recorded(database)
    if earlier is None or earlier.collection == model.collection_name:
        await record(database, model)
        return earlier, 0
    source, target = database.collection(earlier.collection), database.collection(model.collection_name)
    if await target.count({}):
        raise ConfigError(
            'USER_MODEL',
            qualified_name(model),
            f'{model.collection_name!r} already holds users, so the users of {earlier.collection!r} were not moved '
            "into it (merging two user stores is your decision, not the framework's)",
        )
    documents = await source.find({})
    for document in documents:
        await target.insert_one(document)
    await record(database, model)
    for document in documents:
        await source.delete_one({'_id': document['_id']})
    return earlier, len(documents)
