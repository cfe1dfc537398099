from example_app.apis import EchoWebsocket, index, me, user_detail, whoami
from example_app.security_examples import account_help, create_api_token, machine_me, profile, reports
from example_app.urls import auth_urls
from panther_like import Group
from panther_like.accounts import recovery_urls

url_routing = {
    '': index,
    'me': me,
    'whoami': whoami,
    'users/<user_id>/': user_detail,
    'ws/echo': EchoWebsocket,
    # Password reset and e-mail verification come ready-made; sign-up and login are the example's own.
    'auth/': {**auth_urls, **recovery_urls},
    # Per-route security: a group whose routes need the configured JWT unless they say otherwise,
    # and routes for scripts that authenticate with a personal API token.
    'account/': Group({'api-tokens': create_api_token, 'profile': profile, 'help': account_help}, auth=True),
    'reports': reports,
    'machine/me': machine_me,
}
