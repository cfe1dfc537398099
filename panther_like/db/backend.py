"""The storage interface every backend implements.

The model layer and the token store talk only to these two classes, so the
same application code runs on MongoDB and on the embedded SQLite store. The
surface is deliberately small: equality filters plus ``$lt``/``$lte``/
``$gt``/``$gte`` on numbers (enough to purge expired rows), ``$set``
updates, and single-field unique indexes. Anything richer would have to be
implemented twice and tested twice.

Documents are plain dicts of str/int/float/bool/None/list/dict and always
carry a string ``_id``. Datetimes never reach a backend: the model layer
stores them as epoch floats, because neosqlite's ``$set`` turns datetimes
into strings and the two backends would then disagree.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

#: A stored document: decoded JSON-like values, always with a str ``_id``.
Document = dict[str, Any]
Filter = dict[str, Any]
Sort = list[tuple[str, int]]


class Collection(ABC):
    """One named collection (a MongoDB collection, a neosqlite table)."""

    name: str

    @abstractmethod
    async def insert_one(self, document: Document) -> None:
        """Store `document` (which has a str ``_id``); a unique clash raises DuplicateKeyError(field)."""

    @abstractmethod
    async def find_one(self, filter: Filter) -> Document | None:
        """The first matching document, with its ``_id``, or None."""

    @abstractmethod
    async def find(self, filter: Filter, *, sort: Sort | None = None, limit: int = 0, skip: int = 0) -> list[Document]:
        """The matching documents in `sort` order, the first `skip` left out; `limit` 0 means no limit."""

    @abstractmethod
    async def update_one(self, filter: Filter, values: Document) -> bool:
        """``$set`` `values` on the first match; True if a document matched."""

    @abstractmethod
    async def delete_one(self, filter: Filter) -> bool:
        """Delete the first match; True if one was deleted."""

    @abstractmethod
    async def delete_many(self, filter: Filter) -> int:
        """Delete every match; the number deleted."""

    @abstractmethod
    async def count(self, filter: Filter) -> int:
        """The number of matching documents."""

    @abstractmethod
    async def create_unique_index(self, field: str) -> None:
        """Make `field` unique across the collection; safe to call again."""

    @abstractmethod
    async def create_index(self, field: str | tuple[str, ...]) -> None:
        """Index `field` (or several fields, in order) for equality and range filters; safe to call again."""


class Database(ABC):
    """A connection to one logical database; `name` appears in 503 messages.

    `operations` counts the round trips made to the store by this process,
    so tests can prove what a request costs (0 on a warm authenticated route).
    """

    name: str
    #: How 503 messages name it ("MongoDB is unavailable (...)").
    store_name: str
    operations: int = 0

    @abstractmethod
    def collection(self, name: str, *, durable: bool = False) -> Collection:
        """A handle on collection `name`; cheap, performs no I/O.

        ``durable=True`` is for writes that must survive the loss of a
        server once acknowledged (revocations, login sessions, the change
        feed): on a MongoDB replica set they wait for a majority.
        """

    @abstractmethod
    async def connect(self) -> None:
        """Open the connection if it is not open yet; safe to call again."""

    @abstractmethod
    async def close(self) -> None:
        """Release the connection; a later operation may reopen it."""

    @abstractmethod
    async def ping(self) -> None:
        """Return if the store answers; raise StoreUnavailableError if not."""
