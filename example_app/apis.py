"""The example's APIs: sign up, log in, refresh, log out, and routes that need a user."""

from example_app.models import User
from panther_like import API, Request, Response, status
from panther_like.authentications import JWTAuthentication
from panther_like.exceptions import AuthenticationAPIError, BadRequestAPIError, NotFoundAPIError
from panther_like.throttle import login_throttle
from panther_like.websocket import GenericWebsocket

MAX_FIELD_LENGTH = 128


def _credentials(request: Request) -> tuple[str, str]:
    data = request.data
    if not isinstance(data, dict):
        raise BadRequestAPIError('Send a JSON object with "username" and "password"')
    username, password = data.get('username'), data.get('password')
    for name, value in (('username', username), ('password', password)):
        if not isinstance(value, str) or not value or len(value) > MAX_FIELD_LENGTH:
            raise BadRequestAPIError(f'"{name}" must be a non-empty string of at most {MAX_FIELD_LENGTH} characters')
    return username, password


@API(methods=['GET'])
async def index(request: Request):
    return {'name': 'panther_like example', 'docs': 'see README.md'}


@API(methods=['POST'])
async def signup(request: Request):
    username, password = _credentials(request)
    email = request.data.get('email')
    # A taken username raises DuplicateKeyError, which the app answers with 409.
    user = await User.insert_one(username=username, password=password, email=email)
    return Response(data=user, status_code=status.HTTP_201_CREATED)


@API(methods=['POST'])
async def login(request: Request):
    username, password = _credentials(request)
    await login_throttle.check(request, username)  # 429 + Retry-After after too many failures
    user = await User.find_one(username=username)
    if user is None:
        await User.verify_password_dummy(password)  # same work as a real check: no username probing by timing
    if user is None or not await user.verify_password(password):
        await login_throttle.record_failure(request, username, user_id=user.id if user else None)
        raise AuthenticationAPIError('Invalid username or password')
    await login_throttle.reset(request, username)
    return await user.login(request=request)  # the session records its user agent and address


@API(methods=['POST'])
async def refresh(request: Request):
    data = request.data
    token = data.get('refresh_token') if isinstance(data, dict) else None
    if not isinstance(token, str) or not token:
        raise BadRequestAPIError('Send a JSON object with "refresh_token"')
    return await JWTAuthentication.refresh(token)


@API(auth=True, methods=['POST'])
async def logout(request: Request):
    await request.user.logout()
    return {'detail': 'Logged out'}


@API(auth=True, methods=['GET'])
async def me(request: Request):
    return Response(data={'id': request.user.id, 'username': request.user.username})


@API(auth='core.authentications.HeaderOrCookieAuthentication', methods=['GET'])
async def whoami(request: Request):
    return {'username': request.user.username}


@API(auth=True, methods=['GET'])
async def user_detail(request: Request, user_id: str):
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
