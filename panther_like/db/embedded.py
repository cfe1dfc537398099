"""The embedded store: neosqlite (MongoDB-like documents in one SQLite file).

Used when no MongoDB URL is configured, so a project runs with no server at
all. Facts about neosqlite 1.17.2 that this module relies on (checked by
reading its source and by tests/db):

* It has no asyncio API, and its `sqlite3` connection must stay on the thread
  that opened it. Every operation therefore runs on a per-instance
  single-thread executor, and the connection is opened lazily *inside* that
  thread. Both are recreated when the process id changes, so a database
  object built before uvicorn forks its workers opens its own connection in
  each worker instead of sharing a file handle across processes.
* A caller-provided string ``_id`` is stored as is (in an ``_id`` column with a
  unique index) and ``find_one({'_id': 'abc'})`` finds it; documents come back
  with the same string. No id mapping is needed. (Its generated ids are its
  own ObjectId class, not `bson.ObjectId`, which is why we always supply one.)
* It opens files in WAL journal mode with ``synchronous=NORMAL`` and runs in
  autocommit mode. Extra keyword arguments go to `sqlite3.connect`, so
  ``timeout=`` sets SQLite's busy timeout: a second process writing the same
  file waits for the lock instead of failing at once.
* A unique-index clash raises `sqlite3.IntegrityError` whose message names the
  index ``idx_<collection>_<field>`` (or ``<collection>._id``).
* Its TTL indexes slow every read about tenfold, so expiry is done by callers
  with ``$lt`` filters and `delete_many`, never with ``expireAfterSeconds``.
* ``$set`` of a datetime stores a string; the model layer stores epoch floats.
* ``$set`` writes floats through SQLite's ``json_set`` (15 significant digits, -0.0
  becomes 0.0), so `EmbeddedCollection.update_one` replaces the whole document instead.
* SQLite's JSON functions stop a string at NUL; `panther_like.db.values` keeps NUL out.
"""

from __future__ import annotations

import asyncio
import os
import re
import sqlite3 as std_sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import neosqlite
from neosqlite._sqlite import sqlite3 as neo_sqlite3  # pysqlite3 when installed, else the stdlib

from panther_like.db.backend import Collection, Database, Document, Filter, Sort
from panther_like.db.values import check_document, check_filter
from panther_like.exceptions import DuplicateKeyError, StoreUnavailableError

STORE_NAME = 'embedded store'
BUSY_TIMEOUT_SECONDS = 10.0
T = TypeVar('T')

_INTEGRITY_ERRORS = (std_sqlite3.IntegrityError, neo_sqlite3.IntegrityError)
_SQLITE_ERRORS = (std_sqlite3.Error, neo_sqlite3.Error)
_INDEX_IN_MESSAGE = re.compile(r"index '([^']+)'")


def _duplicate_field(message: str, collection: str, unique_fields: set[str]) -> str:
    if f'{collection}._id' in message:
        return '_id'
    match = _INDEX_IN_MESSAGE.search(message)
    if match:
        suffix = match.group(1).removeprefix(f'idx_{collection}_')
        for field in unique_fields:
            if field.replace('.', '_') == suffix:
                return field
        return suffix
    return 'key'


def _short_reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text if len(text) <= 120 else text[:117] + '...'


class EmbeddedCollection(Collection):
    def __init__(self, database: EmbeddedDatabase, name: str) -> None:
        self._database = database
        self.name = name
        self._unique_fields: set[str] = set()

    async def _run(self, operation: Callable[[Any], T]) -> T:
        """Run `operation(neosqlite_collection)` on the store's thread, mapping errors."""

        def call(connection: neosqlite.Connection) -> T:
            try:
                return operation(connection[self.name])
            except _INTEGRITY_ERRORS as exc:
                raise DuplicateKeyError(_duplicate_field(str(exc), self.name, self._unique_fields)) from None

        return await self._database.run(call)

    async def insert_one(self, document: Document) -> None:
        check_document(document)
        await self._run(lambda c: c.insert_one(document))

    async def find_one(self, filter: Filter) -> Document | None:
        check_filter(filter)
        return await self._run(lambda c: c.find_one(filter))

    async def find(self, filter: Filter, *, sort: Sort | None = None, limit: int = 0, skip: int = 0) -> list[Document]:
        check_filter(filter)
        return await self._run(
            lambda c: list(c.find(filter, sort=sort or None, limit=limit or None, skip=skip or None))
        )

    async def update_one(self, filter: Filter, values: Document) -> bool:
        """``$set`` done as read, merge and replace in one transaction.

        neosqlite's own ``$set`` goes through SQLite's ``json_set``, which
        writes a float with 15 significant digits and turns -0.0 into 0.0;
        a replacement is written by Python's JSON encoder, exactly as
        `insert_one` writes. ``BEGIN IMMEDIATE`` takes the write lock before
        the read, so a worker in another process cannot slip a write between
        the two.
        """
        check_filter(filter)
        check_document(values, 'update')

        def replace(collection: Any) -> bool:
            database = collection.db
            database.execute('BEGIN IMMEDIATE')
            try:
                document = collection.find_one(filter)
                if document is not None:
                    document.update(values)
                    collection.replace_one({'_id': document['_id']}, document)
            except BaseException:
                database.execute('ROLLBACK')
                raise
            database.execute('COMMIT')
            return document is not None

        return await self._run(replace)

    async def delete_one(self, filter: Filter) -> bool:
        check_filter(filter)
        result = await self._run(lambda c: c.delete_one(filter))
        deleted: int = result.deleted_count
        return deleted > 0

    async def delete_many(self, filter: Filter) -> int:
        check_filter(filter)
        result = await self._run(lambda c: c.delete_many(filter))
        deleted: int = result.deleted_count
        return deleted

    async def count(self, filter: Filter) -> int:
        check_filter(filter)
        matching: int = await self._run(lambda c: c.count_documents(filter))
        return matching

    async def create_unique_index(self, field: str) -> None:
        self._unique_fields.add(field)
        # neosqlite uses CREATE UNIQUE INDEX IF NOT EXISTS, so a second call is a no-op.
        await self._run(lambda c: c.create_index(field, unique=True))

    async def create_index(self, field: str | tuple[str, ...]) -> None:
        key = field if isinstance(field, str) else [(name, 1) for name in field]
        await self._run(lambda c: c.create_index(key))


class EmbeddedDatabase(Database):
    """One SQLite file, shared safely by every worker process that opens it."""

    name = 'embedded'
    store_name = STORE_NAME

    def __init__(self, path: str | os.PathLike[str]) -> None:
        # Absolute now, so a later chdir cannot make two workers open different files.
        self.path = os.path.abspath(os.fspath(path))
        self._pid: int | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._connection: neosqlite.Connection | None = None  # touched only on the executor's thread
        self._collections: dict[str, EmbeddedCollection] = {}

    def __repr__(self) -> str:
        return f'EmbeddedDatabase({self.path!r})'

    def _current_executor(self) -> ThreadPoolExecutor:
        pid = os.getpid()
        if self._executor is None or self._pid != pid:
            # After a fork the parent's thread does not exist here and its connection must
            # not be used: start over with a new thread and (lazily) a new connection.
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix='panther-like-sqlite')
            self._connection = None
            self._pid = pid
        return self._executor

    def _open(self) -> neosqlite.Connection:
        if self._connection is None:
            directory = os.path.dirname(self.path)
            if directory:
                os.makedirs(directory, exist_ok=True)
            self._connection = neosqlite.Connection(self.path, timeout=BUSY_TIMEOUT_SECONDS)
        return self._connection

    async def run(self, operation: Callable[[neosqlite.Connection], T]) -> T:
        """Run `operation(connection)` on this store's own thread.

        SQLite errors other than unique clashes mean the file is locked for too
        long, full or unreadable: callers get a 503, not a 500.
        """

        def call() -> T:
            try:
                return operation(self._open())
            except (DuplicateKeyError, StoreUnavailableError):
                raise
            except _INTEGRITY_ERRORS:
                raise
            except _SQLITE_ERRORS as exc:
                raise StoreUnavailableError(STORE_NAME, _short_reason(exc)) from None
            except OSError as exc:
                raise StoreUnavailableError(STORE_NAME, exc.strerror or _short_reason(exc)) from None

        self.operations += 1
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._current_executor(), call)

    def collection(self, name: str, *, durable: bool = False) -> EmbeddedCollection:
        # Every write is a committed SQLite transaction on this host: durable already.
        collection = self._collections.get(name)
        if collection is None:
            collection = self._collections[name] = EmbeddedCollection(self, name)
        return collection

    async def connect(self) -> None:
        await self.run(lambda connection: None)

    async def close(self) -> None:
        if self._executor is None or self._pid != os.getpid():
            self._executor = self._connection = None
            return

        def shut() -> None:
            connection, self._connection = self._connection, None
            if connection is not None:
                connection.close()

        try:
            await asyncio.get_running_loop().run_in_executor(self._executor, shut)
        finally:
            executor, self._executor = self._executor, None
            if executor is not None:
                executor.shutdown(wait=False)

    async def ping(self) -> None:
        await self.run(lambda connection: connection.db.execute('SELECT 1').fetchone())
