"""Ready-made account routes; mount them like any URL group, ``{'auth/': recovery_urls}``."""

from panther_like.accounts.recovery import recovery_urls

__all__ = ['recovery_urls']
