"""The model classes under their documented module name; they live in `panther_like.db.model` and `.user`."""

from panther_like.db.model import Model, Operators, bind_models, to_storable
from panther_like.db.user import PROTECTED_USER_FIELDS, BaseUser

__all__ = ['PROTECTED_USER_FIELDS', 'BaseUser', 'Model', 'Operators', 'bind_models', 'to_storable']
