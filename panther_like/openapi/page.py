"""``/openapi.json``, ``/docs`` (Swagger UI) and ``/docs/static/<file>``, mounted by the app.

The Swagger UI assets come from the installed ``swagger-ui-bundle-v2``
package (Swagger UI 5, the first major version that renders OpenAPI 3.1;
``swagger-ui-bundle`` 1.x ships 4.15, which refuses a 3.1 document), never
from a CDN: the docs page works offline and loads no third-party script.

Static files are served from a fixed allowlist of names read once into
memory, so no request path, however encoded, can name any other file. The
page itself carries no inline script, which lets it send a strict
Content-Security-Policy.

Each route is mounted only if the user's URLs do not already answer that
path, and none is mounted when ``OPENAPI['enabled']`` is False.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any, ClassVar

import swagger_ui_bundle

from panther_like.auth.guard import Guard
from panther_like.exceptions import NotFoundAPIError
from panther_like.http.request import Request
from panther_like.http.response import Response
from panther_like.openapi.document import build_document
from panther_like.routing.endpoint import HTTPEndpoint
from panther_like.settings.checks import OpenAPISettings

OPENAPI_PATH = 'openapi.json'
DOCS_PATH = 'docs'
STATIC_PATH = 'docs/static/<file>'
PUBLIC = Guard(authenticator=None, permissions=())

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
SECURITY_HEADERS = {
    'Content-Security-Policy': CONTENT_SECURITY_POLICY,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
}

# The page reads where the document lives from a data attribute: no inline script, no templating of JS.
# A route authenticated by a cookie wants the CSRF token echoed on unsafe methods (`X-CSRFToken`
# equal to the `csrftoken` cookie, which is readable by the page on purpose); the request
# interceptor adds it to the page's own-origin requests, so "Try it out" works there too. The response
# interceptor completes a login that answers ``mfa_required`` (a prompt for the code, then ``login/mfa``).
INIT_JS = b"""(function () {
  var SAFE_METHODS = ['GET', 'HEAD', 'OPTIONS', 'TRACE'];

  function readCookie(name) {
    var prefix = name + '=';
    var parts = document.cookie ? document.cookie.split('; ') : [];
    for (var i = 0; i < parts.length; i++) {
      if (parts[i].indexOf(prefix) === 0) return decodeURIComponent(parts[i].slice(prefix.length));
    }
    return null;
  }

  function withCsrfToken(request) {
    var method = (request.method || 'GET').toUpperCase();
    var sameOrigin = new URL(request.url, window.location.href).origin === window.location.origin;
    var token = readCookie('csrftoken');
    if (token && sameOrigin && SAFE_METHODS.indexOf(method) === -1) {
      request.headers = request.headers || {};
      if (!request.headers['X-CSRFToken']) request.headers['X-CSRFToken'] = token;
    }
    return request;
  }

  // A login (the Authorize button's password flow, or "Try it out" on a login operation) by a user with a
  // second factor answers 401 {"mfa_required": true, "mfa_token"}: ask for the code, finish at login/mfa, hand
  // Swagger UI that answer in place of the 401 (so the password flow authorizes itself) and authorize every
  // bearer scheme with its access token.
  function mfaUrl(url) {
    var parsed = new URL(url, window.location.href);
    if (parsed.origin !== window.location.origin || !/\\/login(\\/code)?$/.test(parsed.pathname)) return null;
    return parsed.origin + parsed.pathname.replace(/\\/login(\\/code)?$/, '/login/mfa');
  }

  function mfaChallenge(response) {
    if (!response || response.status !== 401) return null;
    var body = response.body;
    if (!body || typeof body !== 'object') {
      try { body = JSON.parse(response.text); } catch (error) { return null; }
    }
    return body && body.mfa_required === true && typeof body.mfa_token === 'string' ? body : null;
  }

  function authorizeBearerSchemes(token) {
    var schemes = window.ui.specSelectors.securityDefinitions();
    if (!schemes) return;
    schemes.forEach(function (scheme, name) {
      if (scheme.get('type') === 'http' && String(scheme.get('scheme')).toLowerCase() === 'bearer') {
        window.ui.preauthorizeApiKey(name, token);
      }
    });
  }

  function finishMfaLogin(response) {
    var challenge = mfaChallenge(response);
    var url = challenge && mfaUrl(response.url);
    if (!url) return response;
    var entered = window.prompt('Second factor: the code of your authenticator app, or a recovery code');
    if (!entered) return response;
    entered = entered.trim();
    var payload = { mfa_token: challenge.mfa_token };
    payload[/^[0-9]{6,8}$/.test(entered) ? 'code' : 'recovery_code'] = entered;
    var headers = { 'Content-Type': 'application/json', 'Accept': 'application/json' };
    var csrf = readCookie('csrftoken');
    if (csrf) headers['X-CSRFToken'] = csrf;
    return fetch(url, { method: 'POST', headers: headers, body: JSON.stringify(payload), credentials: 'same-origin' })
      .then(function (answer) {
        return answer.text().then(function (text) {
          var parsed = null;
          try { parsed = JSON.parse(text); } catch (error) { parsed = null; }
          if (answer.ok && parsed && parsed.access_token) authorizeBearerSchemes(parsed.access_token);
          return Object.assign({}, response, {
            url: answer.url, ok: answer.ok, status: answer.status, statusText: answer.statusText,
            text: text, data: text, body: parsed, obj: parsed
          });
        });
      });
  }

  window.addEventListener('load', function () {
    var root = document.getElementById('swagger-ui');
    window.ui = SwaggerUIBundle({
      url: root.dataset.specUrl,
      dom_id: '#swagger-ui',
      deepLinking: true,
      persistAuthorization: false,
      tryItOutEnabled: true,
      requestInterceptor: withCsrfToken,
      responseInterceptor: finishMfaLogin,
      presets: [SwaggerUIBundle.presets.apis],
      layout: 'BaseLayout'
    });
  });
})();
"""

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="icon" type="image/png" href="{static}/favicon-32x32.png">
<link rel="stylesheet" href="{static}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui" data-spec-url="{spec_url}"></div>
<script src="{static}/swagger-ui-bundle.js"></script>
<script src="{static}/init.js"></script>
</body>
</html>
"""

CONTENT_TYPES = {
    '.js': 'text/javascript; charset=utf-8',
    '.css': 'text/css; charset=utf-8',
    '.png': 'image/png',
}
VENDOR_FILES = ('swagger-ui-bundle.js', 'swagger-ui.css', 'favicon-32x32.png', 'favicon-16x16.png')


class RawResponse(Response):
    """Bytes sent as they are, with their own content type (the docs page and its assets)."""

    __slots__ = ('content',)

    def __init__(self, content: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(None, 200, {'Content-Type': content_type, **(headers or {})})
        self.content = content

    @property
    def body(self) -> bytes:
        return self.content


class _Internal:
    """Target of the docs routes: the OpenAPI document leaves them out."""

    include_in_schema: ClassVar[bool] = False
    auth = None
    scopes = None


def swagger_ui_directory() -> Path:
    return Path(str(swagger_ui_bundle.swagger_ui_path))


class _StaticFiles:
    """The allowlisted assets, read on first use and kept in memory."""

    def __init__(self) -> None:
        self._files: dict[str, tuple[bytes, str]] | None = None

    def get(self, name: str) -> tuple[bytes, str] | None:
        if self._files is None:
            directory = swagger_ui_directory()
            files = {'init.js': (INIT_JS, CONTENT_TYPES['.js'])}
            for vendor in VENDOR_FILES:
                path = directory / vendor
                if path.is_file():
                    files[vendor] = (path.read_bytes(), CONTENT_TYPES[path.suffix])
            self._files = files
        return self._files.get(name)


def mount_docs(router: Any, settings: OpenAPISettings) -> None:
    """Add the three routes to `router` (each unless the user's URLs already answer its path)."""
    if not settings.enabled:
        return
    state: dict[str, Any] = {}
    static = _StaticFiles()

    async def openapi_json(request: Request) -> Response:
        document = state.get('document')
        if document is None:
            document = state['document'] = build_document(
                [(path, endpoint) for path, endpoint in router.routes], settings
            )
        return Response(document)

    async def docs(request: Request) -> Response:
        root = request.scope.get('root_path', '') or ''
        page = PAGE.format(
            title=html.escape(f'{settings.title} - docs'),
            static=html.escape(f'{root}/docs/static'),
            spec_url=html.escape(f'{root}/{OPENAPI_PATH}'),
        )
        return RawResponse(page.encode(), 'text/html; charset=utf-8', {**SECURITY_HEADERS, 'Cache-Control': 'no-cache'})

    async def static_file(request: Request, file: str) -> Response:
        found = static.get(file)
        if found is None:
            raise NotFoundAPIError()
        content, content_type = found
        headers = {'Cache-Control': 'public, max-age=86400', 'X-Content-Type-Options': 'nosniff'}
        return RawResponse(content, content_type, headers)

    for path, probe, handler in (
        (OPENAPI_PATH, OPENAPI_PATH, openapi_json),
        (DOCS_PATH, DOCS_PATH, docs),
        (STATIC_PATH, 'docs/static/swagger-ui.css', static_file),
    ):
        if router.resolve(probe) is None:
            router.add(path, HTTPEndpoint(path, _Internal, {'GET': handler}, PUBLIC), listed=False)
