"""How a `Model.find` call's ordering and window become a store query.

Kept apart from `panther_like.db.model` so the model stays readable; the two
stores take the same ``[(field, 1 | -1), ...]`` sort, so this is written once.
"""

from __future__ import annotations

from collections.abc import Collection as Names
from collections.abc import Sequence

from panther_like.db.backend import Sort

#: ``sort='name'``, ``sort='-created'`` or several of them, most significant first.
SortSpec = str | Sequence[str] | None


def store_sort(model_name: str, fields: Names[str], spec: SortSpec) -> Sort | None:
    """`spec` as the stores' sort; a ``-`` prefix sorts descending, ``id`` is the document id."""
    if spec is None:
        return None
    names = [spec] if isinstance(spec, str) else list(spec)
    sort: Sort = []
    for name in names:
        if not isinstance(name, str) or not name.lstrip('-'):
            raise ValueError(f'{model_name}.find: sort takes field names such as "name" or "-name", not {name!r}')
        field = name.lstrip('-')
        if field != 'id' and field not in fields:
            raise ValueError(f'{model_name}.find: cannot sort by {field!r}, which is not a field')
        sort.append(('_id' if field == 'id' else field, -1 if name.startswith('-') else 1))
    return sort


def window(model_name: str, limit: int, skip: int) -> None:
    """Refuse a `limit` or `skip` that is not a whole number >= 0 (0 is no limit)."""
    for what, value in (('limit', limit), ('skip', skip)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ValueError(f'{model_name}.find: {what} must be a whole number >= 0, not {value!r}')
