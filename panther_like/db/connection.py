"""Choosing the backend from the ``DATABASE`` setting, and the process-wide binding.

Why a process-wide binding: model code reads ``await User.find_one(id=...)``
(the SPEC's user-facing API). A classmethod has no request, app or
connection in reach, so the store it talks to has to be findable from the
class alone. The app binds its database here when it is built; every model
uses whatever is bound. One process serves one app, so this is one slot,
not a registry; building a second app in the same process (tests do)
simply rebinds it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from panther_like.db.backend import Database

DEFAULT_EMBEDDED_PATH = 'panther_like.sqlite3'

_active: Database | None = None


def open_database(database_setting: Mapping | None) -> Database:
    """A Database for the ``DATABASE`` setting; nothing is connected yet.

    ``{'url': 'mongodb://...'}`` selects MongoDB. No setting, or a missing or
    empty url (an unset environment variable), selects the embedded store at
    ``setting['path']``, default ``./panther_like.sqlite3`` in the working
    directory.
    """
    setting = database_setting or {}
    url = setting.get('url')
    if url:
        from panther_like.db.mongo import MongoDatabase

        return MongoDatabase(str(url))
    from panther_like.db.embedded import EmbeddedDatabase

    path = setting.get('path') or os.path.join(os.getcwd(), DEFAULT_EMBEDDED_PATH)
    return EmbeddedDatabase(path)


def bind_database(database: Database | None) -> None:
    """Make `database` the one the models of this process use (None unbinds)."""
    global _active
    _active = database


def active_database() -> Database:
    """The bound database; a clear error instead of an AttributeError deep in a model."""
    if _active is None:
        raise RuntimeError('no panther_like app has been built in this process; build Panther(...) first')
    return _active
