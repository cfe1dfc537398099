"""Settings of the example project; every secret comes from `.env` (see `.env.example`)."""

from datetime import timedelta
from pathlib import Path

from panther_like.utils import load_env

BASE_DIR = Path(__file__).resolve().parent.parent
env = load_env(BASE_DIR / '.env')

SECRET_KEY = env['SECRET_KEY']
# No MONGODB_URL: users live in the embedded store, in the file DB_PATH.
DATABASE = {'url': env.get('MONGODB_URL') or None, 'path': env.get('DB_PATH') or str(BASE_DIR / 'example.sqlite3')}
# A REDIS_URL moves token revocation to Redis, shared by every worker and host.
REDIS = {'url': env.get('REDIS_URL') or None}

# Failed logins allowed per username from one address, and per address, within `window` seconds
# (then 429 for that address); a username's failures from everywhere are slowed down, never refused
# outright (docs/security.md).
LOGIN_THROTTLE = {
    'max_failures': int(env.get('LOGIN_MAX_FAILURES') or 5),
    'max_failures_per_address': int(env.get('LOGIN_MAX_FAILURES_PER_ADDRESS') or 50),
    'window': int(env.get('LOGIN_THROTTLE_WINDOW') or 300),
}
# The reverse proxies whose X-Forwarded-For names the client (what the login throttle counts by).
TRUSTED_PROXIES = env.get('TRUSTED_PROXIES', '127.0.0.1, ::1')

# The account routes (mounted at /auth/) also keep browser sessions in cookies, with a CSRF check.
ACCOUNTS = {'cookies': True}

URLS = 'core.urls.url_routing'
AUTHENTICATION = 'panther_like.authentications.JWTAuthentication'
WS_AUTHENTICATION = 'panther_like.authentications.QueryParamJWTAuthentication'
USER_MODEL = 'example_app.models.User'
JWTConfig = {
    'key': SECRET_KEY,
    'algorithm': 'HS256',
    'life_time': timedelta(days=2),
    'refresh_life_time': timedelta(days=10),
}
