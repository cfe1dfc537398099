"""A custom authentication class, named by dotted path like any other.

Browsers send the access token in a cookie, API clients in the
``Authorization`` header; this class accepts either, header first. It
shows the template: extract, then let the framework's classes decide.
"""

from panther_like.authentications import BaseAuthentication, CookieJWTAuthentication, JWTAuthentication
from panther_like.exceptions import AuthenticationAPIError


class HeaderOrCookieAuthentication(BaseAuthentication):
    uses_jwt = True
    # What /openapi.json lists for routes using this class: either scheme will do.
    openapi_security = (JWTAuthentication, CookieJWTAuthentication)

    @classmethod
    async def authentication(cls, request):
        if 'authorization' in request.headers:
            return await JWTAuthentication.authentication(request)
        if 'access_token' in request.cookies:
            return await CookieJWTAuthentication.authentication(request)
        raise AuthenticationAPIError('Send a Bearer token or an access_token cookie')
