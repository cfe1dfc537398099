"""The login sessions of each user: what "log out everywhere" and "your devices" are made of.

Every token belongs to a login session (its ``sid`` claim) that starts at
login and lasts until it is ended or its last refresh token expires.
Revocation itself lives in the revocation store (shared through the
database or Redis); this registry remembers which sessions a user has, so
that all of them, or all but the current one, can be ended, and so that a
user can see where they are signed in. It always lives in the database:
it is read only by those account operations, never on the request path.

A row holds no token: ``{_id: sid, user_id, cv, created_at, last_used,
expires_at, user_agent, client}``; ``cv`` is the user's credential version
the session holds (`panther_like.login_state.sessions`). The user agent and address are what
the client sent when it logged in or last refreshed, shortened.

The server-side sessions of `panther_like.security.SessionAuth` live in
another collection (`WEB_SESSIONS_COLLECTION`, rows keyed by the hash of
the cookie); `end_web_sessions` ends a user's, as a password change must.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from panther_like.common.clock import SYSTEM_CLOCK, Clock
from panther_like.db.backend import Database
from panther_like.login_state.revocation import ExpiredRowPurge

SESSIONS_COLLECTION = 'panther_like_login_sessions'
#: Where `SessionAuth` keeps its sessions: ``{_id: sha256(cookie), user_id, created_at, expires_at}``.
WEB_SESSIONS_COLLECTION = 'panther_like_sessions'
MAX_USER_AGENT = 200


@dataclass(frozen=True, slots=True)
class LoginSession:
    sid: str
    user_id: str
    created_at: float
    last_used: float
    expires_at: float
    user_agent: str | None
    client: str | None
    credential_version: str = ''

    def public(self, *, current_sid: str | None = None) -> dict[str, Any]:
        """What the session list shows its owner (ISO 8601 times in UTC; never a token)."""
        return {
            'sid': self.sid,
            'created': _iso(self.created_at),
            'last_used': _iso(self.last_used),
            'expires': _iso(self.expires_at),
            'user_agent': self.user_agent,
            'client': self.client,
            'current': self.sid == current_sid,
        }


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat()


class SessionRegistry:
    def __init__(self, database: Database, *, clock: Clock = SYSTEM_CLOCK) -> None:
        self._database = database
        self._clock = clock
        self._purge_expired = ExpiredRowPurge(clock=clock)
        self._index_ready = False

    async def _rows(self) -> Any:
        rows = self._database.collection(SESSIONS_COLLECTION, durable=True)
        if not self._index_ready:
            await rows.create_index('user_id')
            self._index_ready = True
        return rows

    async def start(
        self,
        sid: str,
        user_id: str,
        *,
        expires_at: float,
        user_agent: str | None,
        client: str | None,
        credential_version: str = '',
    ) -> None:
        now = self._clock.time()
        rows = await self._rows()
        await rows.insert_one(
            {
                '_id': sid,
                'user_id': user_id,
                'cv': credential_version,
                'created_at': now,
                'last_used': now,
                'expires_at': expires_at,
                'until': expires_at,
                'user_agent': _short(user_agent),
                'client': client,
            }
        )
        await self._purge_expired(rows)

    async def touch(self, sid: str, *, expires_at: float, user_agent: str | None, client: str | None) -> None:
        """The session was refreshed: it lives on until `expires_at`."""
        rows = await self._rows()
        await rows.update_one(
            {'_id': sid},
            {
                'last_used': self._clock.time(),
                'expires_at': expires_at,
                'until': expires_at,
                'user_agent': _short(user_agent),
                'client': client,
            },
        )

    async def set_credential_version(self, sid: str, credential_version: str) -> None:
        """The session goes on through a password change: it now holds `credential_version`."""
        await (await self._rows()).update_one({'_id': sid}, {'cv': credential_version})

    async def of_user(self, user_id: str) -> list[LoginSession]:
        """The user's sessions that have not ended or expired, oldest first."""
        rows = await self._rows()
        found = await rows.find({'user_id': user_id, 'until': {'$gt': self._clock.time()}}, sort=[('created_at', 1)])
        return [_session(row) for row in found]

    async def get(self, sid: str) -> LoginSession | None:
        row = await (await self._rows()).find_one({'_id': sid})
        return None if row is None or row['until'] <= self._clock.time() else _session(row)

    async def end(self, sid: str) -> None:
        await (await self._rows()).delete_one({'_id': sid})


async def end_web_sessions(database: Database, user_id: str) -> int:
    """End every `SessionAuth` session of `user_id` (it is read from the store on each request: at once)."""
    return await database.collection(WEB_SESSIONS_COLLECTION).delete_many({'user_id': str(user_id)})


def _short(text: str | None) -> str | None:
    return None if text is None else text[:MAX_USER_AGENT]


def _session(row: dict[str, Any]) -> LoginSession:
    return LoginSession(
        sid=row['_id'],
        user_id=row['user_id'],
        created_at=row['created_at'],
        last_used=row['last_used'],
        expires_at=row['expires_at'],
        user_agent=row.get('user_agent'),
        client=row.get('client'),
        credential_version=row.get('cv', ''),
    )
