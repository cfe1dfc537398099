"""``panther-like mfa reset USERNAME``: an operator removes a user's second factors (a lost phone and no codes left)."""

from __future__ import annotations

import argparse

from panther_like import audit
from panther_like.cli.common import CommandError, _with_store, build


def cmd_mfa(args: argparse.Namespace) -> int:
    app = build(args.configs)
    services = app.services
    model = services.config.user_model

    async def reset() -> int:
        user = await model.find_by_username(args.username)
        if user is None:
            raise CommandError(f'no user {args.username!r} in {model.__name__}')
        removed = await services.accounts.second_factors.remove(user.saved_id)
        # The audit trail says who lost a factor and how: this one is not the user's own doing.
        audit.log_event('mfa.reset', reason='operator command', user_id=user.id, had_factor=removed)
        print(f'{args.username}: second factors removed' if removed else f'{args.username}: had no second factor')
        return 0

    return _with_store(app, reset)
