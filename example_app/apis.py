"""The example's own APIs: routes that need a user. Sign-up, login and the rest come from
`panther_like.accounts`, mounted at ``/auth/`` in core/urls.py."""

from example_app.models import User
from panther_like import API, Request, Response
from panther_like.exceptions import NotFoundAPIError
from panther_like.websocket import GenericWebsocket


@API(methods=['GET'])
async def index(request: Request):
    return {'name': 'panther_like example', 'docs': 'see README.md'}


@API(auth=True, methods=['GET'])
async def me(request: Request):
    return Response(data={'id': request.user.id, 'username': request.user.username})


@API(auth='panther_like.authentications.HeaderOrCookieJWTAuthentication', methods=['GET'])
async def whoami(request: Request):
    return {'username': request.user.username}


@API(auth=True, methods=['GET'])
async def user_detail(request: Request, user_id: str):
    """A user's account, for its owner and for superusers.

    Anyone else gets the answer an unknown id gets, so walking ids tells
    nobody which accounts exist, nor their e-mail, flags or last login.
    """
    if request.user.id != user_id and not request.user.is_superuser:
        raise NotFoundAPIError('User not found')
    user = await User.find_one(id=user_id)
    if user is None:
        raise NotFoundAPIError('User not found')
    return user  # rendered without the password hash


class EchoWebsocket(GenericWebsocket):
    auth = True

    async def connect(self):
        await self.accept()
        await self.send({'hello': self.user.username})

    async def receive(self, data):
        await self.send({'echo': data})
