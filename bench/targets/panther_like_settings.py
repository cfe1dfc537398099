"""panther_like settings for the benchmark; the store and Redis come from the environment.

BENCH_MONGODB_URL set: MongoDB at that URL; else the embedded store at
BENCH_EMBEDDED_PATH. BENCH_REDIS_URL set: revocation kept in Redis.
BENCH_AUTH_CACHE_ENTRIES set: AUTH_CACHE['max_entries'] (else the framework's default).
"""

import os as _os

from bench_common import SECRET_KEY as _KEY

SECRET_KEY = _KEY
AUTHENTICATION = 'panther_like.auth.authentication_classes.JWTAuthentication'
DATABASE = (
    {'url': _os.environ['BENCH_MONGODB_URL']}
    if _os.environ.get('BENCH_MONGODB_URL')
    else {'path': _os.environ.get('BENCH_EMBEDDED_PATH', 'bench_panther_like.sqlite3')}
)
if _os.environ.get('BENCH_REDIS_URL'):
    REDIS = {'url': _os.environ['BENCH_REDIS_URL']}
if _os.environ.get('BENCH_AUTH_CACHE_ENTRIES'):
    AUTH_CACHE = {'max_entries': int(_os.environ['BENCH_AUTH_CACHE_ENTRIES'])}
