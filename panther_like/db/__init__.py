"""Storage: document models over MongoDB or the embedded SQLite store."""

from panther_like.db.backend import Collection, Database
from panther_like.db.connection import open_database
from panther_like.db.models import BaseUser, Model

__all__ = [
    'BaseUser',
    'Collection',
    'Database',
    'Model',
    'open_database',
]
