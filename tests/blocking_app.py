"""An app whose sync handler blocks, served by a real uvicorn in tests/test_sync_user_code.py."""

from __future__ import annotations

import os
import time

from panther_like import API, Panther
from tests.settings import settings_module

BLOCK_SECONDS = 1.5


@API()
def slow(request):
    time.sleep(BLOCK_SECONDS)  # a blocking driver call, as sync user code makes
    return {'slow': True}


@API()
async def fast(request):
    return {'fast': True}


app = Panther(
    configs=settings_module(
        SECRET_KEY='b' * 32 + '0123456789abcdefghijklmnopqrstuv',
        URLS={'slow': slow, 'fast': fast},
        DATABASE={'path': os.environ.get('BLOCKING_DB_PATH', 'blocking.sqlite3')},
    )
)
