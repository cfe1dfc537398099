"""MongoDB backend on PyMongo's native asyncio client (`pymongo.AsyncMongoClient`).

Motor is deprecated upstream; `AsyncMongoClient` is its successor. Two facts
shape this module:

* An `AsyncMongoClient` belongs to the event loop it first ran in. The client
  is created lazily, and a fresh one is made whenever the running loop is not
  the one it was made for (pytest-asyncio gives every test its own loop; a
  uvicorn worker has one loop for its whole life, so this costs nothing there).
* Writes that must survive a failover once acknowledged (``durable``
  collections: revocations, login sessions, the change feed) use write
  concern ``majority``, except on a standalone server, which has no
  majority to wait for.
* A database that is down must cost a request a couple of seconds and a 503,
  not a hung worker and a 500. Timeouts are bounded, and every driver-level
  connection error becomes `StoreUnavailableError` with a short reason that
  never contains the URL (it may hold a password).
"""

from __future__ import annotations

import asyncio
import math
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pymongo import AsyncMongoClient, WriteConcern
from pymongo import errors as mongo_errors
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.server_type import SERVER_TYPE
from pymongo.uri_parser import parse_uri

from panther_like.db.backend import Collection, Database, Document, Filter, Sort
from panther_like.db.values import check_document, check_filter
from panther_like.exceptions import DuplicateKeyError, StoreUnavailableError

STORE_NAME = 'MongoDB'
DEFAULT_DATABASE = 'panther_like'
CLIENT_OPTIONS: dict[str, Any] = {
    'serverSelectionTimeoutMS': 2000,
    'connectTimeoutMS': 2000,
    'socketTimeoutMS': 5000,
    # Client-side operation timeout (CSOT): bounds a whole operation, retries and server selection included,
    # so a frozen server costs a request 3 s, not socket timeout + retry + selection (about 8 s).
    'timeoutMS': 3000,
}
# Server error codes that mean "the server or the path to it is gone", not "your query is wrong".
# 64: the write concern (a majority) was not satisfied in time.
_UNAVAILABLE_CODES = frozenset({6, 7, 18, 64, 89, 91, 189, 9001, 10107, 11600, 11602, 13435, 13436})
MAJORITY = WriteConcern('majority')
#: How often a replacement is retried when other writers keep changing the document (see `_replace_exactly`).
REPLACE_ATTEMPTS = 10
_USERINFO = re.compile(r'(mongodb(?:\+srv)?://)[^@/\s]*@')


def _redact(text: str, secret: str | None) -> str:
    text = _USERINFO.sub(r'\1***@', text)
    if secret:
        text = text.replace(secret, '***')
    return text


def _unavailable_reason(exc: mongo_errors.PyMongoError) -> str | None:
    """A short, credential-free reason if `exc` means the server cannot be reached, else None."""
    if isinstance(exc, mongo_errors.ServerSelectionTimeoutError):
        return 'no server answered in time'
    if exc.timeout:  # timeoutMS expired, client- or server-side (ExecutionTimeout, code 50)
        return 'timed out'
    if isinstance(exc, mongo_errors.NetworkTimeout):
        return 'network timeout'
    if isinstance(exc, mongo_errors.WaitQueueTimeoutError):
        return 'connection pool exhausted'
    if isinstance(exc, mongo_errors.ConnectionFailure):  # AutoReconnect, NotPrimaryError included
        return 'connection lost'
    if isinstance(exc, mongo_errors.OperationFailure):
        if exc.code == 18:
            return 'authentication failed'
        if exc.code in _UNAVAILABLE_CODES or exc.has_error_label('NetworkError'):
            return 'server unavailable'
    return None


def _duplicate_field(exc: mongo_errors.DuplicateKeyError, collection: str, known_fields: set[str]) -> str:
    """Name the field a duplicate-key error is about.

    Real MongoDB reports ``keyPattern``/``keyValue``; wire-compatible servers
    such as nx-27017 report only a message naming the index (``username_1`` or
    neosqlite's ``idx_<collection>_<field>``), so fall back to parsing it.
    """
    details = exc.details or {}
    for key in ('keyPattern', 'keyValue'):
        value = details.get(key)
        if isinstance(value, dict) and value:
            return str(next(iter(value)))
    message = str(details.get('errmsg') or exc)
    match = re.search(r'index: (\S+?)_-?1\b', message)
    if match:
        return match.group(1)
    if f'{collection}._id' in message or 'index: _id_' in message:
        return '_id'
    match = re.search(r"index '([^']+)'", message)  # nx-27017 passes neosqlite's message through
    if match:
        suffix = match.group(1).removeprefix(f'idx_{collection}_')
        return next((f for f in known_fields if f.replace('.', '_') == suffix), suffix)
    return 'key'


def _has_fragile_float(value: Any) -> bool:
    """Whether `value` holds a float that 15 significant digits cannot carry exactly (or a -0.0).

    Those are the floats a wire-compatible server writing through SQLite's
    ``json_set`` may change; any other float comes back to the bit.
    """
    if isinstance(value, float):
        return float(f'{value:.15g}') != value or math.copysign(1, value) < 0
    if isinstance(value, dict):
        return any(map(_has_fragile_float, value.values()))
    if isinstance(value, list | tuple):
        return any(map(_has_fragile_float, value))
    return False


def _same(stored: Any, sent: Any) -> bool:
    """Whether the server gave back exactly what was sent: same types, floats to the bit (sign of zero too)."""
    if isinstance(sent, float):
        return isinstance(stored, float) and stored == sent and math.copysign(1, stored) == math.copysign(1, sent)
    if isinstance(sent, dict):
        return (
            isinstance(stored, dict)
            and stored.keys() == sent.keys()
            and all(_same(stored[key], value) for key, value in sent.items())
        )
    if isinstance(sent, list | tuple):
        return isinstance(stored, list) and len(stored) == len(sent) and all(map(_same, stored, sent))
    return type(stored) is type(sent) and stored == sent


class MongoCollection(Collection):
    def __init__(self, database: MongoDatabase, name: str, *, durable: bool = False) -> None:
        self._database = database
        self.name = name
        self.durable = durable
        self._unique_fields: set[str] = set()

    def _raw(self) -> AsyncCollection[Document]:
        return self._database.raw_database()[self.name]

    @property
    def write_concern(self) -> WriteConcern | None:
        """``majority`` for a durable collection unless the server is standalone; None: the server's default."""
        return MAJORITY if self.durable and not self._database.standalone() else None

    def _writer(self) -> AsyncCollection[Document]:
        concern = self.write_concern
        raw = self._raw()
        return raw if concern is None else raw.with_options(write_concern=concern)

    @contextmanager
    def _errors(self) -> Iterator[None]:
        self._database.operations += 1
        try:
            yield
        except mongo_errors.DuplicateKeyError as exc:
            raise DuplicateKeyError(_duplicate_field(exc, self.name, self._unique_fields)) from None
        except mongo_errors.PyMongoError as exc:
            reason = _unavailable_reason(exc)
            if reason is None:
                raise
            raise StoreUnavailableError(STORE_NAME, reason) from None

    async def insert_one(self, document: Document) -> None:
        check_document(document)
        with self._errors():
            await self._writer().insert_one(document)

    async def find_one(self, filter: Filter) -> Document | None:
        check_filter(filter)
        with self._errors():
            return await self._raw().find_one(filter)

    async def find(self, filter: Filter, *, sort: Sort | None = None, limit: int = 0, skip: int = 0) -> list[Document]:
        check_filter(filter)
        with self._errors():
            cursor = self._raw().find(filter, sort=sort or None, limit=limit, skip=skip)
            return await cursor.to_list(None)

    async def update_one(self, filter: Filter, values: Document) -> bool:
        """``$set`` `values` on the first match, and make sure the server kept its floats exactly.

        MongoDB does. A wire-compatible server may not: nx-27017 (MongoDB on
        SQLite) writes a ``$set`` float through SQLite's ``json_set``, with 15
        significant digits and -0.0 made 0.0. So an update that carries a float
        reads the document back, and replaces it whole if a value came back
        changed. (``findAndModify`` would save the read, but nx-27017 answers a
        unique-index clash there with "no match" instead of an error.)
        """
        check_filter(filter)
        check_document(values, 'update')
        exact = not _has_fragile_float(values)
        if not exact and not isinstance(filter.get('_id'), str):
            with self._errors():
                first = await self._raw().find_one(filter, {'_id': 1})
            if first is None:
                return False
            filter = {'_id': first['_id']}
        with self._errors():
            result = await self._writer().update_one(filter, {'$set': values})
        if result.matched_count == 0:
            return False
        if not exact:
            with self._errors():
                written = await self._raw().find_one({'_id': filter['_id']})
            if written is not None and not all(
                key in written and _same(written[key], value) for key, value in values.items()
            ):
                await self._replace_exactly(written, values)
        return True

    async def _replace_exactly(self, current: Document, values: Document) -> None:
        """Replace `current` with `values` applied, unless the document changed since it was read.

        The guard holds every scalar field as read (a server without multi-document
        transactions can compare those); a concurrent write makes it miss, and the
        merge is done again on a fresh read.
        """
        for _ in range(REPLACE_ATTEMPTS):
            guard = {key: value for key, value in current.items() if not isinstance(value, dict | list)}
            with self._errors():
                result = await self._writer().replace_one(guard, {**current, **values})
            if result.matched_count:
                return
            with self._errors():
                fresh = await self._raw().find_one({'_id': current['_id']})
            if fresh is None:
                return  # deleted meanwhile: nothing left to update
            current = fresh
        raise StoreUnavailableError(STORE_NAME, 'the document kept changing while it was updated')

    async def delete_one(self, filter: Filter) -> bool:
        check_filter(filter)
        with self._errors():
            return (await self._writer().delete_one(filter)).deleted_count > 0

    async def delete_many(self, filter: Filter) -> int:
        check_filter(filter)
        with self._errors():
            return (await self._writer().delete_many(filter)).deleted_count

    async def count(self, filter: Filter) -> int:
        check_filter(filter)
        with self._errors():
            return await self._raw().count_documents(filter)

    async def create_unique_index(self, field: str) -> None:
        self._unique_fields.add(field)
        with self._errors():
            await self._raw().create_index(field, unique=True)

    async def create_index(self, field: str | tuple[str, ...]) -> None:
        keys = [(field, 1)] if isinstance(field, str) else [(name, 1) for name in field]
        with self._errors():
            await self._raw().create_index(keys)


class MongoDatabase(Database):
    """The database named in the URL path (``mongodb://host/dbname``), else ``panther_like``."""

    name = 'mongodb'
    store_name = STORE_NAME

    def __init__(self, url: str) -> None:
        if not url.startswith(('mongodb://', 'mongodb+srv://')):
            raise ValueError("a MongoDB URL must start with 'mongodb://' or 'mongodb+srv://'")
        self._password: str | None = None
        if url.startswith('mongodb://'):  # +srv would need DNS here; let the driver check it later
            try:
                parsed = parse_uri(url)
            except (mongo_errors.InvalidURI, mongo_errors.ConfigurationError, ValueError) as exc:
                raise ValueError(f'invalid MongoDB URL: {_redact(str(exc), None)}') from None
            self._password = parsed.get('password')
        self._url = url
        self._client: AsyncMongoClient[Document] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._collections: dict[tuple[str, bool], MongoCollection] = {}

    def __repr__(self) -> str:
        return f'MongoDatabase({_redact(self._url, self._password)!r})'

    def _current_client(self) -> AsyncMongoClient[Document]:
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            # The old client (if any) is tied to a loop that is gone or not ours; it cannot
            # be awaited from here, so it is dropped and garbage collected.
            self._client = AsyncMongoClient(self._url, **CLIENT_OPTIONS)
            self._loop = loop
        return self._client

    def raw_database(self) -> AsyncDatabase[Document]:
        """The `AsyncDatabase` for the running loop (escape hatch for backend-specific needs)."""
        return self._current_client().get_default_database(default=DEFAULT_DATABASE)

    def collection(self, name: str, *, durable: bool = False) -> MongoCollection:
        collection = self._collections.get((name, durable))
        if collection is None:
            collection = self._collections[(name, durable)] = MongoCollection(self, name, durable=durable)
        return collection

    def standalone(self) -> bool:
        """True once the driver has found only standalone servers (no replica set, no mongos)."""
        servers = self._current_client().topology_description.server_descriptions().values()
        return bool(servers) and all(server.server_type == SERVER_TYPE.Standalone for server in servers)

    async def connect(self) -> None:
        self._current_client()

    async def close(self) -> None:
        client, loop = self._client, self._loop
        self._client = self._loop = None
        if client is not None:
            try:
                running = asyncio.get_running_loop()
            except RuntimeError:
                running = None
            if loop is running:
                await client.close()

    async def ping(self) -> None:
        try:
            await self._current_client().admin.command('ping')
        except mongo_errors.PyMongoError as exc:
            raise StoreUnavailableError(STORE_NAME, _unavailable_reason(exc) or 'ping failed') from None
