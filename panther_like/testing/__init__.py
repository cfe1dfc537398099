"""Testing helpers for projects built on panther_like.

``TestClient`` calls an app in-process (HTTP through httpx's ASGI
transport, websockets through an in-process ASGI client), with
``login_as(user)`` and ``force_authenticate(user)``. The pytest plugin in
`panther_like.testing.pytest_plugin` gives a project ``panther_app``,
``client`` and ``user`` fixtures in one line of its ``conftest.py``.
httpx is needed: ``pip install 'panther-like[testing]'``.
"""

import importlib
import types
from typing import Any

from panther_like.testing.client import TestClient
from panther_like.testing.websocket import WebsocketClosed, WebsocketRefused, WebsocketTestSession

__all__ = ['TestClient', 'WebsocketClosed', 'WebsocketRefused', 'WebsocketTestSession', 'settings_with']


def settings_with(module: types.ModuleType | str, /, **overrides: Any) -> types.ModuleType:
    """A new settings module: every public name of `module` (a module or its dotted name), then `overrides`.

    Why not copy the ``isupper()`` names: ``JWTConfig`` is not upper-case, so
    such a copy silently loses the JWT settings. The original module is left
    untouched, so tests that derive different settings do not leak into each
    other.
    """
    source = importlib.import_module(module) if isinstance(module, str) else module
    derived = types.ModuleType(f'{source.__name__}_with_overrides')
    derived.__dict__.update({name: getattr(source, name) for name in dir(source) if not name.startswith('_')})
    derived.__dict__.update(overrides)
    return derived
