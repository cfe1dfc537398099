"""The ``panther-like`` command: check, run, routes, createuser, token, migrate-usernames.

Why a command at all: a deploy script needs one call that fails loudly on
a configuration mistake (``check``, exit status 2, never a traceback), an
operator needs a user and a token without writing Python (``createuser``,
``token``), and a newcomer needs to see what the settings produced
(``routes`` and the start-up summary of ``run``). A store whose users
predate canonical usernames is migrated by ``migrate-usernames``, which
changes nothing when two accounts would collide. Every subcommand takes
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
SETTINGS_APP = 'panther_like.cli:app_from_settings'


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


def app_from_settings() -> Panther:
    """The ASGI app ``panther-like run`` serves when no APP is named (a uvicorn factory, one per worker)."""
    return build(None)


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
    return f'Redis at {describe_url(app.config.redis_url)}' if app.config.redis_url else 'in the database'


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
        f'  proxies         {config.trusted_proxies.describe()} (TRUSTED_PROXIES: whose X-Forwarded-For is believed)',
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
    from uvicorn.importer import ImportFromStringError, import_from_string

    from panther_like.app import Panther

    if args.configs:
        os.environ['PANTHER_LIKE_CONFIGS'] = args.configs  # read again by every worker
    _project_on_path()
    if args.app:
        try:
            app = import_from_string(args.app)
        except ImportFromStringError as exc:
            raise CommandError(f'cannot load the app {args.app!r}: {exc}') from None
    else:
        app = build(args.configs)
    problem = port_problem(args.host, args.port)
    if problem:
        raise CommandError(problem)
    proxies: dict[str, Any] = {}
    if isinstance(app, Panther):
        problems = asyncio.run(probe_stores(app))
        print(summary(app, target=args.app or f'the app of {app.config.module_name!r}',
                      url=f'http://{args.host}:{args.port}', workers=args.workers or 1, problems=problems),
              flush=True)
        # uvicorn's own proxy-header handling trusts 127.0.0.1 and ::1 unless told otherwise, and a
        # client it has rewritten cannot be undone by the app: give it TRUSTED_PROXIES, or nothing.
        trusted = app.config.trusted_proxies
        proxies = {'proxy_headers': bool(trusted), 'forwarded_allow_ips': trusted.uvicorn_value() or None}
    uvicorn.run(
        args.app or SETTINGS_APP, factory=not args.app, host=args.host, port=args.port,
        workers=args.workers, reload=args.reload, log_level=args.log_level, app_dir=os.getcwd(),
        # uvicorn's default websocket implementations never answer a handshake whose request line
        # exceeds 8 KiB and keep the connection open; wsproto answers it (tests/security).
        ws='wsproto', **proxies,
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
        if name in ('id', 'username', 'password', 'username_key', 'is_superuser', 'is_active', 'is_verified'):
            raise CommandError(f'--field cannot set {name!r}; use --username, --password-stdin, --superuser, '
                               '--inactive or --verified')
        fields[name] = value
    return fields


def cmd_createuser(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from panther_like.api import validation_problems
    from panther_like.exceptions import DuplicateKeyError

    app = build(args.configs)
    username, password = _read_credentials(args)
    fields = _extra_fields(args.field)
    fields.update(is_superuser=args.superuser, is_active=not args.inactive, is_verified=args.verified)
    model = app.config.user_model

    async def create() -> int:
        try:
            user = await model.insert_one(**fields, username=username, password=password)
        except DuplicateKeyError:
            raise CommandError(f'a user named {username!r} already exists; choose another --username') from None
        except ValidationError as exc:
            raise CommandError(f'{model.__name__} rejected the fields: {validation_problems(exc, 20)}') from None
        flags = ', '.join(name for name in ('superuser', 'inactive', 'verified') if getattr(args, name))
        print(f'Created {model.__name__} {user.username!r}{f" [{flags}]" if flags else ""} (id {user.id}) '
              f'in the {describe_store(app)}')
        return 0

    return _with_store(app, create)


def cmd_migrate_usernames(args: argparse.Namespace) -> int:
    from panther_like.db.migrations import migrate_usernames

    app = build(args.configs)

    async def main() -> int:
        try:  # not app.startup(): it refuses the very store this command repairs
            await app.database.connect()
            report = await migrate_usernames(app.database, app.config.user_model.collection_name,
                                             dry_run=args.dry_run)
        finally:
            await app.shutdown()
        if report.problems:
            lines = ['nothing was changed; rename these users (their "username" field), then run again:']
            raise CommandError('\n  '.join(lines + report.problems))
        where = 'dry run: nothing written' if args.dry_run else describe_store(app)
        print(f'{len(report.pending)} of {report.total} users need(ed) a canonical username key ({where})')
        return 0

    return asyncio.run(main())


def cmd_token(args: argparse.Namespace) -> int:
    app = build(args.configs)
    if app.tokens is None:
        raise ConfigError('JWTConfig', None, "no JWT key is configured: set SECRET_KEY or JWTConfig['key']")
    model = app.config.user_model

    async def issue() -> int:
        user = await model.find_by_username(args.username)
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
    run.add_argument('--log-level', default='info', choices=['critical', 'error', 'warning', 'info', 'debug'])

    create = command('createuser', cmd_createuser,
                     'add a user to USER_MODEL (asks for the password twice, hidden, unless --password-stdin)')
    create.add_argument('--username', help='the username (asked for when missing and stdin is a terminal)')
    create.add_argument('--password-stdin', action='store_true', help='read the password from the first line of stdin')
    create.add_argument('--field', action='append', default=[], metavar='NAME=VALUE',
                        help='another field of your user model, e.g. --field email=ann@example.com (repeatable)')
    for flag, meaning in (('superuser', 'set is_superuser'), ('inactive', 'is_active False: cannot log in'),
                          ('verified', 'set is_verified: the e-mail address is known good')):
        create.add_argument(f'--{flag}', action='store_true', help=meaning)

    migrate = command('migrate-usernames', cmd_migrate_usernames, 'give users stored before canonical '
                      'usernames their key (changes nothing when two would collide)')
    migrate.add_argument('--dry-run', action='store_true', help='count the users to migrate; write nothing')

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
