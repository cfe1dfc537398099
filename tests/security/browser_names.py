"""What tests/security/browser_app.py and its tests both name (the app module needs its settings to import)."""

KEY_COOKIE_SECRET = 'browser-cookie-key-0123456789'
QUERY_SECRET = 'Q-SECRET-9f8e7d6c5b4a'
TRUSTED_FRONT_END = 'https://app.trusted.example'
TRUSTED_WILDCARD = 'https://*.partner.example'
#: The parameter names of the access-log tests: common spellings, and one only this app uses.
QUERY_PARAM_NAMES = ('apikey', 'api-key', 'X-API-Key', 'access_token', 'zq_credential')
