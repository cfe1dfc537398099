"""Login throttling that holds back a password guesser without locking the account's owner out.

A limit per username alone is a switch anyone can flip: a few wrong
passwords for ``victim``, from anywhere, and the owner's right password is
refused too. So failures are counted three ways (`ActionLimit` has the
numbers; ``LOGIN_THROTTLE`` sets them for login):

- per username *and* address: the address that has been guessing gets
  **429** with ``Retry-After`` for that username, even with the right
  password, so a guess that happens to be right teaches it nothing; the
  owner, elsewhere, is not affected;
- per address: one client trying a few passwords on many accounts;
- per username from all addresses, a slowdown rather than a refusal: after
  a few failures within an hour, each further one must wait twice as long
  as the one before, up to a cap. A guesser with many addresses gets a
  bounded number of checks per hour (docs/security.md has the count),
  while an address the username logged in from recently is not slowed at
  all, and one address at its own limit cannot keep the username slowed
  (the cap is below the pace the per-address limit allows).

Why reserve before checking: `check` counts the attempt *before* the
password is verified (and gives it back on success), so a burst of
concurrent guesses cannot all pass a "fewer than N so far" test at once.
Signup is counted too (`check_signup`): a taken username is answered
409, which tells that the account exists, so each 409 counts like a failed
login against the address's limit (``max_failures_per_address`` within
``window``); past it the address gets 429. A signup that creates an
account gives its count back. Only the address is counted: the owner of a
name someone else tries to take is never held back by it.

Why the same rules for `limit` (password-reset and verification e-mails):
the same attacker could otherwise flood one mailbox, or spend the owner's
budget of e-mails. And whatever route mails, one mailbox gets at most what
`count_mail` allows (the slowdown of `ActionLimit`, counted per canonical
address in the shared store), so asking by username, by address and for a
verification link does not add up to more mail.

The client address is the one `panther_like.http.client_address` derived
(``TRUSTED_PROXIES``); IPv6 clients count per /64 network, and their /48
is counted too, with its own larger limit (``max_failures_per_network``),
so a holder of a /48 does not get 65,536 per-address budgets. All the
counters of one request are hit together (`ThrottleStore.hits`: one MULTI
in Redis), and settled together once it is decided (`ThrottleStore.settle`).

Use it in a login view::

    from panther_like.throttle import login_throttle

    await login_throttle.check(request, username)          # 429 when over a limit
    if user is None or not await user.verify_password(password):
        await login_throttle.record_failure(request, username, user_id=user and user.id)
        raise AuthenticationAPIError('Invalid username or password')
    await login_throttle.reset(request, username)          # success: this address starts over
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, fields
from typing import Any, cast

from panther_like import audit, status
from panther_like.exceptions import APIError
from panther_like.http.client_address import address_group, wider_address_group
from panther_like.http.request import HTTPConnection
from panther_like.login_state.throttle_stores import (
    THROTTLE_COLLECTION,
    DatabaseThrottleStore,
    Hit,
    RedisThrottleStore,
    ThrottleStore,
)
from panther_like.settings.checks import SLOWDOWN_MEMORY, ThrottleSettings

__all__ = [
    'SLOWDOWN_MEMORY',
    'THROTTLE_COLLECTION',
    'ActionLimit',
    'DatabaseThrottleStore',
    'Hit',
    'LoginThrottle',
    'RedisThrottleStore',
    'ThrottleStore',
    'TooManyAttemptsAPIError',
]
_ATTEMPT = 'panther_like.login_attempt'
_SIGNUP = 'panther_like.signup_attempt'
_EPSILON = 1e-6  # float noise in clock arithmetic must not turn "exactly on time" into "too early"


class TooManyAttemptsAPIError(APIError):
    """429 with ``Retry-After``: too many failed logins (or requests of one kind) for a subject or an address."""

    status_code = status.HTTP_429_TOO_MANY_REQUESTS

    def __init__(self, retry_after: int, what: str = 'failed login attempts') -> None:
        super().__init__(
            f'Too many {what}; try again in {retry_after} seconds',
            headers={'Retry-After': str(retry_after)},
        )
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class ActionLimit:
    """How often one kind of request may be made for one subject (a username, an e-mail address).

    Within `window` seconds: at most `per_subject_and_address` from one
    address for the subject, `per_address` from one address whatever
    the subject, and `per_network` from one IPv6 /48; past any, 429 for that address. From all addresses
    together, the first `per_subject` within an hour pass freely; after
    that each one must come twice as long after the latest as the one
    before did (1 s, 2 s, 4 s ...), up to `max_delay` seconds. Keep
    `max_delay` below ``window / per_subject_and_address``, so that one
    address at its own limit cannot keep the subject slowed for everyone.
    """

    per_subject_and_address: int = 3
    per_address: int = 30
    window: int = 900
    per_subject: int = 5
    max_delay: int = 240
    per_network: int = 100

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f'ActionLimit.{field.name} must be a positive integer, not {value!r}')
        if self.max_delay > SLOWDOWN_MEMORY:
            raise ValueError(f'ActionLimit.max_delay must be at most {SLOWDOWN_MEMORY} seconds')

    @classmethod
    def for_login(cls, settings: ThrottleSettings) -> ActionLimit:
        return cls(
            per_subject_and_address=settings.max_failures,
            per_address=settings.max_failures_per_address,
            window=settings.window,
            per_subject=settings.slow_down_after,
            max_delay=settings.max_delay,
            per_network=settings.max_failures_per_network,
        )

    def delay(self, earlier: int) -> int:
        """Seconds the next request must wait after the latest, when `earlier` were made within the hour."""
        if earlier < self.per_subject:
            return 0
        return int(min(2 ** min(earlier - self.per_subject, 31), self.max_delay))


@dataclass(frozen=True, slots=True)
class _Keys:
    """The counters one request touches. What was typed is only ever stored hashed."""

    subject: str
    pair: str | None
    address: str | None
    known: str | None
    network: str | None = None

    @classmethod
    def of(cls, request: HTTPConnection, action: str, subject: str) -> _Keys:
        # Hashed: the counters never hold what someone typed (a password pasted into the username field).
        digest = hashlib.sha256(subject.encode('utf-8', 'surrogatepass')).hexdigest()[:32]
        client = request.client
        if not client or not client[0]:
            return cls(f'{action}:subject:{digest}', None, None, None)
        group, network = address_group(client[0]), wider_address_group(client[0])
        return cls(
            f'{action}:subject:{digest}',
            f'{action}:pair:{digest}:{group}',
            f'{action}:addr:{group}',
            f'{action}:known:{digest}:{group}',
            None if network is None else f'{action}:net:{network}',
        )


class LoginThrottle:
    """The app's throttle (``Services.throttle``); see the module docstring."""

    def __init__(self, settings: ThrottleSettings | None, store: ThrottleStore) -> None:
        self.settings = settings
        self.store = store
        self.login_limit = ActionLimit.for_login(settings) if settings is not None else None

    async def check(self, request: HTTPConnection, username: str) -> None:
        """Reserve one attempt for `username` from this client, or raise 429 (`TooManyAttemptsAPIError`)."""
        if self.settings is None or self.login_limit is None:
            return
        taken = await self._take(
            request,
            _Keys.of(request, 'login', username),
            self.login_limit,
            event='login.throttled',
            what='failed login attempts',
            noun='username',
            known_addresses=self.settings.known_address_ttl > 0,
        )
        _state(request)[_ATTEMPT] = taken

    async def check_signup(self, request: HTTPConnection) -> None:
        """Reserve one signup for this client's address, or raise 429; `signup_succeeded` gives it back."""
        if self.login_limit is None:
            return
        key = _Keys.of(request, 'signup', '').address
        if key is None:
            return
        limit = self.login_limit
        hit = await self.store.hit(key, limit.window)
        taken = [(key, hit.receipt)]
        if hit.count > limit.per_address:
            retry_after = await self.store.retry_after(key, limit.per_address, limit.window)
            await self._refuse(
                request,
                taken,
                retry_after,
                event='signup.throttled',
                what='signups of taken usernames',
                reason='too many signups of taken usernames from this address',
            )
        _state(request)[_SIGNUP] = taken

    async def signup_succeeded(self, request: HTTPConnection) -> None:
        """The signup created an account (or was refused for a reason that tells nothing): not counted."""
        for key, receipt in request.scope.get('state', {}).pop(_SIGNUP, []):
            await self.store.undo(key, receipt)

    async def limit(
        self, request: HTTPConnection, action: str, subject: str, limit: ActionLimit = ActionLimit()
    ) -> None:
        """Count one `action` request (``'password_reset'``, ``'verify'``) for `subject` from this client.

        429 with ``Retry-After`` once this address is over its limits, or while the subject
        is slowed down (see `ActionLimit`); a request refused this way is not counted. Every
        request that passes counts: there is no success to give it back.
        """
        await self._take(
            request,
            _Keys.of(request, action, subject),
            limit,
            event=f'{action}.throttled',
            what='requests',
            noun='subject',
            known_addresses=False,
        )

    async def _take(
        self,
        request: HTTPConnection,
        keys: _Keys,
        limit: ActionLimit,
        *,
        event: str,
        what: str,
        noun: str,
        known_addresses: bool,
    ) -> list[tuple[str, Any]]:
        """One hit on each counter, or none at all and a 429 when one of them says no.

        Every counter is hit in one `ThrottleStore.hits` call (one round trip where the store allows it).
        """
        limited = [
            (key, most, scope)
            for key, most, scope in (
                (keys.pair, limit.per_subject_and_address, f'for this {noun} from this address'),
                (keys.address, limit.per_address, 'from this address'),
                (keys.network, limit.per_network, 'from this network'),
            )
            if key is not None
        ]
        counts = [(key, float(limit.window)) for key, _, _ in limited] + [(keys.subject, float(SLOWDOWN_MEMORY))]
        hits = await self.store.hits(counts)
        taken: list[tuple[str, Any]] = [(key, hit.receipt) for (key, _), hit in zip(counts, hits, strict=True)]
        for (key, most, scope), hit in zip(limited, hits, strict=False):
            if hit.count > most:
                retry_after = await self.store.retry_after(key, most, limit.window)
                await self._refuse(
                    request, taken, retry_after, event=event, what=what, reason=f'too many {what} {scope}'
                )
        hit = hits[-1]
        wait = _wait(hit, limit)
        if wait > 0:
            if known_addresses and keys.known is not None and await self.store.remembers(keys.known):
                await self.store.undo(keys.subject, hit.receipt)  # the owner's usual address: not slowed
                taken.pop()
            else:
                await self._refuse(
                    request,
                    taken,
                    max(1, math.ceil(wait - _EPSILON)),
                    event=event,
                    what=what,
                    reason=f'{what} for this {noun} slowed down',
                )
        return taken

    async def count_mail(self, request: HTTPConnection, mailbox: str, limit: ActionLimit = ActionLimit()) -> int:
        """Count one e-mail to `mailbox` (a canonical address) and return 0, or return the seconds until one may go.

        Whatever route sends it, and whoever asks: from all of them together the mailbox gets the first
        `ActionLimit.per_subject` within an hour, then one after each delay of the slowdown. A refused
        e-mail is not counted.
        """
        digest = hashlib.sha256(mailbox.encode('utf-8', 'surrogatepass')).hexdigest()[:32]
        key = f'mail:mailbox:{digest}'
        hit = await self.store.hit(key, SLOWDOWN_MEMORY)
        wait = _wait(hit, limit)
        if wait <= 0:
            return 0
        await self.store.undo(key, hit.receipt)
        retry_after = max(1, math.ceil(wait - _EPSILON))
        audit.log_event(
            'mail.throttled', request=request, reason='too many e-mails to this mailbox', retry_after=retry_after
        )
        return retry_after

    async def _refuse(
        self,
        request: HTTPConnection,
        taken: list[tuple[str, Any]],
        retry_after: int,
        *,
        event: str,
        what: str,
        reason: str,
    ) -> None:
        await self.store.settle(undo=taken)
        audit.log_event(event, request=request, reason=reason, retry_after=retry_after)
        raise TooManyAttemptsAPIError(retry_after, what)

    async def record_failure(self, request: HTTPConnection, username: str, *, user_id: str | None = None) -> None:
        """The reserved attempt failed: it keeps counting until its window passes. Logged for audit."""
        audit.log_event('login.failure', request=request, reason='invalid username or password', user_id=user_id)

    async def reset(self, request: HTTPConnection, username: str) -> None:
        """A successful login: this address starts over for `username`, and is remembered as the owner's.

        The attempt's reservations are given back, but the address's failures on
        other usernames still count (logging in to one's own account between
        guesses at others resets nothing), and the username's failures from
        other addresses keep slowing them: the owner does not need it lifted,
        and lifting it would hand a guesser a fresh budget at every login.
        """
        if self.settings is None:
            return
        keys = _Keys.of(request, 'login', username)
        taken = request.scope.get('state', {}).pop(_ATTEMPT, [])
        remember = keys.known is not None and self.settings.known_address_ttl > 0
        await self.store.settle(  # one round trip where the store allows it
            undo=[(key, receipt) for key, receipt in taken if key != keys.pair],
            clear=[keys.pair] if keys.pair is not None else [],
            remember=[(keys.known, self.settings.known_address_ttl)] if remember and keys.known is not None else [],
        )


def _state(request: HTTPConnection) -> dict[str, Any]:
    """The connection's ASGI ``state`` dict, where a reserved attempt waits for its outcome."""
    scope = cast(dict[str, Any], request.scope)  # an ASGI scope is a dict; `HTTPConnection` only reads it
    state: dict[str, Any] = scope.setdefault('state', {})
    return state


def _wait(hit: Hit, limit: ActionLimit) -> float:
    """How much longer the subject's `hit` should have waited after the latest other one (0: not at all)."""
    delay = limit.delay(hit.count - 1)
    if delay == 0 or hit.latest_other is None:
        return 0.0
    wait = hit.latest_other + delay - hit.at
    return wait if wait > _EPSILON else 0.0
