"""Panther 5.5 with its own JWTAuthentication and BaseUser in its own file DB (pantherdb).

The file is $BENCH_PANTHERDB_PATH; bench/prepare.py creates the user in it
before the server starts. Panther's notes as in panther_app.py.
"""

# No `from __future__ import annotations`: Panther finds the `request` parameter by its annotation.
import os

from bench_common import PUBLIC_BODY
from bench_common import SECRET_KEY as _KEY
from panther import Panther
from panther.app import API
from panther.exceptions import AuthenticationAPIError
from panther.request import Request
from panther.response import Response


@API(methods=['GET'])
async def public(request: Request) -> Response:
    return Response(data=PUBLIC_BODY)


@API(methods=['GET'])
async def private(request: Request) -> Response:
    if request.user is None:
        raise AuthenticationAPIError
    return Response(data={'id': request.user.id, 'username': request.user.username})


AUTHENTICATION = 'panther.authentications.JWTAuthentication'
DATABASE = {
    'engine': {
        'class': 'panther.db.connections.PantherDBConnection',
        'path': os.environ.get('BENCH_PANTHERDB_PATH', 'bench_panther.pdb'),
    },
}
SECRET_KEY = _KEY
URLS = {'public': public, 'private': private}
app = Panther(__name__, configs=__name__, urls=URLS)
