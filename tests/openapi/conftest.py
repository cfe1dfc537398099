"""The OpenAPI tests reuse the security-objects app server and the example project servers."""

from tests.security_objects.conftest import client, secured_server  # noqa: F401
