"""The load test reuses the end-to-end suite's two-worker example servers."""

from tests.e2e.conftest import multiworker_server

__all__ = ['multiworker_server']
