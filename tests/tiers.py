"""The suite's tiers: a plain ``pytest`` runs the in-process tier; ``--all-tiers`` runs every one.

The in-process tier calls the app through `panther_like.testing`, against
the MongoDB-wire and Redis servers that tests/conftest.py starts once per
session: it starts no process of its own and takes seconds. Slower tests
carry one of the markers below (registered in pyproject.toml). A plain
``pytest`` (no paths, from the repository root, so on the configured
testpaths) deselects them, unless ``--all-tiers`` (what scripts/test.sh,
hence CI, passes) or an explicit ``-m`` asks for them. Naming tests
(``pytest tests/e2e``), or running pytest inside a test directory, runs
what is named, whatever its tier:

* ``server``: starts processes of its own: the app under uvicorn, the
  ``panther-like`` command, a docs page's commands, worker processes, or a
  store server it kills and restarts;
* ``browser``: a headless chromium on /docs;
* ``load``: many clients against several uvicorn workers.

So that the fast tier stays fast, starting uvicorn from a test that carries
none of these markers fails that test (see `require_a_tier`).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

TIERS = ('server', 'browser', 'load', 'cluster')
_deselected = pytest.StashKey[int]()
_running: list[pytest.Item] = []  # the test being run, while it runs


def tier_of(item: pytest.Item) -> str | None:
    return next((tier for tier in TIERS if item.get_closest_marker(tier)), None)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        '--all-tiers',
        action='store_true',
        help=f'also run the {", ".join(TIERS)} tiers, which a plain pytest deselects',
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    plain = config.args_source is pytest.Config.ArgsSource.TESTPATHS
    if not plain or config.getoption('all_tiers') or config.option.markexpr:
        return
    kept = [item for item in items if tier_of(item) is None]
    deselected = [item for item in items if tier_of(item) is not None]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = kept
    config.stash[_deselected] = len(deselected)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    if config.stash.get(_deselected, 0):
        terminalreporter.write_line(
            f'in-process tier only: {config.stash[_deselected]} tests of the {", ".join(TIERS)} tiers were '
            f'deselected; --all-tiers (or bash scripts/test.sh) runs them, -m server runs one'
        )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Iterator[None]:
    _running.append(item)
    try:
        return (yield)
    finally:
        _running.pop()


def require_a_tier(what: str) -> None:
    """Fail the running test if it belongs to the in-process tier: it is about to start `what`."""
    if _running and tier_of(_running[-1]) is None:
        pytest.fail(
            f'{_running[-1].nodeid} starts {what}, so it belongs to a slower tier: '
            f'mark it with one of {", ".join(TIERS)} (tests/tiers.py)',
            pytrace=False,
        )
