"""Storage: document models over MongoDB or the embedded SQLite store."""

from panther_like.db.backend import Collection, Database
from panther_like.db.connection import open_database
from panther_like.db.models import BaseUser, Model, Operators
from panther_like.db.values import InvalidStoreValue

__all__ = [
    'BaseUser',
    'Collection',
    'Database',
    'InvalidStoreValue',
    'Model',
    'Operators',
    'open_database',
]
