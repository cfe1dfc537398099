"""The app: `Panther` composes what the settings name and serves it over ASGI."""

from panther_like.app.panther import Panther

__all__ = ['Panther']
