"""An app served by uvicorn with several workers: a throttled route, and websockets addressed from any worker.

Settings come from the environment: ``PARITY_DB_PATH`` (the embedded
store) and, optionally, ``PARITY_REDIS_URL``.
"""

from __future__ import annotations

import os
import sys
import types
from datetime import timedelta

from panther_like import API, Panther
from panther_like.throttle import Throttle
from panther_like.websocket import GenericWebsocket, send_message_to_websocket


@API(methods=['GET'])
async def pid(request):
    return {'pid': os.getpid()}


@API(methods=['GET'], throttling=Throttle(rate=5, duration=timedelta(minutes=1)))
async def limited(request):
    return {'pid': os.getpid()}


@API(methods=['POST'])
async def send(request):
    """Sends from whichever worker serves this request."""
    await send_message_to_websocket(request.data['connection_id'], request.data['data'])
    return {'pid': os.getpid()}


class Announcing(GenericWebsocket):
    async def connect(self):
        await self.accept()
        await self.send({'connection_id': self.connection_id, 'pid': os.getpid()})


def _settings() -> types.ModuleType:
    settings = types.ModuleType('parity_settings')
    settings.SECRET_KEY = 'parity-test-secret-key-0123456789abcdef'
    settings.DATABASE = {'path': os.environ['PARITY_DB_PATH']}
    if os.environ.get('PARITY_REDIS_URL'):
        settings.REDIS = {'url': os.environ['PARITY_REDIS_URL']}
    settings.OPENAPI = {'title': 'parity', 'version': '1'}
    sys.modules[settings.__name__] = settings
    return settings


app = Panther(configs=_settings(), urls={'pid': pid, 'limited': limited, 'send': send, 'ws': Announcing})
