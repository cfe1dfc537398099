"""An app whose views hand what a client sent straight to the model API, served by uvicorn in the tests.

Nothing here checks types: each view is as careless as a view can be, so
what a client gets back is what the model layer alone guarantees (a 422
naming the field, never a 500; no operator smuggled into a filter; no NUL
reaching a store). Settings come from the environment (``STOREAPP_DB_PATH``
or ``STOREAPP_MONGODB_URL``), so one module serves both stores.
"""

from __future__ import annotations

import os
import sys
import types
from typing import Any, ClassVar

from panther_like import API, Panther, Request
from panther_like.db import Model
from panther_like.exceptions import NotFoundAPIError


class Person(Model):
    name: str
    email: str | None = None
    age: int = 0
    score: float = 0.0
    tags: list[str] = []

    unique_fields: ClassVar[tuple[str, ...]] = ('name',)
    name_fields: ClassVar[frozenset[str]] = frozenset({'email'})


def _body(request: Request) -> dict[str, Any]:
    return request.data if isinstance(request.data, dict) else {}


@API(methods=['POST'])
async def create(request: Request) -> Any:
    return (await Person.insert_one(**_body(request))).model_dump()


@API(methods=['POST'])
async def search(request: Request) -> Any:
    """Filter by whatever the body says: ``{"email": {"$ne": null}}`` must not match every person."""
    found = await Person.find(**_body(request))
    return {'count': len(found), 'names': [person.name for person in found]}


@API(methods=['GET'])
async def lookup(request: Request) -> Any:
    """Filter by the query string (``?email=...``): strings only, so NUL and control characters are the probes."""
    person = await Person.find_one(**dict(request.query_params))
    if person is None:
        raise NotFoundAPIError('No such person')
    return person.model_dump()


@API(methods=['PATCH'])
async def change(request: Request, name: str) -> Any:
    person = await Person.find_one(name=name)
    if person is None:
        raise NotFoundAPIError('No such person')
    await person.update(**_body(request))
    return person.model_dump()


def _settings() -> types.ModuleType:
    settings = types.ModuleType('storeapp_settings')
    settings.SECRET_KEY = 'storeapp-secret-key-0123456789-abcdefghijklmnop'
    settings.DATABASE = {
        'url': os.environ.get('STOREAPP_MONGODB_URL') or None,
        'path': os.environ.get('STOREAPP_DB_PATH') or None,
    }
    settings.OPENAPI = {'title': 'Careless views under test', 'version': '1.0.0'}
    sys.modules[settings.__name__] = settings
    return settings


app = Panther(
    configs=_settings(),
    urls={'people': create, 'people/search': search, 'people/lookup': lookup, 'people/<name>': change},
)
