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
        'sentinels': [(host, int(port)) for host, _, port in
                      (node.strip().rpartition(':') for node in env['REDIS_SENTINELS'].split(','))],
        'service_name': env.get('REDIS_SERVICE') or 'mymaster',
        'password': env.get('REDIS_PASSWORD') or None,
        # A logout is acknowledged once this many replicas hold it (docs/scaling.md).
        'wait_replicas': int(env.get('REDIS_WAIT_REPLICAS') or 0),
    }

# /health and /ready; STORE_ROUND_TRIPS_HEADER=true adds the measuring header (never in production).
HEALTH = {'round_trips': env.get('STORE_ROUND_TRIPS_HEADER') is True}

# Failed logins allowed per username and per client address within `window` seconds; then 429.
LOGIN_THROTTLE = {
    'max_failures': int(env.get('LOGIN_MAX_FAILURES') or 5),
    'max_failures_per_address': int(env.get('LOGIN_MAX_FAILURES_PER_ADDRESS') or 50),
    'window': int(env.get('LOGIN_THROTTLE_WINDOW') or 300),
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
