"""The ``panther-like`` command: ``check`` the settings, ``run`` the app with uvicorn.

A configuration mistake prints the `ConfigError` message (never a
traceback) and exits with status 2, so a deploy script stops on it.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from panther_like.exceptions import ConfigError

EXIT_CONFIG_ERROR = 2


def _build(configs: str | None) -> object:
    from panther_like.app import Panther

    sys.path.insert(0, os.getcwd())
    return Panther(configs=configs)


def _check(args: argparse.Namespace) -> int:
    app = _build(args.configs)
    print(f'OK: settings {app.config.module_name!r}, {len(app.router.routes)} routes')
    return 0


def _run(args: argparse.Namespace) -> int:
    import uvicorn

    if args.configs:
        os.environ['PANTHER_LIKE_CONFIGS'] = args.configs
    if args.app == 'example_app.main:app' or not args.reload:
        _build(args.configs)  # fail fast, with the message, before uvicorn starts workers
    uvicorn.run(args.app, host=args.host, port=args.port, workers=args.workers, reload=args.reload,
                app_dir=os.getcwd())
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog='panther-like', description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest='command', required=True)
    check = commands.add_parser('check', help='build the app from the settings and report mistakes')
    check.add_argument('--configs', help='settings module (default: $PANTHER_LIKE_CONFIGS, else configs)')
    check.set_defaults(handler=_check)
    run = commands.add_parser('run', help='serve the app with uvicorn')
    run.add_argument('app', nargs='?', default='example_app.main:app', help='module:attribute of the app')
    run.add_argument('--configs', help='settings module (default: $PANTHER_LIKE_CONFIGS, else configs)')
    run.add_argument('--host', default='127.0.0.1')
    run.add_argument('--port', type=int, default=8000)
    run.add_argument('--workers', type=int, default=None)
    run.add_argument('--reload', action='store_true')
    run.set_defaults(handler=_run)
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except ConfigError as exc:
        print(f'panther-like: configuration error: {exc}', file=sys.stderr)
        return EXIT_CONFIG_ERROR


if __name__ == '__main__':
    sys.exit(main())
