"""The package reads in one direction, and its folders are its layers.

Each folder of ``panther_like/`` (and each of the few modules beside them)
is one unit; the units stand on the layers below, from the ground up. A
module imports only from its own unit or from units on lower layers. Every
``import`` counts, function-local ones included, since a hidden import is
still a dependency; only imports under ``if TYPE_CHECKING:`` are exempt
from the direction (they name types, they never run), though not from
the no-circle rule of the units' run-time imports.

A *face* is a top-level module that only hands names on from where they
live (``panther_like.authentications``, the name the settings use). Faces,
like ``panther_like/__init__.py``, stand above everything, and no module of
the package imports one: code imports a name from where it lives.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / 'panther_like'

#: The layers, from the ground up; each names the folders (and top-level modules) on it.
LAYERS: tuple[tuple[str, frozenset[str]], ...] = (
    ('foundation', frozenset({'exceptions', 'status', 'audit', 'common'})),
    ('vocabulary', frozenset({'http', 'crypto'})),
    ('settings', frozenset({'settings'})),
    ('data', frozenset({'db'})),
    ('login state and mail', frozenset({'login_state', 'mail'})),
    ('security objects', frozenset({'security'})),
    ('authentication', frozenset({'auth'})),
    ('routing', frozenset({'routing'})),
    ('account pages', frozenset({'pages'})),
    ('account routes', frozenset({'accounts'})),
    ('documents', frozenset({'openapi'})),
    ('the app', frozenset({'app'})),
    ('tools', frozenset({'cli', 'testing'})),
)
LAYER_OF = {unit: index for index, (_, units) in enumerate(LAYERS) for unit in units}
#: At most this many modules sit directly under panther_like/ (faces and __init__.py included).
MAX_TOP_LEVEL_MODULES = 12
MAX_MODULE_LINES = 400


def _unit(path: Path) -> str:
    """The part of the package a file belongs to: its top-level module or folder."""
    return path.relative_to(PACKAGE).parts[0].removesuffix('.py')


def _is_face(path: Path) -> bool:
    """A top-level module whose body only imports names and lists them in ``__all__``."""
    if path.parent != PACKAGE:
        return False
    body = ast.parse(path.read_text(encoding='utf-8')).body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]
    return bool(body) and all(
        isinstance(node, ast.ImportFrom)
        or (isinstance(node, ast.Assign) and [getattr(t, 'id', None) for t in node.targets] == ['__all__'])
        for node in body
    )


def _type_checking_blocks(tree: ast.AST) -> set[int]:
    """The ids of the import nodes that sit under ``if TYPE_CHECKING:``."""
    exempt: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and 'TYPE_CHECKING' in ast.unparse(node.test):
            exempt.update(id(inner) for child in node.body for inner in ast.walk(child))
    return exempt


def _imported_units(path: Path, *, typing_too: bool = False) -> set[str]:
    return _units_imported_by(path.read_text(encoding='utf-8'), path.relative_to(PACKAGE), typing_too=typing_too)


def _imported_modules(source: str, relative: Path, *, typing_too: bool = False) -> set[str]:
    """The dotted ``panther_like`` modules `source` imports, were it the file at `relative`."""
    tree = ast.parse(source)
    exempt = set() if typing_too else _type_checking_blocks(tree)
    package_parts = ('panther_like', *relative.parent.parts)
    modules: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in exempt:
            continue
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
        modules.update(name for name in names if name.startswith('panther_like.'))
    return modules


def _units_imported_by(source: str, relative: Path, *, typing_too: bool = False) -> set[str]:
    return {name.split('.')[1] for name in _imported_modules(source, relative, typing_too=typing_too)}


def _modules() -> list[Path]:
    return sorted(path for path in PACKAGE.rglob('*.py') if path != PACKAGE / '__init__.py' and not _is_face(path))


def _faces() -> set[str]:
    return {path.stem for path in PACKAGE.glob('*.py') if _is_face(path)}


def _dependencies() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path in _modules():
        unit = _unit(path)
        graph.setdefault(unit, set()).update(_imported_units(path) - {unit})
    return graph


def test_every_folder_and_module_of_the_package_has_a_layer():
    assert {_unit(path) for path in _modules()} <= set(LAYER_OF)


def test_every_layer_names_only_folders_and_modules_that_exist():
    assert set(LAYER_OF) <= {_unit(path) for path in _modules()}


@pytest.mark.parametrize('path', _modules(), ids=lambda path: str(path.relative_to(PACKAGE)))
def test_a_module_imports_nothing_from_a_layer_above_its_own(path: Path):
    unit = _unit(path)
    upward = sorted(
        f'{imported} ({LAYERS[LAYER_OF[imported]][0]})'
        for imported in _imported_units(path)
        if LAYER_OF.get(imported, -1) > LAYER_OF[unit]
    )
    assert not upward, f'{path.relative_to(PACKAGE)} ({LAYERS[LAYER_OF[unit]][0]}) imports from above: {upward}'


@pytest.mark.parametrize('path', _modules(), ids=lambda path: str(path.relative_to(PACKAGE)))
def test_a_module_imports_names_from_where_they_live_not_from_a_face(path: Path):
    faces = {f'panther_like.{face}' for face in _faces()} | {'panther_like'}
    used = _imported_modules(path.read_text(encoding='utf-8'), path.relative_to(PACKAGE), typing_too=True)
    assert not used & faces, f'{path.relative_to(PACKAGE)} imports {sorted(used & faces)}'


def test_the_units_import_each_other_without_a_circle():
    graph = _dependencies()
    visiting: list[str] = []
    done: set[str] = set()

    def visit(unit: str) -> None:
        if unit in done:
            return
        assert unit not in visiting, f'import circle: {" -> ".join([*visiting[visiting.index(unit) :], unit])}'
        visiting.append(unit)
        for imported in sorted(graph.get(unit, ())):
            visit(imported)
        visiting.pop()
        done.add(unit)

    for unit in sorted(graph):
        visit(unit)


def test_at_most_twelve_modules_sit_directly_under_the_package():
    top = sorted(path.name for path in PACKAGE.glob('*.py'))
    assert len(top) <= MAX_TOP_LEVEL_MODULES, top


@pytest.mark.parametrize('path', sorted(PACKAGE.rglob('*.py')), ids=lambda path: str(path.relative_to(PACKAGE)))
def test_no_module_is_longer_than_400_lines(path: Path):
    assert len(path.read_text(encoding='utf-8').splitlines()) <= MAX_MODULE_LINES


def test_the_layer_check_sees_function_local_and_relative_imports():
    source = 'def later():\n    from panther_like.app import Panther\n    from ..cli import main\n'
    assert _units_imported_by(source, Path('security') / 'probe.py') == {'app', 'cli'}


def test_the_layer_check_lets_type_only_imports_point_up():
    source = 'from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from panther_like.app import Panther\n'
    assert _units_imported_by(source, Path('settings') / 'probe.py') == set()
    assert _units_imported_by(source, Path('settings') / 'probe.py', typing_too=True) == {'app'}


def test_a_module_that_only_hands_names_on_is_a_face():
    assert {'authentications', 'utils', 'websocket'} <= _faces()
