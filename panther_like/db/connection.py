"""Choosing the backend from the ``DATABASE`` setting.

The app opens its database here when it is built; models reach it through
the app (`panther_like.common.context.current_app`), request-time code through
``request.app.database``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from panther_like.db.backend import Database
from panther_like.db.embedded import EmbeddedDatabase
from panther_like.db.mongo import MongoDatabase

DEFAULT_EMBEDDED_PATH = 'panther_like.sqlite3'


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
        return MongoDatabase(str(url))
    path = setting.get('path') or os.path.join(os.getcwd(), DEFAULT_EMBEDDED_PATH)
    return EmbeddedDatabase(path)
