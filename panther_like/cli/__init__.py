"""The ``panther-like`` command: check, run, routes, createuser, token, migrate-usernames, migrate-user-collection.

Why a command at all: a deploy script needs one call that fails loudly on
a configuration mistake (``check``, exit status 2, never a traceback), an
operator needs a user and a token without writing Python (``createuser``,
``token``), and a newcomer needs to see what the settings produced
(``routes`` and the start-up summary of ``run``). A store whose users
predate canonical usernames is migrated by ``migrate-usernames``, which
changes nothing when two accounts would collide; one whose user model was
renamed, by ``migrate-user-collection``.

Exit status: 0 success, 1 an operational failure (port in use, unknown
user, store down), 2 a configuration mistake.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Sequence

from panther_like.cli.common import CONFIGS_HELP, EXIT_CONFIG_ERROR, EXIT_FAILURE, CommandError, build
from panther_like.cli.describe import format_table, route_rows
from panther_like.cli.limits import DEFAULT_LIMITS
from panther_like.cli.mfa import cmd_mfa
from panther_like.cli.serve import (
    DEFAULT_LIMIT_CONCURRENCY,
    DEFAULT_TIMEOUT_KEEP_ALIVE,
    SERVERS,
    cmd_run,
    probe_stores,
)
from panther_like.cli.users import cmd_createuser, cmd_migrate_user_collection, cmd_migrate_usernames, cmd_token
from panther_like.exceptions import APIError, ConfigError, DomainError
from panther_like.settings.config import KNOWN_SETTINGS
from panther_like.settings.mistakes import unknown_names


def cmd_check(args: argparse.Namespace) -> int:
    app = build(args.configs)
    print(f'OK: settings {app.config.module_name!r}, {len(app.router.routes)} routes')
    module = sys.modules.get(app.config.module_name)
    if module is not None:
        settings = {name: getattr(module, name) for name in dir(module) if not name.startswith('_')}
        for name in unknown_names(settings, KNOWN_SETTINGS):
            # A constant of the user's own, or a setting of another framework this one does not read.
            print(f'warning: {name} is not a setting panther_like reads; it has no effect', file=sys.stderr)
    # The settings are right, but a deploy also needs the stores they name to answer.
    problems = asyncio.run(probe_stores(app))
    for problem in problems:
        print(f'panther-like: cannot reach the store: {problem}', file=sys.stderr)
    return EXIT_FAILURE if problems else 0


def cmd_routes(args: argparse.Namespace) -> int:
    app = build(args.configs)
    print(format_table(('PATH', 'METHODS', 'AUTHENTICATION'), route_rows(app)))
    return 0


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog='panther-like',
        description='Check, serve and operate a panther_like project.',
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
    run.add_argument(
        'app',
        nargs='?',
        metavar='APP',
        help='module:attribute of the ASGI app (default: the app built from the settings)',
    )
    run.add_argument('--host', default='127.0.0.1', help='interface to listen on (default: 127.0.0.1)')
    run.add_argument('--port', type=int, default=8000, help='port to listen on (default: 8000)')
    run.add_argument('--workers', type=int, default=None, help='worker processes (default: 1)')
    run.add_argument('--reload', action='store_true', help='restart when a source file changes (development)')
    run.add_argument(
        '--server',
        choices=SERVERS,
        default='uvicorn',
        help='the ASGI server: uvicorn (default), or granian (optional extra "granian"; docs/deployment.md)',
    )
    run.add_argument(
        '--drain-seconds',
        type=float,
        default=0.0,
        metavar='SECONDS',
        help='on SIGTERM, answer 503 on the readiness route for this long before the graceful shutdown '
        'starts, so that a load balancer stops sending here first (default: 0)',
    )
    run.add_argument(
        '--graceful-timeout',
        type=float,
        default=None,
        metavar='SECONDS',
        help='at shutdown, wait at most this long for requests in flight (default: until they finish)',
    )
    run.add_argument('--log-level', default='info', choices=['critical', 'error', 'warning', 'info', 'debug'])
    # What one client may make a worker hold (docs/deployment.md, "Server limits").
    limits = run.add_argument_group('server limits (per worker)')
    limits.add_argument(
        '--limit-concurrency',
        type=int,
        default=DEFAULT_LIMIT_CONCURRENCY,
        metavar='N',
        help='open connections and requests in progress before new requests get 503 '
        f'(default: {DEFAULT_LIMIT_CONCURRENCY}; 0: no limit)',
    )
    limits.add_argument(
        '--max-header-bytes',
        type=int,
        default=DEFAULT_LIMITS.max_head_bytes,
        metavar='BYTES',
        help=f'request line and headers together; larger heads get 431 (default: {DEFAULT_LIMITS.max_head_bytes})',
    )
    limits.add_argument(
        '--max-headers',
        type=int,
        default=DEFAULT_LIMITS.max_headers,
        metavar='N',
        help=f'header lines per request; more get 431 (default: {DEFAULT_LIMITS.max_headers})',
    )
    limits.add_argument(
        '--header-timeout',
        type=float,
        default=DEFAULT_LIMITS.head_timeout,
        metavar='SECONDS',
        help='a request head must arrive within this time, else 408 and the connection closes '
        f'(default: {DEFAULT_LIMITS.head_timeout:g}; 0: none)',
    )
    limits.add_argument(
        '--body-timeout',
        type=float,
        default=DEFAULT_LIMITS.body_timeout,
        metavar='SECONDS',
        help='the longest silence while a request body arrives, else the connection closes '
        f'(default: {DEFAULT_LIMITS.body_timeout:g}; 0: none)',
    )
    limits.add_argument(
        '--timeout-keep-alive',
        type=float,
        default=DEFAULT_TIMEOUT_KEEP_ALIVE,
        metavar='SECONDS',
        help=f'close an idle kept-alive connection after this long (default: {DEFAULT_TIMEOUT_KEEP_ALIVE:g})',
    )

    create = command(
        'createuser',
        cmd_createuser,
        'add a user to USER_MODEL (asks for the password twice, hidden, unless --password-stdin)',
    )
    create.add_argument('--username', help='the username (asked for when missing and stdin is a terminal)')
    create.add_argument('--password-stdin', action='store_true', help='read the password from the first line of stdin')
    create.add_argument(
        '--field',
        action='append',
        default=[],
        metavar='NAME=VALUE',
        help='another field of your user model, e.g. --field email=ann@example.com (repeatable)',
    )
    create.add_argument(
        '--no-password-policy',
        action='store_true',
        help="create the user even if ACCOUNTS' password policy refuses the password",
    )
    for flag, meaning in (
        ('superuser', 'set is_superuser'),
        ('inactive', 'is_active False: cannot log in'),
        ('verified', 'set is_verified: the e-mail address is known good'),
    ):
        create.add_argument(f'--{flag}', action='store_true', help=meaning)

    migrate = command(
        'migrate-usernames',
        cmd_migrate_usernames,
        'give users stored before canonical usernames their key (changes nothing when two would collide)',
    )
    migrate.add_argument('--dry-run', action='store_true', help='count the users to migrate; write nothing')

    command(
        'migrate-user-collection',
        cmd_migrate_user_collection,
        "move the users to USER_MODEL's collection from the one an earlier start used (after renaming the model)",
    )

    token = command('token', cmd_token, 'print a fresh access/refresh token pair for a user (JSON)')
    token.add_argument('username', metavar='USERNAME')
    token.add_argument('--access', action='store_true', help='print only the access token (for scripts)')

    mfa = command('mfa', cmd_mfa, "second factors: 'mfa reset USERNAME' removes the user's TOTP and recovery codes")
    mfa.add_argument('action', choices=['reset'], help='reset: remove every second factor of the user (audited)')
    mfa.add_argument('username', metavar='USERNAME')
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = make_parser().parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except ConfigError as exc:
        print(f'panther-like: configuration error: {exc}', file=sys.stderr)
        return EXIT_CONFIG_ERROR
    except CommandError as exc:
        print(f'panther-like: {exc}', file=sys.stderr)
        return EXIT_FAILURE
    except (APIError, DomainError) as exc:  # a taken username, a store that is down, ...
        print(f'panther-like: {exc.detail}', file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print(file=sys.stderr)
        return 130
