"""Where the benchmark runs: its venv, the system tools it needs, and a description of the machine.

Standard library only: `run.py` imports this with whatever ``python3`` the user
started it with, before it has re-run itself inside bench/.venv.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
VENV = BENCH / '.venv'
VENV_PYTHON = VENV / 'bin' / 'python'
TARGETS_DIR = BENCH / 'targets'
REQUIREMENTS = BENCH / 'requirements.txt'
REQUIREMENTS_NODEPS = BENCH / 'requirements-nodeps.txt'
REQUIREMENTS_PROFILE = BENCH / 'requirements-profile.txt'
STAMP = VENV / '.bench-installed'
RESULTS = BENCH / 'RESULTS.md'
PY_SPY = VENV / 'bin' / 'py-spy'
# The packages whose versions the report names first (the rest go in a folded list).
KEY_PACKAGES = (
    'uvicorn',
    'uvloop',
    'httptools',
    'orjson',
    'PyJWT',
    'pydantic',
    'starlette',
    'fastapi',
    'panther',
    'pantherdb',
    'python-jose',
    'panther-like',
    'pymongo',
    'neosqlite',
    'redis',
    'nx-27017',
    'argon2-cffi',
    'py-spy',
)


def log(message: str) -> None:
    print(f'[bench {time.strftime("%H:%M:%S")}] {message}', file=sys.stderr, flush=True)


# -- bootstrap ------------------------------------------------------------------------------------


def _stamp() -> str:
    """A digest of everything that decides what bench/.venv holds: a change reinstalls."""
    digest = hashlib.sha256()
    for path in (REQUIREMENTS, REQUIREMENTS_NODEPS, ROOT / 'pyproject.toml'):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _pip() -> list[str]:
    return [str(VENV_PYTHON), '-m', 'pip', 'install', '--quiet', '--disable-pip-version-check']


def ensure_venv(force: bool = False) -> None:
    if not VENV_PYTHON.exists():
        log(f'creating {VENV}')
        subprocess.run([sys.executable, '-m', 'venv', str(VENV)], check=True)
    if not force and STAMP.exists() and STAMP.read_text() == _stamp():
        return
    log('installing pinned packages into bench/.venv (requirements.txt, requirements-nodeps.txt, -e .)')
    subprocess.run([*_pip(), '-r', str(REQUIREMENTS), '-e', str(ROOT)], check=True)
    subprocess.run([*_pip(), '--no-deps', '-r', str(REQUIREMENTS_NODEPS)], check=True)
    STAMP.write_text(_stamp())


def ensure_profiler() -> None:
    """py-spy, only for ``--profile``: a sampling profiler that attaches to the running worker by PID."""
    if PY_SPY.exists():
        return
    log('installing py-spy into bench/.venv (requirements-profile.txt)')
    subprocess.run([*_pip(), '-r', str(REQUIREMENTS_PROFILE)], check=True)


def ensure_apt(binary: str, package: str) -> None:
    if shutil.which(binary):
        return
    log(f'{binary} not found: apt-get install {package}')
    env = {**os.environ, 'DEBIAN_FRONTEND': 'noninteractive'}
    install = ['apt-get', 'install', '-y', '-q', '--no-install-recommends', package]
    if subprocess.run(install, env=env, capture_output=True).returncode != 0:
        subprocess.run(['apt-get', 'update', '-q'], env=env, check=True, capture_output=True)
        subprocess.run(install, env=env, check=True, capture_output=True)
    if not shutil.which(binary):
        raise SystemExit(f'{binary} is still missing after apt-get install {package}')


# -- what the report says about the machine -------------------------------------------------------


def versions() -> dict[str, str]:
    freeze = subprocess.run(
        [str(VENV_PYTHON), '-m', 'pip', 'list', '--format=json', '--disable-pip-version-check'],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {item['name']: item['version'] for item in json.loads(freeze)}


def machine() -> dict[str, str]:
    cpu = 'unknown'
    with contextlib.suppress(OSError):
        for line in Path('/proc/cpuinfo').read_text().splitlines():
            if line.startswith('model name'):
                cpu = line.split(':', 1)[1].strip()
                break
    wrk = subprocess.run(['wrk', '-v'], capture_output=True, text=True)
    redis = (
        subprocess.run(['redis-server', '--version'], capture_output=True, text=True)
        if shutil.which('redis-server')
        else None
    )
    git = subprocess.run(['git', '-C', str(ROOT), 'rev-parse', '--short', 'HEAD'], capture_output=True, text=True)
    dirty = subprocess.run(
        ['git', '--no-optional-locks', '-C', str(ROOT), 'status', '--porcelain', '--', 'panther_like'],
        capture_output=True,
        text=True,
    )
    wrk_text = (wrk.stdout + wrk.stderr).strip()
    return {
        'uname': ' '.join(platform.uname()),
        'cpu': f'{cpu} x {os.cpu_count()} logical CPUs',
        'python': sys.version.split()[0],
        'wrk': wrk_text.splitlines()[0] if wrk_text else '?',
        'redis': redis.stdout.strip() if redis else '-',
        'git': git.stdout.strip() + (' (panther_like/ has uncommitted changes)' if dirty.stdout.strip() else ''),
    }


def loadavg() -> str:
    try:
        return ' '.join(Path('/proc/loadavg').read_text().split()[:3])
    except OSError:
        return '?'
