"""What every ``panther-like`` command shares: building the project's app, running work with its store open.

Every subcommand takes ``--configs`` (default: ``$PANTHER_LIKE_CONFIGS``,
else ``configs``) and runs from the project directory, which is put on
``sys.path`` first, as ``uvicorn`` and ``python -m`` do.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from panther_like.app import Panther
    from panther_like.http.asgi import ASGIApp

EXIT_FAILURE = 1
EXIT_CONFIG_ERROR = 2
CONFIGS_HELP = 'settings module (default: $PANTHER_LIKE_CONFIGS, else the module named configs)'


class CommandError(Exception):
    """A failure the command explains in one line (exit status 1), not a bug."""


def _project_on_path() -> None:
    """Import the project from the working directory, as ``uvicorn`` and ``python -m`` do."""
    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.insert(0, cwd)


def build(configs: str | None) -> Panther:
    from panther_like.app import Panther

    _project_on_path()
    return Panther(configs=configs)


def load_app(target: str | None, configs: str | None = None) -> Panther | ASGIApp:
    """The APP ``module:attribute`` names, else the app built from the settings."""
    from uvicorn.importer import ImportFromStringError, import_from_string

    if not target:
        return build(configs)
    _project_on_path()
    try:
        app: ASGIApp = import_from_string(target)  # whatever the project names, taken to be an ASGI app
    except ImportFromStringError as exc:
        raise CommandError(f'cannot load the app {target!r}: {exc}') from None
    return app


def _with_store(app: Panther, work: Callable[[], Awaitable[int]]) -> int:
    """Run `work` with the app's store open, as a request would find it."""

    async def main() -> int:
        await app.startup()
        try:
            return await work()
        finally:
            await app.shutdown()

    return asyncio.run(main())


def dotted(obj: Any) -> str:
    return f'{obj.__module__}.{obj.__qualname__}'
