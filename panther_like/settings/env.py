"""`load_env`: the ``.env`` file a settings module reads its secrets from."""

from __future__ import annotations

import os
from pathlib import Path

_BOOLEANS = {'true': True, 'false': False}


def load_env(path: str | os.PathLike[str], *, override: bool = False, required: bool = True) -> dict[str, str | bool]:
    """Read a ``.env`` file of ``KEY=VALUE`` lines and return the values.

    Why the details: a settings module reads secrets from here, so it must be
    strict about where they come from (a missing file is an error rather than
    a silent empty config) and predictable about types (``true``/``false``
    become bools, everything else stays a string; quotes around a value are
    removed). Values are also exported to ``os.environ``; a variable that is
    already set in the environment wins over the file unless ``override`` is
    true, so a deployment (or a test) can change one value without editing the
    file. ``#`` starts a comment line; an optional ``export`` prefix is allowed.

    With ``required=False`` a missing file is no error and the environment's
    values are returned instead: a deployment that keeps its secrets only in
    the environment (as it should) then runs the same settings module.
    """
    file = Path(path)
    if not required and not file.exists():
        return {key: _BOOLEANS.get(value.lower(), value) for key, value in os.environ.items()}
    if not file.is_file():
        raise FileNotFoundError(f'load_env: {str(file)!r} does not exist (copy .env.example to .env?)')
    values: dict[str, str | bool] = {}
    for number, raw_line in enumerate(file.read_text(encoding='utf-8').splitlines(), start=1):
        line = raw_line.strip()
        if not line or line.startswith('#'):
            continue
        if line.startswith('export '):
            line = line[len('export ') :].lstrip()
        key, separator, value = line.partition('=')
        key = key.strip()
        if not separator or not key.isidentifier():
            raise ValueError(f'load_env: {str(file)!r} line {number}: expected KEY=VALUE')
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in '"\'':
            value = value[1:-1]
        if override or key not in os.environ:
            os.environ[key] = value
        text = os.environ[key]
        values[key] = _BOOLEANS.get(text.lower(), text)
    return values
