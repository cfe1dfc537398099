"""The package reads in one direction: a module imports only from its own layer or the layers below.

Every ``import`` in ``panther_like/`` counts, function-local ones and those
under ``TYPE_CHECKING`` included, since a hidden import is still a
dependency. The layers, from the ground up:

foundation -> settings -> building blocks -> auth -> routes -> documents -> app -> tools

and inside a layer the modules import each other without a circle.
``panther_like/__init__.py`` is the package's face: it only hands the
everyday names on, so it stands above everything and is not checked.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / 'panther_like'

LAYERS: tuple[tuple[str, frozenset[str]], ...] = (
    ('foundation', frozenset({'exceptions', 'status', 'utils', 'keys', 'audit', 'context', 'request', 'response',
                              'passwords', 'usernames', 'client_address', 'validation', 'origins'})),
    ('settings', frozenset({'settings', 'account_settings', 'deployment_settings', 'config'})),
    ('building blocks', frozenset({'redis_connection', 'db', 'revocation', 'changes', 'sessions', 'auth_cache',
                                   'throttle_stores', 'throttle', 'tokens', 'mail', 'one_time_tokens'})),
    ('auth', frozenset({'security', 'authentications', 'authenticators', 'permissions', 'guard'})),
    ('routes', frozenset({'routing', 'api', 'websocket', 'jwks', 'accounts'})),
    ('documents', frozenset({'openapi', 'docs_page', 'health'})),
    ('app', frozenset({'app'})),
    ('tools', frozenset({'cli', 'testing'})),
)
LAYER_OF = {unit: index for index, (_, units) in enumerate(LAYERS) for unit in units}


def _unit(path: Path) -> str:
    """The part of the package a file belongs to: its top-level module or subpackage."""
    return path.relative_to(PACKAGE).parts[0].removesuffix('.py')


def _imported_units(path: Path) -> set[str]:
    return _units_imported_by(path.read_text(encoding='utf-8'), path.relative_to(PACKAGE))


def _units_imported_by(source: str, relative: Path) -> set[str]:
    """The package parts `source` imports, were it the file at `relative` inside the package."""
    tree = ast.parse(source)
    package_parts = ('panther_like', *relative.parent.parts)
    units: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ''
            if node.level:
                base = '.'.join([*package_parts[: len(package_parts) - node.level + 1], *filter(None, [base])])
            # ``from panther_like import status`` imports the module panther_like.status.
            names = [f'{base}.{alias.name}' for alias in node.names] if base == 'panther_like' else [base]
        else:
            continue
        for name in names:
            parts = name.split('.')
            if parts[0] == 'panther_like' and len(parts) > 1:
                units.add(parts[1])
    return units


def _modules() -> list[Path]:
    return sorted(path for path in PACKAGE.rglob('*.py') if path != PACKAGE / '__init__.py')


def _dependencies() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path in _modules():
        unit = _unit(path)
        graph.setdefault(unit, set()).update(_imported_units(path) - {unit})
    return graph


def test_every_module_of_the_package_has_a_layer():
    assert {_unit(path) for path in _modules()} <= set(LAYER_OF)


@pytest.mark.parametrize('path', _modules(), ids=lambda path: str(path.relative_to(PACKAGE)))
def test_a_module_imports_nothing_from_a_layer_above_its_own(path: Path):
    unit = _unit(path)
    upward = sorted(
        f'{imported} ({LAYERS[LAYER_OF[imported]][0]})'
        for imported in _imported_units(path) if LAYER_OF.get(imported, -1) > LAYER_OF[unit]
    )
    assert not upward, f'{path.relative_to(PACKAGE)} ({LAYERS[LAYER_OF[unit]][0]}) imports from above: {upward}'


def test_the_modules_of_one_layer_import_each_other_without_a_circle():
    graph = _dependencies()
    visiting: list[str] = []
    done: set[str] = set()

    def visit(unit: str) -> None:
        if unit in done:
            return
        assert unit not in visiting, f'import circle: {" -> ".join([*visiting[visiting.index(unit):], unit])}'
        visiting.append(unit)
        for imported in sorted(graph.get(unit, ())):
            visit(imported)
        visiting.pop()
        done.add(unit)

    for unit in sorted(graph):
        visit(unit)


def test_the_layer_check_sees_function_local_and_relative_imports():
    source = 'def later():\n    from panther_like.app import Panther\n    from ..cli import main\n'
    assert _units_imported_by(source, Path('security') / 'probe.py') == {'app', 'cli'}
