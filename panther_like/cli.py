"""The ``panther-like`` command: check, run, routes, createuser, token.

Why a command at all: a deploy script needs one call that fails loudly on
a configuration mistake (``check``, exit status 2, never a traceback), an
operator needs a user and a token without writing Python (``createuser``,
``token``), and a newcomer needs to see what the settings produced
(``routes`` and the start-up summary of ``run``). Every subcommand takes
``--configs`` (default: ``$PANTHER_LIKE_CONFIGS``, else ``configs``) and
runs from the project directory, which is put on ``sys.path`` first.

Exit status: 0 success, 1 an operational failure (port in use, unknown
user, store down), 2 a configuration mistake.
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import getpass
import json
import os
import socket
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from panther_like.exceptions import APIError, ConfigError, StoreUnavailableError

if TYPE_CHECKING:
    from panther_like.app import Panther

EXIT_FAILURE = 1
EXIT_CONFIG_ERROR = 2
CONFIGS_HELP = 'settings module (default: $PANTHER_LIKE_CONFIGS, else the module named configs)'
SERVED_APP = 'panther_like.cli:served_app'
# What `run` tells its workers (each builds or imports its own app): the APP argument and the drain delay.
APP_ENV_VAR = 'PANTHER_LIKE_APP'
DRAIN_ENV_VAR = 'PANTHER_LIKE_DRAIN_SECONDS'


class CommandError(Exception):
    """A failure the command explains in one line (exit status 1), not a bug."""


# -- building the app -----------------------------------------------------------------------


def _project_on_path() -> None:
    """Import the project from the working directory, as ``uvicorn`` and ``python -m`` do."""
    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.insert(0, cwd)


def build(configs: str | None) -> Panther:
    from panther_like.app import Panther

    _project_on_path()
    return Panther(configs=configs)


def load_app(target: str | None, configs: str | None = None) -> Any:
    """The APP ``module:attribute`` names, else the app built from the settings."""
    from uvicorn.importer import ImportFromStringError, import_from_string

    if not target:
        return build(configs)
    _project_on_path()
    try:
        return import_from_string(target)
    except ImportFromStringError as exc:
        raise CommandError(f'cannot load the app {target!r}: {exc}') from None


def served_app() -> Any:
    """What each worker of ``panther-like run`` serves (a uvicorn factory): its APP, with the drain delay set."""
    from panther_like.app import Panther

    app = load_app(os.environ.get(APP_ENV_VAR))
    if isinstance(app, Panther):
        app.drain.seconds = float(os.environ.get(DRAIN_ENV_VAR) or 0)
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


# -- describing the app (routes, run's summary) ---------------------------------------------


def dotted(obj: Any) -> str:
    return f'{obj.__module__}.{obj.__qualname__}'


def route_rows(app: Panther) -> list[tuple[str, str, str]]:
    """(path, methods, authentication) for every route, in the order of the URL dict."""
    from panther_like.websocket import WebsocketEndpoint

    rows = []
    for path, endpoint in app.router.routes:
        websocket = isinstance(endpoint, WebsocketEndpoint)
        methods = 'WEBSOCKET' if websocket else ', '.join(endpoint.handlers)
        authenticator = endpoint.guard.authenticator
        auth = '-' if authenticator is None else authenticator.describe()
        if getattr(endpoint.target, 'auth', None) is True:
            auth += ' (WS_AUTHENTICATION)' if websocket else ' (AUTHENTICATION)'
        rows.append(('/' + path, methods, auth))
    return rows


def format_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    lines = ['  '.join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
             for row in [header, *rows]]
    return '\n'.join(lines)


def describe_url(url: str) -> str:
    """``scheme://host:port/path`` without user or password: safe to print and log."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition('@')[2]
    return f'{parts.scheme}://{host}{parts.path}'


def describe_store(app: Panther) -> str:
    url = app.config.database.get('url')
    if url:
        return f'MongoDB at {describe_url(str(url))}'
    return f'embedded store at {getattr(app.database, "path", "?")}'


def describe_revocations(app: Panther) -> str:
    redis = app.config.redis
    if redis is None:
        return 'in the database'
    if redis.url:
        return f'Redis at {describe_url(redis.url)}'
    return f'Redis: {redis.describe()}'


async def probe_stores(app: Panther) -> list[str]:
    """One line per store that does not answer now; the app still starts (requests get 503)."""
    problems = []
    try:
        await app.database.connect()
        await app.database.ping()
    except StoreUnavailableError as exc:
        problems.append(exc.detail)
    try:
        await app.revocations.is_revoked('panther-like:probe')
    except StoreUnavailableError as exc:
        problems.append(exc.detail)
    finally:
        await app.shutdown()
    return problems


def summary(app: Panther, *, target: str, url: str, workers: int, problems: Sequence[str]) -> str:
    config = app.config
    lines = [
        f'panther-like: serving {target} on {url} ({workers} worker{"s" if workers != 1 else ""})',
        f'  settings        {config.module_name}',
        f'  store           {describe_store(app)}',
        f'  revocations     {describe_revocations(app)}',
        f'  authentication  HTTP: {dotted(config.authentication) if config.authentication else "not set"}; '
        f'websockets: {dotted(config.ws_authentication) if config.ws_authentication else "not set"}',
        f'  routes          {len(app.router.routes)} (list them with: panther-like routes)',
    ]
    for problem in problems:
        lines.append(f'  WARNING         {problem}; requests that need it get 503 until it answers')
    return '\n'.join(lines)


def port_problem(host: str, port: int) -> str | None:
    """Why uvicorn could not listen on host:port, checked first so the user gets one line, not a log."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        return f'cannot listen on {host}:{port} ({exc.strerror}); check --host'
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return (f'port {port} on {host} is already in use (another server is running there); '
                        f'stop it or choose another port with --port')
            return f'cannot listen on {host}:{port} ({exc.strerror}); choose another --host or --port'
    return None


# -- subcommands ------------------------------------------------------------------------------


def cmd_check(args: argparse.Namespace) -> int:
    app = build(args.configs)
    print(f'OK: settings {app.config.module_name!r}, {len(app.router.routes)} routes')
    return 0


def cmd_routes(args: argparse.Namespace) -> int:
    app = build(args.configs)
    print(format_table(('PATH', 'METHODS', 'AUTHENTICATION'), route_rows(app)))
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    import uvicorn

    from panther_like.app import Panther

    if args.drain_seconds < 0 or (args.graceful_timeout is not None and args.graceful_timeout < 0):
        raise CommandError('--drain-seconds and --graceful-timeout must be numbers of seconds >= 0')
    if args.configs:
        os.environ['PANTHER_LIKE_CONFIGS'] = args.configs  # read again by every worker
    os.environ[APP_ENV_VAR] = args.app or ''
    os.environ[DRAIN_ENV_VAR] = str(args.drain_seconds)
    _project_on_path()
    app = load_app(args.app, args.configs)
    problem = port_problem(args.host, args.port)
    if problem:
        raise CommandError(problem)
    if isinstance(app, Panther):
        problems = asyncio.run(probe_stores(app))
        print(summary(app, target=args.app or f'the app of {app.config.module_name!r}',
                      url=f'http://{args.host}:{args.port}', workers=args.workers or 1, problems=problems),
              flush=True)
    uvicorn.run(
        SERVED_APP, factory=True, host=args.host, port=args.port,
        workers=args.workers, reload=args.reload, log_level=args.log_level, app_dir=os.getcwd(),
        # uvicorn's default websocket implementations never answer a handshake whose request line
        # exceeds 8 KiB and keep the connection open; wsproto answers it (tests/security).
        ws='wsproto',
        timeout_graceful_shutdown=args.graceful_timeout,
    )
    return 0


def _read_credentials(args: argparse.Namespace) -> tuple[str, str]:
    interactive = sys.stdin.isatty()
    username = args.username
    if not username:
        if not interactive:
            raise CommandError('no username: pass --username NAME')
        username = input('Username: ').strip()
    if args.password_stdin:
        password = sys.stdin.readline().rstrip('\r\n')
    elif interactive:
        password = getpass.getpass('Password: ')
        if getpass.getpass('Password (again): ') != password:
            raise CommandError('the two passwords differ; nothing was created')
    else:
        raise CommandError('no terminal to ask for the password: pass --password-stdin and write it on stdin')
    if not username or not password:
        raise CommandError('the username and the password must not be empty')
    return username, password


def _extra_fields(pairs: Sequence[str]) -> dict[str, str]:
    fields = {}
    for pair in pairs:
        name, separator, value = pair.partition('=')
        if not separator or not name.isidentifier():
            raise CommandError(f'--field expects NAME=VALUE, got {pair!r}')
        if name in ('id', 'username', 'password'):
            raise CommandError(f'--field cannot set {name!r}; use --username and --password-stdin')
        fields[name] = value
    return fields


def cmd_createuser(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from panther_like.exceptions import DuplicateKeyError

    app = build(args.configs)
    username, password = _read_credentials(args)
    fields = _extra_fields(args.field)
    model = app.config.user_model

    async def create() -> int:
        try:
            user = await model.insert_one(**fields, username=username, password=password)
        except DuplicateKeyError:
            raise CommandError(f'a user named {username!r} already exists; choose another --username') from None
        except ValidationError as exc:
            problems = '; '.join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            raise CommandError(f'{model.__name__} rejected the fields: {problems}') from None
        print(f'Created {model.__name__} {user.username!r} (id {user.id}) in the {describe_store(app)}')
        return 0

    return _with_store(app, create)


def cmd_token(args: argparse.Namespace) -> int:
    app = build(args.configs)
    if app.tokens is None:
        raise ConfigError('JWTConfig', None, "no JWT key is configured: set SECRET_KEY or JWTConfig['key']")
    model = app.config.user_model

    async def issue() -> int:
        user = await model.find_one(username=args.username)
        if user is None:
            raise CommandError(f'no user {args.username!r} in {model.__name__}; '
                               f'create one with: panther-like createuser --username {args.username}')
        tokens = await user.login()
        print(tokens['access_token'] if args.access else json.dumps(tokens, indent=2))
        return 0

    return _with_store(app, issue)


# -- parser -----------------------------------------------------------------------------------


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog='panther-like', description='Check, serve and operate a panther_like project.',
        epilog='Run it from the project directory. Exit status: 0 ok, 1 failure, 2 configuration error.',
    )
    from panther_like import __version__

    parser.add_argument('--version', action='version', version=f'panther-like {__version__}')
    commands = parser.add_subparsers(dest='command', required=True, metavar='COMMAND')

    def command(name: str, handler: Callable[[argparse.Namespace], int], help: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help, description=help)
        sub.add_argument('--configs', help=CONFIGS_HELP)
        sub.set_defaults(handler=handler)
        return sub

    command('check', cmd_check, 'build the app from the settings and report the first mistake')
    command('routes', cmd_routes, 'list every route: path, methods and the authentication guarding it')

    run = command('run', cmd_run, 'serve the app with uvicorn, after a one-screen start-up summary')
    run.add_argument('app', nargs='?', metavar='APP',
                     help='module:attribute of the ASGI app (default: the app built from the settings)')
    run.add_argument('--host', default='127.0.0.1', help='interface to listen on (default: 127.0.0.1)')
    run.add_argument('--port', type=int, default=8000, help='port to listen on (default: 8000)')
    run.add_argument('--workers', type=int, default=None, help='worker processes (default: 1)')
    run.add_argument('--reload', action='store_true', help='restart when a source file changes (development)')
    run.add_argument('--drain-seconds', type=float, default=0.0, metavar='SECONDS',
                     help='on SIGTERM, answer 503 on the readiness route for this long before the graceful shutdown '
                          'starts, so that a load balancer stops sending here first (default: 0)')
    run.add_argument('--graceful-timeout', type=float, default=None, metavar='SECONDS',
                     help='at shutdown, wait at most this long for requests in flight (default: until they finish)')
    run.add_argument('--log-level', default='info', choices=['critical', 'error', 'warning', 'info', 'debug'])

    create = command('createuser', cmd_createuser,
                     'add a user to USER_MODEL (asks for the password twice, hidden, unless --password-stdin)')
    create.add_argument('--username', help='the username (asked for when missing and stdin is a terminal)')
    create.add_argument('--password-stdin', action='store_true', help='read the password from the first line of stdin')
    create.add_argument('--field', action='append', default=[], metavar='NAME=VALUE',
                        help='another field of your user model, e.g. --field email=ann@example.com (repeatable)')

    token = command('token', cmd_token, "print a fresh access/refresh token pair for a user (JSON)")
    token.add_argument('username', metavar='USERNAME')
    token.add_argument('--access', action='store_true', help='print only the access token (for scripts)')
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = make_parser().parse_args(argv)
    try:
        return args.handler(args)
    except ConfigError as exc:
        print(f'panther-like: configuration error: {exc}', file=sys.stderr)
        return EXIT_CONFIG_ERROR
    except CommandError as exc:
        print(f'panther-like: {exc}', file=sys.stderr)
        return EXIT_FAILURE
    except APIError as exc:  # a taken username (409), a store that is down (503), ...
        print(f'panther-like: {exc.detail}', file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print(file=sys.stderr)
        return 130


if __name__ == '__main__':
    sys.exit(main())
