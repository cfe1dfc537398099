"""`ConsoleMailer`, the default: each message is printed to standard error instead of being sent.

Why standard error and not a logger: in development that is the terminal
uvicorn runs in, with no logging to configure first (a library's INFO
records are dropped until a project sets up logging); in production it
is the process's log, which is why the links are hidden.

Why the links are hidden by default: a password-reset link is the key to
an account for as long as it lives. A project that goes to production
without configuring a real mailer would otherwise print a working key to
any account someone asks a reset for into its log, where more people and
systems can read it than can read the users' mailboxes. So the console
mailer prints each message with its one-time parts replaced by
``<hidden>``, and prints them only when told to with
``show_tokens=True``, which a development settings module sets (and which
logs a warning when the app is built, so it is not left on unnoticed).
"""

from __future__ import annotations

import logging
import sys

from panther_like.mail.base import Mailer, Message, option_error

logger = logging.getLogger('panther_like.mail')


class ConsoleMailer(Mailer):
    """``MAILER = {'class': 'panther_like.mail.ConsoleMailer', 'show_tokens': True}`` in development."""

    def __init__(self, *, show_tokens: bool = False) -> None:
        if not isinstance(show_tokens, bool):
            raise option_error('show_tokens', show_tokens, f'{show_tokens!r} must be True or False')
        self.show_tokens = show_tokens
        if show_tokens:
            logger.warning(
                'ConsoleMailer(show_tokens=True): one-time links (password reset, verification) are printed in full '
                'to standard error; use it in development only'
            )

    async def deliver(self, message: Message) -> None:
        shown = message if self.show_tokens else message.redacted()
        rule = '-' * 72
        sys.stderr.write(f'{rule}\nMail to: {shown.to}\nSubject: {shown.subject}\n\n{shown.text}\n{rule}\n')
        sys.stderr.flush()
