"""FastAPI: an HTTPBearer dependency that decodes the JWT with PyJWT and finds the user in a dict."""

from __future__ import annotations

from typing import Annotated

from bench_common import PUBLIC_BODY, private_body, user_for_token
from fastapi import Depends, FastAPI, HTTPException
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
bearer = HTTPBearer()


async def current_user(credentials: Annotated[HTTPAuthorizationCredentials, Depends(bearer)]) -> dict[str, str]:
    user = user_for_token(credentials.credentials)
    if user is None:
        raise HTTPException(401, 'Unauthorized', headers={'WWW-Authenticate': 'Bearer'})
    return user


@app.get('/public')
async def public() -> dict[str, str]:
    return PUBLIC_BODY


@app.get('/private')
async def private(user: Annotated[dict[str, str], Depends(current_user)]) -> dict[str, str]:
    return private_body(user)
