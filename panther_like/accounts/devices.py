"""``GET sessions`` and ``DELETE sessions/<sid>``: where the user is signed in, and ending one of those.

A session id that is not one of the caller's own is a 404, exactly like
one that does not exist, so the route cannot be used to probe for others.
"""

from __future__ import annotations

from typing import Any

from panther_like import audit, status
from panther_like.accounts.account_auth import AccountAuthentication
from panther_like.accounts.schemas import SessionInfo
from panther_like.exceptions import NotFoundAPIError
from panther_like.http.request import Request
from panther_like.http.response import Response
from panther_like.login_state.services import services_of
from panther_like.routing.api import API

MAX_SID_LENGTH = 64


@API(auth=AccountAuthentication, methods=['GET'], output=list[SessionInfo])
async def sessions(request: Request) -> Any:
    """The user's live sessions, oldest first; ``current`` marks the one making this request."""
    current = (request.user._token_claims or {}).get('sid')
    return [
        session.public(current_sid=current)
        for session in await services_of(request).login_sessions.sessions_of(
            request.user.id, request.user.credential_version
        )
    ]


@API(
    auth=AccountAuthentication,
    methods=['DELETE'],
    status_code=status.HTTP_204_NO_CONTENT,
    responses={404: 'No such session of this user'},
)
async def session_detail(request: Request, sid: str) -> Response:
    """End one of the user's sessions (a lost phone, say); its tokens stop working in every worker."""
    tokens = services_of(request).login_sessions
    session = await tokens.sessions.get(sid) if len(sid) <= MAX_SID_LENGTH else None
    if session is None or session.user_id != request.user.id:
        raise NotFoundAPIError('Session not found')
    await tokens.end_session(sid)
    audit.log_event('logout.session', request=request, user_id=request.user.id, session=audit.session_ref(sid))
    return Response(None, status.HTTP_204_NO_CONTENT)
