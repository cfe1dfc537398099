"""The commands that operate on users: ``createuser``, ``token``, ``migrate-usernames``, ``migrate-user-collection``."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import sys
from collections.abc import Sequence
from typing import Any

from panther_like.cli.common import CommandError, _with_store, build
from panther_like.cli.describe import describe_store


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
            raise CommandError(
                f'--field cannot set {name!r}; use --username, --password-stdin, --superuser, --inactive or --verified'
            )
        fields[name] = value
    return fields


def cmd_createuser(args: argparse.Namespace) -> int:
    from panther_like.accounts.policy import WeakPassword, check_new_password
    from panther_like.exceptions import DuplicateKeyError, ValidationAPIError

    app = build(args.configs)
    config = app.services.config
    model = config.user_model
    fields = _extra_fields(args.field)
    try:  # before any password is asked for: a typo in a field name would otherwise be lost silently
        model.refuse_unknown_fields(fields)
    except ValidationAPIError as exc:
        raise CommandError(f'{exc.detail}; nothing was created') from None
    username, password = _read_credentials(args)
    if not args.no_password_policy:
        try:
            check_new_password(password, username, config.accounts)
        except WeakPassword as exc:
            raise CommandError(
                f'{exc.detail}; nothing was created (--no-password-policy creates the user anyway)'
            ) from None
    account: dict[str, Any] = {
        'is_superuser': args.superuser,
        'is_active': not args.inactive,
        'is_verified': args.verified,
    }

    async def create() -> int:
        try:
            user = await model.insert_one(**fields, **account, username=username, password=password)
        except DuplicateKeyError:
            raise CommandError(f'a user named {username!r} already exists; choose another --username') from None
        except ValidationAPIError as exc:  # a wrong type, or a value no store keeps (a control character...)
            raise CommandError(f'{exc.detail}; nothing was created') from None
        flags = ', '.join(name for name in ('superuser', 'inactive', 'verified') if getattr(args, name))
        print(
            f'Created {model.__name__} {user.username!r}{f" [{flags}]" if flags else ""} (id {user.id}) '
            f'in the {describe_store(app)}'
        )
        return 0

    return _with_store(app, create)


def cmd_migrate_usernames(args: argparse.Namespace) -> int:
    from panther_like.db.migrations import migrate_usernames

    app = build(args.configs)

    async def main() -> int:
        try:  # not app.startup(): it refuses the very store this command repairs
            database = app.services.database
            await database.connect()
            report = await migrate_usernames(
                database, app.services.config.user_model.collection_name, dry_run=args.dry_run
            )
        finally:
            await app.shutdown()
        if report.problems:
            lines = ['nothing was changed; rename these users (their "username" field), then run again:']
            raise CommandError('\n  '.join(lines + report.problems))
        where = 'dry run: nothing written' if args.dry_run else describe_store(app)
        print(f'{len(report.pending)} of {report.total} users need(ed) a canonical username key ({where})')
        return 0

    return asyncio.run(main())


def cmd_migrate_user_collection(args: argparse.Namespace) -> int:
    from panther_like.db.user_collection import move_users

    app = build(args.configs)
    model = app.services.config.user_model

    async def main() -> int:
        try:  # not app.startup(): it refuses the very store this command repairs
            database = app.services.database
            await database.connect()
            earlier, moved = await move_users(database, model)
        finally:
            await app.shutdown()
        if earlier is None or earlier.collection == model.collection_name:
            print(f'nothing to move: the users are in {model.collection_name!r} ({describe_store(app)})')
        else:
            print(
                f'moved {moved} user(s) from {earlier.collection!r} to {model.collection_name!r} '
                f'({describe_store(app)})'
            )
        return 0

    return asyncio.run(main())


def cmd_token(args: argparse.Namespace) -> int:
    app = build(args.configs)
    services = app.services
    services.login_sessions  # noqa: B018 - a ConfigError before the store is opened, when there is no JWT key
    model = services.config.user_model

    async def issue() -> int:
        user = await model.find_by_username(args.username)
        if user is None:
            raise CommandError(
                f'no user {args.username!r} in {model.__name__}; '
                f'create one with: panther-like createuser --username {args.username}'
            )
        tokens = await services.accounts.login(user)
        print(tokens['access_token'] if args.access else json.dumps(tokens, indent=2))
        return 0

    return _with_store(app, issue)
