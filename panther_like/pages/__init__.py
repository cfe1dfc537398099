"""Ready-made account pages: server-rendered HTML for signing in and managing one's own security.

Turned on by ``ACCOUNTS['pages']`` (with ``ACCOUNTS['cookies']``) and served
under ``ui/`` beside the account routes (``/auth/ui/login`` when they are
mounted at ``auth/``). Plain HTML forms, each handed to the JSON account
route that does the work; JavaScript only for passkeys. See docs/account-pages.md.
"""

from panther_like.pages.render import CONTENT_SECURITY_POLICY
from panther_like.pages.urls import pages_urls

__all__ = ['CONTENT_SECURITY_POLICY', 'pages_urls']
