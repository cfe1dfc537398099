from example_app.apis import EchoWebsocket, index, me, user_detail, whoami
from example_app.urls import auth_urls

url_routing = {
    '': index,
    'me': me,
    'whoami': whoami,
    'users/<user_id>/': user_detail,
    'ws/echo': EchoWebsocket,
    'auth/': auth_urls,
}
