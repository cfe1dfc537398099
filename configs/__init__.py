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
if env.get('REDIS_SENTINELS'):
    # Or Sentinel finds the primary: REDIS_SENTINELS=host:port,host:port and REDIS_SERVICE.
    REDIS = {
        'sentinels': [
            (host, int(port))
            for host, _, port in (node.strip().rpartition(':') for node in env['REDIS_SENTINELS'].split(','))
        ],
        'service_name': env.get('REDIS_SERVICE') or 'mymaster',
        'password': env.get('REDIS_PASSWORD') or None,
        # A logout is acknowledged once this many replicas hold it (docs/scaling.md).
        'wait_replicas': int(env.get('REDIS_WAIT_REPLICAS') or 0),
    }

# /health and /ready; STORE_ROUND_TRIPS_HEADER=true adds the measuring header (never in production).
HEALTH = {'round_trips': env.get('STORE_ROUND_TRIPS_HEADER') is True}

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

# The account routes (mounted at /auth/) also keep browser sessions in cookies, with a CSRF check, and
# passkeys (docs/passkeys.md) for the pages at PASSKEY_ORIGINS (comma-separated; the RP ID is their domain);
# and they serve ready-made pages for people: /auth/ui/login, /auth/ui/security... (docs/account-pages.md).
ACCOUNTS = {
    'cookies': True,
    'pages': True,
    'webauthn': {
        'rp_id': env.get('PASSKEY_RP_ID') or 'localhost',
        'rp_name': 'Example',
        'origins': [origin.strip() for origin in (env.get('PASSKEY_ORIGINS') or 'http://localhost:8000').split(',')],
    },
}

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

# Mail (password reset and verification links): through the SMTP server SMTP_HOST when it is set;
# otherwise printed to the terminal, with the one-time links hidden unless MAIL_SHOW_TOKENS=1
# (for development only: a working reset link in a log is a way into the account).
if env.get('SMTP_HOST'):
    MAILER = {
        'class': 'panther_like.mail.SMTPMailer',
        'host': env['SMTP_HOST'],
        'port': int(env.get('SMTP_PORT') or 587),
        'tls': env.get('SMTP_TLS') or 'starttls',
        'username': env.get('SMTP_USERNAME') or None,
        'password': env.get('SMTP_PASSWORD') or None,
        'sender': env.get('MAIL_FROM') or 'noreply@example.com',
    }
else:
    MAILER = {'class': 'panther_like.mail.ConsoleMailer', 'show_tokens': env.get('MAIL_SHOW_TOKENS') == '1'}
# Where the links in those mails lead: the page that reads the token and posts it (here, the ready-made
# reset page; a front end of your own would name its page).
ACCOUNT_EMAILS = {
    'reset_url': env.get('RESET_URL') or 'http://localhost:8000/auth/ui/password/reset?token=',
    'verify_url': env.get('VERIFY_URL') or 'http://localhost:3000/verify-email#token=',
}
