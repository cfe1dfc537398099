"""The schemas an OpenAPI document refers to: pydantic models named once in ``components.schemas``.

Apart from `panther_like.openapi.document` so that the document's module
holds the document's shape (which operations, which responses) and this one
how a model becomes a schema.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import orjson
from pydantic import BaseModel, TypeAdapter

from panther_like.exceptions import ConfigError


class FieldError(BaseModel):
    """One problem of a 422: where (``["email"]``, ``["items", 0, "price"]``), what, and its pydantic type."""

    loc: list[str | int]
    msg: str
    type: str


class ValidationErrorResponse(BaseModel):
    """The body of a 422 (`panther_like.http.validation.invalid`): a sentence, and each field's problem."""

    detail: str
    errors: list[FieldError]


def canonical(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


class Schemas:
    """``components.schemas``: pydantic models by name (a hash suffix on a name clash), dicts inline."""

    def __init__(self) -> None:
        self.components: dict[str, Any] = {}
        self._names: dict[type, str] = {}

    def ref(self, model: Any) -> dict[str, Any]:
        if isinstance(model, type) and issubclass(model, BaseModel):
            name = self._names.get(model)
            if name is None:
                schema = model.model_json_schema(ref_template='#/components/schemas/{model}')
                for def_name, definition in schema.pop('$defs', {}).items():
                    self.components.setdefault(def_name, definition)
                name = model.__name__
                if name in self.components and self.components[name] != schema:
                    name = f'{name}_{hashlib.sha256(canonical(schema)).hexdigest()[:8]}'
                self.components[name] = schema
                self._names[model] = name
            return {'$ref': f'#/components/schemas/{name}'}
        if isinstance(model, Mapping):
            return dict(model)
        try:  # list[Item], Item | None, ...: what pydantic can describe
            schema = TypeAdapter(model).json_schema(ref_template='#/components/schemas/{model}')
        except Exception:
            raise ConfigError(
                'openapi_responses', model, f'{model!r} is not a pydantic model or a JSON schema dict'
            ) from None
        for def_name, definition in schema.pop('$defs', {}).items():
            self.components.setdefault(def_name, definition)
        return schema
