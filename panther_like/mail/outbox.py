"""`Outbox`: mail sent after the response, and its outcome in the audit log.

Why off the request path: how long a mail server takes to accept a
message (or to time out) would otherwise show in the response time, and a
route that answers the same way whether or not an account exists
("if that account exists, a link is on its way") would give the answer
away by how long it took. And a mail server that is down must not turn a
request that did its part into an error.

So a route posts the message and answers; the outbox sends it in a task
of its own and writes ``mail.sent`` or ``mail.failure`` (with a reason
that holds no address and no token) to the audit log, with the request's
client and path. At shut-down the app waits a little for what is still
being sent.
"""

from __future__ import annotations

import asyncio
from typing import Any

from panther_like import audit
from panther_like.http.request import HTTPConnection
from panther_like.mail.base import MailDeliveryError, Mailer, Message

DRAIN_TIMEOUT = 10.0


class Outbox:
    def __init__(self, mailer: Mailer) -> None:
        self.mailer = mailer
        self._sending: set[asyncio.Task[None]] = set()

    def post(
        self, message: Message, *, kind: str, user_id: str | None = None, request: HTTPConnection | None = None
    ) -> None:
        """Send `message` soon; `kind` (``'password_reset'``...), `user_id` and the request that asked for it
        (its client, method and path) go into the audit line."""
        task = asyncio.get_running_loop().create_task(self._send(message, kind=kind, user_id=user_id, request=request))
        self._sending.add(task)  # a task nobody holds may be garbage-collected before it runs
        task.add_done_callback(self._sending.discard)

    async def _send(self, message: Message, *, kind: str, user_id: str | None, request: HTTPConnection | None) -> None:
        try:
            await self.mailer.send(message)
        except MailDeliveryError as exc:
            audit.log_event('mail.failure', request=request, reason=exc.reason, user_id=user_id, kind=kind)
        except asyncio.CancelledError:
            audit.log_event(
                'mail.failure',
                request=request,
                reason='shut down before the message was sent',
                user_id=user_id,
                kind=kind,
            )
            raise
        else:
            audit.log_event('mail.sent', request=request, user_id=user_id, kind=kind)

    @property
    def pending(self) -> int:
        return len(self._sending)

    async def drain(self, timeout: float = DRAIN_TIMEOUT) -> None:
        """Wait up to `timeout` seconds for the messages being sent by this loop; cancel the rest."""
        loop = asyncio.get_running_loop()
        mine: set[asyncio.Task[Any]] = {task for task in self._sending if task.get_loop() is loop}
        if not mine:
            return
        _, late = await asyncio.wait(mine, timeout=timeout)
        for task in late:
            task.cancel()
        if late:
            await asyncio.wait(late)
