"""``@API`` and ``GenericAPI``: this name keeps working; the code lives in `panther_like.routing`.

`panther_like.routing.api` holds the declarations (`API`, `GenericAPI`),
`panther_like.routing.contract` what an operation takes and gives, and
`panther_like.routing.endpoint` the route the app serves.
"""

from panther_like.routing.api import API, HTTP_METHODS, FunctionAPI, GenericAPI
from panther_like.routing.contract import (
    BODY_METHODS,
    DEFAULT_CONTRACT,
    GUARD_FIELDS,
    Contract,
    Handler,
    OutputContractError,
    contract,
)
from panther_like.routing.endpoint import HTTPEndpoint, Operation, check_path_parameters
from panther_like.settings.throttling import Throttle

__all__ = [
    'API',
    'BODY_METHODS',
    'DEFAULT_CONTRACT',
    'GUARD_FIELDS',
    'HTTP_METHODS',
    'Contract',
    'FunctionAPI',
    'GenericAPI',
    'HTTPEndpoint',
    'Handler',
    'Operation',
    'OutputContractError',
    'Throttle',
    'check_path_parameters',
    'contract',
]
