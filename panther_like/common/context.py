"""The app this process serves, for the class-level APIs that have no request in reach.

Code that runs inside a request reads the app from the request
(``request.app``, which is ``scope['app']``), so two apps in one process
never mix. A few user-facing APIs have no request to ask:
``await User.find_one(...)`` is a classmethod and ``await user.login()``
may run in a script, so they find the app here. Building a `Panther`
binds it; one process serves one app, so this is one slot, and a test that
builds a second app simply rebinds it.
"""

from __future__ import annotations

from typing import Any, Protocol


class ServedApp(Protocol):
    """What the class-level APIs need from the app (see `panther_like.app.Panther`)."""

    config: Any
    database: Any
    tokens: Any
    login_throttle: Any


_current: ServedApp | None = None


def bind_app(app: ServedApp | None) -> None:
    """Called by `Panther` when it is built (None unbinds)."""
    global _current
    _current = app


def current_app() -> ServedApp:
    """The bound app; a clear error instead of an AttributeError deep inside a model."""
    if _current is None:
        raise RuntimeError('no panther_like app has been built in this process; build Panther(...) first')
    return _current
