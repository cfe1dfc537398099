"""The OpenAPI 3.1 document served at ``/openapi.json``, built from the router once.

What it documents, and why it is shaped this way:

- every HTTP route and method, with ``{name}`` path parameters;
- ``components.securitySchemes`` for every scheme in use: the security
  objects, and the configuration-driven JWT classes (header bearer, query
  parameter, cookie). Ninja names a scheme after its class, so two
  ``APIKeyHeader`` instances with different headers collide and one
  silently wins. Here a class name is used as is while it stands for one
  scheme, and suffixed with a hash of the scheme's parameters as soon as
  it stands for two, so names are unique and stable across runs;
- per-operation ``security``: a list is an OR of alternatives (each with
  the route's JWT ``scopes``), plus ``{}`` when authentication is optional;
- the auth error responses (401, and 403 when a scheme, a permission or a
  scope can refuse) with their JSON model, taken from each scheme's
  ``openapi_responses`` and merged with ``oneOf`` when they differ;
- what each operation takes and gives, from its `Contract` (``@API(input=...,
  output=..., status_code=...)``): the request body (JSON, and a form when
  the operation takes one), the success response, the 400 of a body that is
  not JSON and the 422 (``{"detail", "errors"}``) of one that does not fit
  the model; the 429 (with ``Retry-After``) of a throttled one, and the query
  parameters a route lists in ``openapi_parameters``;
- all of it per operation: one path may have a public GET and a protected
  POST, each documented with its own security and error responses;
- an OAuth2 password flow when a route is an OAuth2 token endpoint (its
  target has ``openapi_oauth2_token_endpoint = True``, as the accounts
  ``login`` does): ``/docs``' Authorize button then logs in with a username
  and a password, and every operation that takes a bearer JWT accepts it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from panther_like.http.request import FORM_CONTENT_TYPE
from panther_like.openapi.schemas import Schemas, ValidationErrorResponse, canonical
from panther_like.routing.api import FunctionAPI
from panther_like.routing.contract import BODY_METHODS, Contract
from panther_like.routing.endpoint import HTTPEndpoint, Operation
from panther_like.routing.router import PARAMETER
from panther_like.security.base import AuthErrorResponse, SecurityObject
from panther_like.settings.checks import OpenAPISettings

OPENAPI_VERSION = '3.1.0'
STATUS_DESCRIPTIONS = {
    400: 'Bad Request',
    401: 'Unauthorized',
    403: 'Forbidden',
    422: 'Validation Error',
    429: 'Too Many Requests',
}
RETRY_AFTER = {'description': 'Seconds to wait before trying again', 'schema': {'type': 'integer'}}
OAUTH2_SCHEME = 'OAuth2PasswordBearer'
DEFAULT_AUTH_RESPONSES: Mapping[int, Any] = {401: AuthErrorResponse}


# -- schemes ----------------------------------------------------------------------------------


def security_schemes_of(source: Any) -> list[tuple[str, dict[str, Any]]]:
    """``(base name, Security Scheme Object)`` for each wire scheme `source` accepts; [] if unknown.

    A class or object may say what it accepts with ``openapi_scheme()``
    (one scheme) or ``openapi_security`` (a list of sources, alternatives),
    the way the example's header-or-cookie class does.
    """
    alternatives = getattr(source, 'openapi_security', None)
    if alternatives is not None:
        return [entry for item in alternatives for entry in security_schemes_of(item)]
    name = source.__name__ if isinstance(source, type) else type(source).__name__
    if isinstance(source, SecurityObject):
        return [(name, source.openapi_scheme())]
    hook = getattr(source, 'openapi_scheme', None)
    if callable(hook):
        return [(getattr(source, '__name__', name), hook())]
    return []


def auth_responses(source: Any) -> Mapping[int, Any]:
    return getattr(source, 'openapi_responses', DEFAULT_AUTH_RESPONSES)


class _SchemeNames:
    """Unique, stable names: the class name alone while it means one scheme, name + hash once it means two."""

    def __init__(self) -> None:
        self._by_base: dict[str, dict[bytes, dict[str, Any]]] = {}

    def add(self, base: str, scheme: dict[str, Any]) -> None:
        self._by_base.setdefault(base, {})[canonical(scheme)] = scheme

    def name(self, base: str, scheme: dict[str, Any]) -> str:
        variants = self._by_base[base]
        if len(variants) == 1:
            return base
        return f'{base}_{hashlib.sha256(canonical(scheme)).hexdigest()[:8]}'

    def components(self) -> dict[str, dict[str, Any]]:
        return {
            self.name(base, scheme): scheme for base, variants in self._by_base.items() for scheme in variants.values()
        }


# -- responses ----------------------------------------------------------------------------------


def _merge_responses(
    by_status: dict[int, list[dict[str, Any]]], descriptions: Mapping[int, str] | None = None
) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    for status_code in sorted(by_status):
        unique: list[dict[str, Any]] = []
        for schema in by_status[status_code]:
            if schema not in unique:
                unique.append(schema)
        schema = unique[0] if len(unique) == 1 else {'oneOf': unique}
        description = (descriptions or {}).get(status_code) or STATUS_DESCRIPTIONS.get(status_code, 'Error')
        responses[str(status_code)] = {
            'description': description,
            'content': {'application/json': {'schema': schema}},
        }
        if status_code == 429:  # every 429 of the framework says when to come back
            responses['429']['headers'] = {'Retry-After': RETRY_AFTER}
    return responses


def _request_body(contract: Contract, schemas: Schemas) -> dict[str, Any]:
    if contract.input is None:
        return {'required': False, 'content': {'application/json': {'schema': {}}}}
    schema = schemas.ref(contract.input)
    content = {'application/json': {'schema': schema}}
    if contract.form:
        content[FORM_CONTENT_TYPE] = {'schema': schema}
    return {'required': True, 'content': content}


def _success(contract: Contract, schemas: Schemas) -> dict[str, Any]:
    response: dict[str, Any] = {'description': 'Successful Response'}
    if contract.status_code != 204:
        schema = {} if contract.output is None else schemas.ref(contract.output)
        response['content'] = {'application/json': {'schema': schema}}
    return {str(contract.status_code): response}


def _is_bearer_jwt(scheme: dict[str, Any]) -> bool:
    return scheme.get('type') == 'http' and str(scheme.get('scheme', '')).lower() == 'bearer'


def _oauth2_scheme(token_path: str, scopes: set[str]) -> dict[str, Any]:
    return {
        'type': 'oauth2',
        'description': 'Log in with a username and a password (OAuth2 password grant); '
        'the access token is then sent as a bearer token',
        'flows': {'password': {'tokenUrl': _openapi_path(token_path), 'scopes': {s: s for s in sorted(scopes)}}},
    }


# -- the document --------------------------------------------------------------------------------


def _openapi_path(path: str) -> str:
    return '/' + PARAMETER.sub(r'{\1}', path)


def _operation_id(method: str, path: str) -> str:
    cleaned = ''.join(ch if ch.isalnum() else '_' for ch in path).strip('_') or 'root'
    return f'{method.lower()}_{cleaned}'


def _summary(endpoint: HTTPEndpoint, method: str) -> str:
    source = endpoint.operations[method].source
    if isinstance(source, FunctionAPI):
        doc, name = source.function.__doc__, source.function.__name__
    else:  # a GenericAPI class, or the framework's own route objects (health, docs)
        handler = getattr(source, method.lower(), None)
        doc = getattr(handler, '__doc__', None) or getattr(source, '__doc__', None)
        name = getattr(source, '__name__', None) or _operation_id(method, endpoint.path)
    if doc and doc.strip():
        return doc.strip().splitlines()[0]
    return name.replace('_', ' ').strip().capitalize()


def _operations(endpoint: HTTPEndpoint) -> list[tuple[str, Operation]]:
    return [(method, operation) for method, operation in endpoint.operations.items() if method != 'HEAD']


def build_document(routes: list[tuple[str, Any]], settings: OpenAPISettings) -> dict[str, Any]:
    """The OpenAPI document of `routes` (the router's ``(path, endpoint)`` pairs).

    In phases: the documented endpoints, their security schemes, each
    operation (which collects the schemas it refers to), then the assembled
    document.
    """
    endpoints = _documented(routes)
    builder = _DocumentBuilder(_schemes(endpoints), _token_path(endpoints))
    paths = {_openapi_path(path): builder.path_item(path, endpoint) for path, endpoint in endpoints}
    document: dict[str, Any] = {
        'openapi': OPENAPI_VERSION,
        'info': _info(settings),
        'paths': {path: item for path, item in paths.items() if item},
    }
    components = builder.components()
    if components:
        document['components'] = components
    return document


def _documented(routes: list[tuple[str, Any]]) -> list[tuple[str, HTTPEndpoint]]:
    return [
        (path, endpoint)
        for path, endpoint in routes
        if isinstance(endpoint, HTTPEndpoint) and getattr(endpoint.target, 'include_in_schema', True)
    ]


@dataclass
class _Schemes:
    """The wire schemes of each guard (by its id), and their unique names."""

    names: _SchemeNames
    by_guard: dict[int, list[tuple[str, dict[str, Any]]]]


def _schemes(endpoints: list[tuple[str, HTTPEndpoint]]) -> _Schemes:
    names = _SchemeNames()
    by_guard: dict[int, list[tuple[str, dict[str, Any]]]] = {}
    for _, endpoint in endpoints:
        for _, operation in _operations(endpoint):
            if id(operation.guard) in by_guard:
                continue
            authenticator = operation.guard.authenticator
            entries = [
                entry
                for source in (authenticator.sources if authenticator else ())
                for entry in security_schemes_of(source)
            ]
            by_guard[id(operation.guard)] = entries
            for base, scheme in entries:
                names.add(base, scheme)
    return _Schemes(names, by_guard)


def _token_path(endpoints: list[tuple[str, HTTPEndpoint]]) -> str | None:
    """The path of the OAuth2 token endpoint, if a route is one."""
    for path, endpoint in endpoints:
        for _, operation in _operations(endpoint):
            if getattr(operation.source, 'openapi_oauth2_token_endpoint', False):
                return path
    return None


def _info(settings: OpenAPISettings) -> dict[str, Any]:
    info: dict[str, Any] = {'title': settings.title, 'version': settings.version}
    if settings.description:
        info['description'] = settings.description
    return info


class _DocumentBuilder:
    """Documents operations one by one, collecting the schemas and scopes they use for the components."""

    def __init__(self, schemes: _Schemes, token_path: str | None) -> None:
        self.schemes = schemes
        self.token_path = token_path
        self.schemas = Schemas()
        self.scopes: set[str] = set()

    def path_item(self, path: str, endpoint: HTTPEndpoint) -> dict[str, Any]:
        parameters = [
            {'name': name, 'in': 'path', 'required': True, 'schema': {'type': 'string'}}
            for name in PARAMETER.findall(path)
        ]
        return {
            method.lower(): self.operation(
                path,
                endpoint,
                method,
                declared,
                [*parameters, *(dict(p) for p in getattr(declared.source, 'openapi_parameters', ()))],
            )
            for method, declared in _operations(endpoint)
        }

    def operation(
        self, path: str, endpoint: HTTPEndpoint, method: str, declared: Operation, parameters: list[dict[str, Any]]
    ) -> dict[str, Any]:
        """The Operation Object of `method` on `path`."""
        authenticator = declared.guard.authenticator
        scopes = list(declared.scopes)
        self.scopes.update(scopes)
        security = self._security(declared, scopes)
        contract = declared.contract
        entry: dict[str, Any] = {
            'operationId': _operation_id(method, path),
            'summary': _summary(endpoint, method),
            'responses': {
                **_success(contract, self.schemas),
                **_merge_responses(self._errors(declared), contract.responses),
            },
        }
        tag = path.split('/', 1)[0]
        if tag and '<' not in tag:
            entry['tags'] = [tag]
        if parameters:
            entry['parameters'] = parameters
        if method in BODY_METHODS or contract.input is not None:
            entry['requestBody'] = _request_body(contract, self.schemas)
        if authenticator is not None and security:
            entry['security'] = [*security, {}] if authenticator.optional else security
        return entry

    def _security(self, declared: Operation, scopes: list[str]) -> list[dict[str, list[str]]]:
        """Alternatives (an OR), each with the route's scopes; the OAuth2 flow beside a bearer JWT."""
        security: list[dict[str, list[str]]] = []
        for base, scheme in self.schemes.by_guard[id(declared.guard)]:
            requirement = {self.schemes.names.name(base, scheme): scopes}
            if requirement not in security:
                security.append(requirement)
            if self.token_path is not None and _is_bearer_jwt(scheme) and {OAUTH2_SCHEME: scopes} not in security:
                security.append({OAUTH2_SCHEME: scopes})
        return security

    def _errors(self, declared: Operation) -> dict[int, list[dict[str, Any]]]:
        """The error responses by status: the auth sources', 403 of permissions, 400/422 of a body, declared ones."""
        errors: dict[int, list[dict[str, Any]]] = {}
        authenticator = declared.guard.authenticator
        if authenticator is not None:
            for source in authenticator.sources:
                for status_code, model in auth_responses(source).items():
                    if authenticator.optional and status_code == 401:
                        continue  # optional: a failed credential means anonymous, never a 401
                    errors.setdefault(int(status_code), []).append(self.schemas.ref(model))
        if declared.guard.permissions:  # permissions and scopes are both refused with 403
            errors.setdefault(403, []).append(self.schemas.ref(AuthErrorResponse))
        contract = declared.contract
        if contract.input is not None:
            errors.setdefault(400, []).append(self.schemas.ref(AuthErrorResponse))
            errors.setdefault(422, []).append(self.schemas.ref(ValidationErrorResponse))
        if declared.throttle is not None:
            errors.setdefault(429, []).append(self.schemas.ref(AuthErrorResponse))
        for status_code in contract.responses:
            errors.setdefault(int(status_code), []).append(self.schemas.ref(AuthErrorResponse))
        return errors

    def components(self) -> dict[str, Any]:
        components: dict[str, Any] = {}
        schemes = self.schemes.names.components()
        if self.token_path is not None:
            schemes[OAUTH2_SCHEME] = _oauth2_scheme(self.token_path, self.scopes)
        if schemes:
            components['securitySchemes'] = schemes
        if self.schemas.components:
            components['schemas'] = self.schemas.components
        return components
