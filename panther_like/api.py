"""``@API`` and ``GenericAPI``: this name keeps working; the code lives in `panther_like.routing.api`."""

from panther_like.routing.api import (
    API,
    BODY_METHODS,
    DEFAULT_CONTRACT,
    GUARD_FIELDS,
    HTTP_METHODS,
    Contract,
    FunctionAPI,
    GenericAPI,
    Handler,
    HTTPEndpoint,
    Operation,
    OutputContractError,
    check_path_parameters,
    contract,
)

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
    'check_path_parameters',
    'contract',
]
