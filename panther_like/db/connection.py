"""Choosing the backend from the ``DATABASE`` setting.

The app opens its database here when it is built, the one place that chooses
between the stores (`STORES`, by the ``DATABASE`` setting): a new store is one
module and one entry there. The models reach the database through their
binding (`panther_like.db.model.bind_models`), request-time code through the
app's services.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

from panther_like.db.backend import Database
from panther_like.db.embedded import EmbeddedDatabase
from panther_like.db.mongo import MongoDatabase

DEFAULT_EMBEDDED_PATH = 'panther_like.sqlite3'


def _mongo(setting: Mapping[str, Any]) -> Database:
    return MongoDatabase(str(setting['url']))


def _embedded(setting: Mapping[str, Any]) -> Database:
    return EmbeddedDatabase(setting.get('path') or os.path.join(os.getcwd(), DEFAULT_EMBEDDED_PATH))


#: Store kind -> how to open it from the ``DATABASE`` setting.
STORES: dict[str, Callable[[Mapping[str, Any]], Database]] = {'mongodb': _mongo, 'embedded': _embedded}


def store_kind(database_setting: Mapping[str, Any] | None) -> str:
    """``mongodb`` when the setting has a url, else ``embedded``."""
    return 'mongodb' if (database_setting or {}).get('url') else 'embedded'


def open_database(database_setting: Mapping[str, Any] | None) -> Database:
    """A Database for the ``DATABASE`` setting; nothing is connected yet.

    ``{'url': 'mongodb://...'}`` selects MongoDB. No setting, or a missing or
    empty url (an unset environment variable), selects the embedded store at
    ``setting['path']``, default ``./panther_like.sqlite3`` in the working
    directory.
    """
    setting = database_setting or {}
    return STORES[store_kind(setting)](setting)
