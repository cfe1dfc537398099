from example_app.apis import EchoWebsocket, index, me, user_detail, whoami
from example_app.security_examples import (
    account_help,
    basic_me,
    basic_unthrottled,
    create_api_token,
    machine_me,
    profile,
    reports,
    session_login,
    session_me,
)
from panther_like import Group
from panther_like.accounts import accounts_urls

url_routing = {
    '': index,
    'me': me,
    'whoami': whoami,
    'users/<user_id>/': user_detail,
    'ws/echo': EchoWebsocket,
    'auth/': accounts_urls,  # signup, login, refresh, logout, me, password/change, sessions...
    # Per-route security: a group whose routes need the configured JWT unless they say otherwise,
    # and routes for scripts that authenticate with a personal API token.
    'account/': Group({'api-tokens': create_api_token, 'profile': profile, 'help': account_help}, auth=True),
    'reports': reports,
    'machine/me': machine_me,
    # HTTP Basic with the account's password (throttled like a login), and a server-side session.
    'basic/me': basic_me,
    'basic/unthrottled': basic_unthrottled,
    'session/login': session_login,
    'session/me': session_me,
}
