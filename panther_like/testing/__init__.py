"""Testing helpers for projects built on panther_like.

``TestClient`` calls an app in-process (HTTP through httpx's ASGI
transport, websockets through an in-process ASGI client), with
``login_as(user)`` and ``force_authenticate(user)``. The pytest plugin in
`panther_like.testing.pytest_plugin` gives a project ``panther_app``,
``client`` and ``user`` fixtures in one line of its ``conftest.py``.
httpx is needed: ``pip install 'panther-like[testing]'``.
"""

from panther_like.testing.client import TestClient
from panther_like.testing.websocket import WebsocketClosed, WebsocketRefused, WebsocketTestSession

__all__ = ['TestClient', 'WebsocketClosed', 'WebsocketRefused', 'WebsocketTestSession']
