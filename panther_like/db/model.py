"""Document models: pydantic validation on top of whichever backend is bound.

Building a `Panther` binds the models to its database (`bind_models`): a
model is data, and the database is the one thing it needs to know, so
``await User.find_one(...)`` works in a handler and in a script alike.
One process serves one app, so this is one slot; a test that builds a
second app simply rebinds it.

A model class is a collection; its instances are documents. The id lives in
the ``id`` attribute and in the store's ``_id`` field, as a string (a
`bson.ObjectId` rendered as hex), so it is the same on both backends and in
a JWT's ``user_id`` claim.

Datetimes are stored as epoch floats and read back as aware UTC datetimes:
neosqlite's ``$set`` would store a datetime as a string, and a number
compares and sorts the same way on both backends (``$lt`` purges rely on it).
A datetime whose float would not read back to the same microsecond (before
1843 or after 2103, roughly) is refused rather than silently changed.

What a write gets wrong is a 422 (`ValidationAPIError`) naming the field,
never a 500: a value pydantic refuses, a field the model does not have, or
a value no store keeps exactly (`panther_like.db.values`). A filter takes
plain values only; operators must be asked for with `Operators`.
"""

from __future__ import annotations

import enum
import unicodedata
import uuid
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, ClassVar, Protocol, Self

import bson
from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError, model_validator

from panther_like.db.backend import Collection, Database
from panther_like.db.queries import SortSpec, store_sort, window
from panther_like.db.values import check_document, find_problems, problem, refuse
from panther_like.http.validation import invalid

# Which (collection, unique fields) pairs already have their indexes, per Database object.
# Weak keys: a test that builds many apps does not keep their databases alive.
_indexed: weakref.WeakKeyDictionary[Database, set[tuple[str, tuple[str, ...]]]] = weakref.WeakKeyDictionary()


class UserSessions(Protocol):
    """What the user model hands its session conveniences to: the app's login-session service.

    Defined here, implemented above (`panther_like.login_state.sessions`), wired when the app is built:
    ``user.login()``, ``user.logout()`` and "this user changed" (which every worker's cache must hear).
    """

    async def user_changed(self, user_id: str) -> None: ...

    async def login(self, user: Any, *, scopes: Sequence[str] | None = None, request: Any = None) -> dict[str, str]: ...

    async def logout(self, claims: dict[str, Any], *, request: Any = None) -> None: ...

    async def refresh(self, refresh_token: str, *, request: Any = None) -> dict[str, str]: ...


@dataclass(frozen=True, slots=True)
class ModelBinding:
    """What the models were bound to: the database, and the login sessions (None without a JWT key)."""

    database: Database
    sessions: UserSessions | None = None


_binding: ModelBinding | None = None


def bind_models(database: Database | None, *, sessions: UserSessions | None = None) -> None:
    """Called when an app is built: every model reads and writes `database` (None unbinds)."""
    global _binding
    _binding = None if database is None else ModelBinding(database, sessions)


def model_binding() -> ModelBinding:
    """The binding; a clear error instead of an AttributeError deep inside a model."""
    if _binding is None:
        raise RuntimeError('no panther_like app has been built in this process; build Panther(...) first')
    return _binding


def _as_utc(value: datetime) -> datetime:
    """Naive datetimes are taken to be UTC; aware ones are converted to UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


_DATETIME = TypeAdapter(datetime)


def _epoch(value: datetime, loc: list[str | int]) -> float:
    """`value` as the float both stores keep; refused when reading it back would not give `value`."""
    value = _as_utc(value)
    stamp = value.timestamp()
    try:
        exact = _DATETIME.validate_python(stamp) == value
    except ValidationError:
        exact = False
    if not exact:
        raise refuse(
            'value',
            [
                problem(
                    loc,
                    'is a datetime the store cannot keep to the microsecond (use years 1843 to 2103)',
                    'datetime_range',
                )
            ],
        )
    return stamp


def to_storable(value: Any, loc: list[str | int] | None = None) -> Any:
    """Replace what the stores cannot hold (at any depth) with what reads back as the same value.

    Datetimes become epoch floats; dates ISO strings; decimals and UUIDs strings (exact, read back by
    the field's type); enums their value; tuples and sets lists.
    """
    if isinstance(value, datetime):
        return _epoch(value, loc or [])
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, enum.Enum):
        return to_storable(value.value, loc)
    if isinstance(value, dict):
        return {key: to_storable(item, [*(loc or []), key]) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_storable(item, [*(loc or []), index]) for index, item in enumerate(value)]
    return value


#: Not allowed in a name field: control (Cc), invisible format (Cf: zero-width, bidi overrides, BOM)
#: and line or paragraph separators (Zl, Zp). Two names differing only by one of them look the same.
_NAME_REFUSED = frozenset({'Cc', 'Cf', 'Zl', 'Zp'})


def _name_problem(value: Any) -> str | None:
    if isinstance(value, str):
        for character in value:
            if unicodedata.category(character) in _NAME_REFUSED:
                return f'must not contain a control or invisible character (U+{ord(character):04X})'
    elif isinstance(value, list | tuple):
        return next((found for item in value if (found := _name_problem(item))), None)
    return None


class Operators:
    """Query operators for one field, asked for explicitly: ``User.count(age=Operators({'$gte': 18}))``.

    A filter value that is a dict or a list is refused (422): a JSON body can hold
    ``{"$ne": null}``, and a view that passed it on would match any document.
    An `Operators` cannot come out of JSON, so wrapping is the one way to use them.
    The stores agree on ``$lt``, ``$lte``, ``$gt`` and ``$gte`` on numbers and datetimes.
    """

    SUPPORTED: ClassVar[frozenset[str]] = frozenset({'$lt', '$lte', '$gt', '$gte'})
    __slots__ = ('spec',)

    def __init__(self, spec: Mapping[str, Any]) -> None:
        if not isinstance(spec, Mapping) or not spec:
            raise ValueError(f'Operators needs a non-empty dict of {", ".join(sorted(self.SUPPORTED))}')
        unsupported = sorted(str(key) for key in spec if key not in self.SUPPORTED)
        if unsupported:
            raise ValueError(
                f'unsupported operator(s) {", ".join(unsupported)}; supported: {", ".join(sorted(self.SUPPORTED))}'
            )
        for value in spec.values():
            if isinstance(value, Mapping | list | tuple | set | frozenset | Operators):
                raise TypeError('an operator compares with a plain value (a number, a string or a datetime)')
        self.spec = dict(spec)

    def __repr__(self) -> str:
        return f'Operators({self.spec!r})'


_PLAIN = (str, int, float, bool, type(None))


def _store_filter(model: type[Model], filter: dict[str, Any]) -> dict[str, Any]:
    """Model-level filter (``id=...``, datetimes, `Operators`) to a backend filter (``_id``, floats)."""
    model.refuse_unknown_fields(filter, 'filter')
    problems = []
    stored: dict[str, Any] = {}
    for key, value in filter.items():
        if isinstance(value, Operators):
            value = {operator: to_storable(operand, [key, operator]) for operator, operand in value.spec.items()}
        else:
            value = to_storable(value, [key])
            if isinstance(value, dict | list):
                shape = 'an object' if isinstance(value, dict) else 'a list'
                problems.append(
                    problem(
                        [key],
                        f'must be a plain value, not {shape} (query operators are spelled Operators({{...}}) in code)',
                        'operator_not_allowed',
                    )
                )
                continue
            if not isinstance(value, _PLAIN):
                problems.append(problem([key], f'cannot be compared (a {type(value).__name__})', 'unsupported_type'))
                continue
        # NUL and numbers out of range, named by the model's field (the store would say ``_id`` for ``id``).
        found = find_problems(value, document=False, loc=(key,))
        if not found and key in model._name_fields() and (name_problem := _name_problem(value)):
            found = [problem([key], name_problem, 'string_control_character')]
        if found:
            problems.extend(found)
            continue
        stored['_id' if key == 'id' else key] = value
    if problems:
        raise refuse(f'filter of {model.__name__}', problems)
    return stored


class Model(BaseModel):
    """Subclass it, add fields, and use the async classmethods; see the module docstring."""

    model_config = ConfigDict(extra='ignore', validate_assignment=False)

    id: str | None = None

    collection_name: ClassVar[str]
    secret_fields: ClassVar[frozenset[str]] = frozenset()
    unique_fields: ClassVar[tuple[str, ...]] = ()
    #: Fields that name or identify a document: besides the `unique_fields`, these refuse control and
    #: invisible characters (Unicode Cc, Cf, Zl, Zp), in a write and in a filter alike.
    name_fields: ClassVar[frozenset[str]] = frozenset()
    #: Non-unique indexes: a field name, or a tuple of names for one index over several fields.
    indexes: ClassVar[tuple[str | tuple[str, ...], ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # Each subclass gets its own collection unless it names one itself.
        if 'collection_name' not in cls.__dict__:
            cls.collection_name = cls.__name__

    @model_validator(mode='after')
    def _datetimes_in_utc(self) -> Self:
        for name in type(self).model_fields:
            value = self.__dict__.get(name)
            if isinstance(value, datetime):
                self.__dict__[name] = _as_utc(value)
        return self

    # -- storage plumbing -------------------------------------------------------------------

    @classmethod
    async def _collection(cls) -> Collection:
        database = model_binding().database
        collection = database.collection(cls.collection_name)
        if cls.unique_fields or cls.indexes:
            done = _indexed.setdefault(database, set())
            key = (cls.collection_name, (*cls.unique_fields, *map(str, cls.indexes)))
            if key not in done:
                for field in cls.unique_fields:
                    await collection.create_unique_index(field)
                for index in cls.indexes:
                    await collection.create_index(index)
                done.add(key)
        return collection

    def _document(self) -> dict[str, Any]:
        data = self.model_dump(mode='python', exclude={'id'})
        document = {'_id': self.id}
        document.update(to_storable(data))
        return document

    @classmethod
    def _name_fields(cls) -> frozenset[str]:
        return cls.name_fields | frozenset(cls.unique_fields)

    @classmethod
    def refuse_unknown_fields(cls, fields: Mapping[str, Any], what: str = 'fields') -> None:
        """A field the model does not have is a 422, not silently dropped (a typo would lose data)."""
        unknown = [name for name in fields if name not in cls.model_fields]
        if unknown:
            known = ', '.join(cls.model_fields)
            raise refuse(
                f'{what} of {cls.__name__}',
                [
                    problem([name], f'{cls.__name__} has no such field (its fields: {known})', 'extra_forbidden')
                    for name in unknown
                ],
            )

    @classmethod
    def _refuse_bad_names(cls, values: Mapping[str, Any]) -> None:
        problems = [
            problem([name], found, 'string_control_character')
            for name in cls._name_fields()
            if name in values and (found := _name_problem(values[name]))
        ]
        if problems:
            raise refuse(f'fields of {cls.__name__}', problems)

    @classmethod
    def _from_document(cls, document: dict[str, Any]) -> Self:
        data = dict(document)
        data['id'] = str(data.pop('_id'))
        return cls.model_validate(data)

    # -- public API -------------------------------------------------------------------------

    @classmethod
    async def insert_one(cls, **fields: Any) -> Self:
        """Validate, give the document a fresh id, store it and return the instance.

        Any problem is a `ValidationAPIError` (422) naming the field: a wrong type, an unknown
        field, a value no store keeps exactly (NUL, a control character in a name field...).
        """
        cls.refuse_unknown_fields(fields)
        if fields.get('id') is None:
            fields['id'] = str(bson.ObjectId())
        try:
            instance = cls(**fields)
        except ValidationError as exc:
            raise invalid(exc, f'fields of {cls.__name__}') from None
        document = instance._document()
        check_document(document, f'fields of {cls.__name__}')
        cls._refuse_bad_names(instance.__dict__)
        collection = await cls._collection()
        await collection.insert_one(document)
        return instance

    @classmethod
    async def find_one(cls, **filter: Any) -> Self | None:
        """The first document equal to `filter` field by field; a dict or list value is refused (see `Operators`)."""
        stored = _store_filter(cls, filter)
        collection = await cls._collection()
        document = await collection.find_one(stored)
        return None if document is None else cls._from_document(document)

    @classmethod
    async def find(cls, *, sort: SortSpec = None, limit: int = 0, skip: int = 0, **filter: Any) -> list[Self]:
        """The documents equal to `filter`, in `sort` order (``'-name'``: descending), `skip` left out."""
        stored = _store_filter(cls, filter)
        window(cls.__name__, limit, skip)
        order = store_sort(cls.__name__, cls.model_fields, sort)
        collection = await cls._collection()
        found = await collection.find(stored, sort=order, limit=limit, skip=skip)
        return [cls._from_document(document) for document in found]

    @classmethod
    async def count(cls, **filter: Any) -> int:
        stored = _store_filter(cls, filter)
        collection = await cls._collection()
        return await collection.count(stored)

    @property
    def saved_id(self) -> str:
        """The id of a document read from or written to the store (a `LookupError` for one never saved)."""
        if self.id is None:
            raise LookupError(f'this {type(self).__qualname__} has not been stored')
        return self.id

    async def update(self, **fields: Any) -> None:
        """Validate `fields`, set them on this instance and ``$set`` them in the store."""
        if 'id' in fields:
            raise ValueError('the id of a stored document cannot change')
        model = type(self)
        model.refuse_unknown_fields(fields)
        # Validate through the model so update() accepts exactly what insert_one() accepts.
        try:
            validated = model.model_validate({**self.__dict__, **fields})
        except ValidationError as exc:
            raise invalid(exc, f'fields of {model.__name__}') from None
        values = {name: validated.__dict__[name] for name in fields}
        storable = to_storable(values)
        check_document(storable, f'fields of {model.__name__}')
        model._refuse_bad_names(values)
        collection = await model._collection()
        await collection.update_one({'_id': self.id}, storable)
        self.__dict__.update(values)

    async def delete(self) -> None:
        collection = await type(self)._collection()
        await collection.delete_one({'_id': self.id})

    def public_dict(self) -> dict[str, Any]:
        """The document as a response shows it: every field except the secret ones."""
        return self.model_dump(mode='python', exclude=set(self.secret_fields))
