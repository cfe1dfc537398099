"""Every code block in docs/ runs, so the docs cannot rot.

How a page runs (the conventions a docs writer follows):

* Each page runs in its own empty temporary directory. A page that starts
  with ``<!-- docs-test: example-project -->`` gets a copy of the example
  project (``configs/``, ``core/``, ``example_app/``) there instead. A ``.env``
  with a test secret and a store file in that directory is written unless
  the page writes its own.
* ```` ```lang file=PATH ```` blocks are written to PATH (Python ones must compile).
* ```` ```python ```` blocks run in order, in one Python process per page that
  keeps its variables between blocks; top-level ``await`` works.
* ```` ```bash ```` blocks run with ``bash -euo pipefail`` in the directory, with
  this virtualenv's ``bin`` first on ``PATH``; port 8000 is replaced by a free port; ``pytest``
  there loads only the pytest-asyncio plugin.
* ```` ```bash background ```` blocks start a server that later blocks talk to;
  the test waits until the port answers and stops it (by PID) when the page ends.
* ```` ```text ```` blocks are not run; one right after a Python block that printed must show what
  it printed (``...`` stands for any text, an id say); other ones are illustrative.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / 'docs'
BIN = Path(sys.executable).parent
FENCE = re.compile(r'^```([^\n`]*)\n(.*?)^```\s*$', re.MULTILINE | re.DOTALL)
KNOWN_LANGUAGES = {'python', 'bash', 'text', 'ini'}
INHERITED = (
    'SECRET_KEY',
    'MONGODB_URL',
    'DB_PATH',
    'REDIS_URL',
    'PANTHER_LIKE_CONFIGS',
    'PYTHONPATH',
    'SMTP_HOST',
    'SMTP_PORT',
    'SMTP_TLS',
    'SMTP_USERNAME',
    'SMTP_PASSWORD',
    'MAIL_FROM',
    'MAIL_SHOW_TOKENS',
    'RESET_URL',
    'VERIFY_URL',
)

RUNNER = r"""
import ast, asyncio, io, json, sys, traceback
channel, sys.stdout = sys.stdout, sys.stderr
sys.path.insert(0, '.')
namespace = {'__name__': '__docs__'}

async def main():
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            return
        block = json.loads(line)
        sys.stdout = printed = io.StringIO()
        try:
            code = compile(block['source'], block['name'], 'exec', flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
            result = eval(code, namespace)
            if asyncio.iscoroutine(result):
                await result
            reply = {'ok': True, 'printed': printed.getvalue()}
        except BaseException:
            reply = {'ok': False, 'error': traceback.format_exc()}
        finally:
            sys.stdout = sys.stderr
        channel.write(json.dumps(reply) + '\n')
        channel.flush()

asyncio.run(main())
"""


@dataclass
class Block:
    language: str
    options: list[str]
    source: str
    line: int

    @property
    def file(self) -> str | None:
        return next((option[5:] for option in self.options if option.startswith('file=')), None)


def blocks(page: Path) -> list[Block]:
    text = page.read_text()
    found = []
    for match in FENCE.finditer(text):
        info = match.group(1).split()
        language = info[0] if info else ''
        found.append(Block(language, info[1:], match.group(2), text.count('\n', 0, match.start()) + 1))
    return found


def shows(sample: str, printed: str) -> bool:
    """Whether a sample output matches what was printed: line for line, ``...`` standing for any text."""
    pattern = '.*?'.join(re.escape(part) for part in sample.rstrip().split('...'))
    return re.fullmatch(pattern, printed.rstrip(), re.DOTALL) is not None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        return probe.getsockname()[1]


def page_env() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in INHERITED}
    env['PATH'] = f'{BIN}{os.pathsep}{env.get("PATH", "")}'
    env['PANTHER_LIKE_FAST_PASSWORD_HASH'] = '1'
    env['PYTHONUNBUFFERED'] = '1'
    # A page's `pytest` loads only pytest-asyncio, not every plugin installed in this virtualenv
    # (hypothesis and friends take seconds to import); the page's tests need nothing else.
    env['PYTEST_DISABLE_PLUGIN_AUTOLOAD'] = '1'
    env['PYTEST_PLUGINS'] = 'pytest_asyncio.plugin'
    return env


class PageRun:
    """Runs one page's blocks in order in `directory`; `close` stops what the page started."""

    def __init__(self, page: Path, directory: Path) -> None:
        self.page = page
        self.directory = directory
        self.port = free_port()
        self.env = page_env()
        self.python: subprocess.Popen[str] | None = None
        self.background: list[subprocess.Popen[bytes]] = []

    def where(self, block: Block) -> str:
        return f'{self.page.name}:{block.line}'

    def run(self, block: Block, printed_before: str = '') -> str:
        """Run `block`; what a Python block printed, which a ``text`` block right after it must show."""
        if block.language == 'text' and printed_before:
            assert shows(block.source, printed_before), (
                f'{self.where(block)}: the sample output is not what the block above printed:\n{printed_before}'
            )
        if block.file:
            self.write(block)
        elif block.language == 'python':
            return self.exec_python(block)
        elif block.language == 'bash' and 'background' in block.options:
            self.start_background(block)
        elif block.language == 'bash':
            self.run_bash(block)
        return ''

    def write(self, block: Block) -> None:
        target = self.directory / block.file
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(block.source)
        if block.language == 'python':
            compile(block.source, self.where(block), 'exec')

    def shell_source(self, block: Block) -> str:
        return block.source.replace('8000', str(self.port))

    def run_bash(self, block: Block) -> None:
        result = subprocess.run(
            ['bash', '-euo', 'pipefail', '-c', self.shell_source(block)],
            cwd=self.directory,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=90,
            check=False,
        )
        assert result.returncode == 0, (
            f'{self.where(block)} exited {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}'
        )

    def start_background(self, block: Block) -> None:
        log = open(self.directory / f'background-{block.line}.log', 'wb')  # noqa: SIM115 - kept for the server's life
        process = subprocess.Popen(
            ['bash', '-c', self.shell_source(block)],
            cwd=self.directory,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.background.append(process)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert process.poll() is None, f'{self.where(block)} exited:\n{self.log_of(block)}'
            with socket.socket() as probe:
                if probe.connect_ex(('127.0.0.1', self.port)) == 0:
                    return
            time.sleep(0.05)
        raise AssertionError(f'{self.where(block)}: nothing listens on port {self.port}:\n{self.log_of(block)}')

    def log_of(self, block: Block) -> str:
        return (self.directory / f'background-{block.line}.log').read_text(errors='replace')

    def exec_python(self, block: Block) -> str:
        if self.python is None:
            self.python = subprocess.Popen(
                [sys.executable, '-c', RUNNER],
                cwd=self.directory,
                env=self.env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
        assert self.python.stdin is not None and self.python.stdout is not None
        self.python.stdin.write(json.dumps({'source': block.source, 'name': self.where(block)}) + '\n')
        self.python.stdin.flush()
        reply = self.python.stdout.readline()
        assert reply, f'{self.where(block)}: the Python process died'
        outcome = json.loads(reply)
        assert outcome['ok'], f'{self.where(block)} failed:\n{outcome["error"]}'
        return str(outcome['printed'])

    def close(self) -> None:
        if self.python is not None:
            self.python.stdin.close()  # type: ignore[union-attr]
            self.python.wait(timeout=30)
        for process in self.background:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)  # its own session: only what this page started
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait(timeout=10)


def prepare(page: Path, directory: Path) -> None:
    if '<!-- docs-test: example-project -->' in page.read_text():
        for name in ('configs', 'core', 'example_app'):
            shutil.copytree(REPO / name, directory / name, ignore=shutil.ignore_patterns('__pycache__', 'tests'))
        (directory / '.env').write_text(
            f'SECRET_KEY=docs-test-secret-0123456789-abcdefghij\nDB_PATH={directory / "store.sqlite3"}\n'
        )


PAGES = sorted(DOCS.glob('*.md'))


@pytest.mark.server
@pytest.mark.parametrize('page', PAGES, ids=[page.name for page in PAGES])
def test_every_code_block_of_the_page_runs(page, tmp_path):
    prepare(page, tmp_path)
    run = PageRun(page, tmp_path)
    try:
        printed = ''
        for block in blocks(page):
            printed = run.run(block, printed)
    finally:
        run.close()


@pytest.mark.parametrize('page', PAGES, ids=[page.name for page in PAGES])
def test_every_code_block_says_how_it_runs(page):
    for block in blocks(page):
        assert block.language in KNOWN_LANGUAGES, f'{page.name}:{block.line}: fence {block.language!r}'
        if block.language == 'ini':
            assert block.file, f'{page.name}:{block.line}: an ini block must name its file='


def test_illustrative_blocks_stay_few():
    every = [block for page in PAGES for block in blocks(page)]
    illustrative = [block for block in every if block.language == 'text']
    assert len(illustrative) * 3 <= len(every)


def test_readme_links_every_docs_page():
    readme = (REPO / 'README.md').read_text()
    for page in PAGES:
        assert f'docs/{page.name}' in readme, page.name


USER_DOCUMENTS = [REPO / 'README.md', *PAGES]
LINK = re.compile(r'\]\(([^)\s]+)\)')


def prose(page: Path) -> str:
    """The page without its code blocks, where a link is only text."""
    return FENCE.sub('', page.read_text())


@pytest.mark.parametrize('page', USER_DOCUMENTS, ids=[page.name for page in USER_DOCUMENTS])
def test_relative_links_point_to_files_that_exist(page):
    links = [link.partition('#')[0] for link in LINK.findall(prose(page)) if '://' not in link]
    assert not [link for link in links if link and not (page.parent / link).exists()]


@pytest.mark.parametrize('page', USER_DOCUMENTS, ids=[page.name for page in USER_DOCUMENTS])
def test_documents_speak_to_users_not_about_how_the_project_is_made(page):
    """Users have no specification, no development notes: the pages say what the framework does and why."""
    assert not re.findall(r'\bSPEC\b|NOTES\.md', page.read_text())


@pytest.mark.parametrize('page', USER_DOCUMENTS, ids=[page.name for page in USER_DOCUMENTS])
def test_check_password_is_shown_only_where_the_page_says_it_blocks(page):
    """In a handler a password is checked with ``await user.verify_password``: ``check_password`` blocks the loop.

    A page may name ``check_password`` only in a paragraph that says so; never in a code example.
    """
    for block in blocks(page):
        assert 'check_password' not in block.source, f'{page.name}:{block.line}: use await user.verify_password'
    for paragraph in prose(page).split('\n\n'):
        if 'check_password' in paragraph:
            assert 'block' in paragraph, f'{page.name}: {paragraph[:80]!r} names check_password without why'


def test_quickstart_walks_a_newcomer_through_every_step():
    """The quick start is the newcomer walkthrough: its run above covers each step, so none may vanish."""
    page = (DOCS / 'quickstart.md').read_text()
    for step in (
        'panther-like check',
        'panther-like createuser',
        'panther-like token ann',
        'panther-like run',
        'Authorization: Bearer $TOKEN',
        "pytest_plugins = ['panther_like.testing.pytest_plugin']",
        'await client.login_as(user)',
        'pytest -q tests',
    ):
        assert step in page, step


# Settings whose authors are still writing them; their documentation comes with them.


def test_settings_reference_lists_every_setting():
    from panther_like.settings.config import KNOWN_SETTINGS

    reference = (DOCS / 'settings.md').read_text()
    missing = [name for name in KNOWN_SETTINGS if f'| `{name}` |' not in reference]
    assert not missing


def test_settings_reference_lists_every_jwt_key():
    from panther_like.settings.config import JWT_KEYS

    reference = (DOCS / 'settings.md').read_text()
    assert not [key for key in JWT_KEYS if f'| `{key}` |' not in reference]


IMPORT_LINE = re.compile(r'^[ \t]*from (panther_like[\w.]*) import (\([^)]*\)|[^\n#]+)', re.MULTILINE)


def _documented_imports() -> list[tuple[str, str, str]]:
    """(page, module, name) for every ``from panther_like... import name`` in a code block of docs/ or the README."""
    found = []
    for page in [*PAGES, REPO / 'README.md']:
        for _, body in FENCE.findall(page.read_text()):
            for module, names in IMPORT_LINE.findall(body):
                for name in names.strip('()').replace('\n', ' ').split(','):
                    name = name.split(' as ')[0].strip()
                    if name:
                        found.append((page.name, module, name))
    return found


@pytest.mark.parametrize(
    ('page', 'module', 'name'),
    [pytest.param(*row, id=f'{row[0]}:{row[1]}.{row[2]}') for row in sorted(set(_documented_imports()))],
)
def test_every_import_line_of_the_docs_imports(page, module, name):
    import importlib.util

    imported = importlib.import_module(module)
    assert hasattr(imported, name) or importlib.util.find_spec(f'{module}.{name}') is not None, (
        f'{page}: from {module} import {name} fails'
    )


def test_throttle_is_importable_from_the_package_like_api():
    import panther_like
    from panther_like.throttle import Throttle

    assert panther_like.Throttle is Throttle
    assert 'Throttle' in panther_like.__all__


def test_the_readmes_first_command_writes_a_secret_key_the_app_accepts(tmp_path):
    """A fresh clone has no .env: the README's first command writes one from .env.example with a random key."""
    from panther_like.settings import config as config_module
    from tests.settings import settings_module

    first = FENCE.search((REPO / 'README.md').read_text()).group(2)
    writes_env = re.search(r'\{ \[ -f \.env \] \|\| (.*?); \}', first).group(1)
    shutil.copy(REPO / '.env.example', tmp_path / '.env.example')
    subprocess.run(['bash', '-euo', 'pipefail', '-c', writes_env], cwd=tmp_path, check=True, timeout=30)
    lines = (tmp_path / '.env').read_text().splitlines()
    key = next(line for line in lines if line.startswith('SECRET_KEY=')).split('=', 1)[1]
    assert config_module.load(settings_module(SECRET_KEY=key)).secret_key == key


#: What each optional extra of pyproject.toml brings, by the top-level module the framework imports.
EXTRA_MODULES = {
    'mfa': ('pyotp', 'segno'),
    'passkeys': ('webauthn',),
    'oidc': ('authlib', 'httpx'),
    'granian': ('granian',),
}


def test_the_readmes_first_command_installs_the_versions_the_suite_is_tested_with():
    first = FENCE.search((REPO / 'README.md').read_text()).group(2)
    assert re.search(r"pip install -q -e '[^']*' -c constraints\.txt ", first), first


def test_the_readmes_first_command_installs_every_extra_the_example_app_needs(tmp_path):
    """The example serves from a plain install plus the extras the first command names, and nothing else.

    The other extras' modules are hidden from a fresh interpreter (they are installed here for the tests), which
    then builds the example app as uvicorn would: a module the example imports without its extra fails the test.
    """
    first = FENCE.search((REPO / 'README.md').read_text()).group(2)
    installed = re.search(r"pip install -q -e '?\.(?:\[([a-z,]+)\])?'?", first)
    assert installed is not None, first
    extras = set((installed.group(1) or '').split(',')) - {''}
    hidden = sorted(module for extra, modules in EXTRA_MODULES.items() if extra not in extras for module in modules)
    assert set(EXTRA_MODULES) >= extras, extras
    script = (
        'import sys\n'
        f'for name in {hidden!r}:\n'
        '    sys.modules[name] = None  # import fails as if the package were not installed\n'
        'from example_app.main import app  # the app is built here, settings and routes imported\n'
        'print("built")\n'
    )
    env = {**os.environ, 'SECRET_KEY': 'readme-extras-' + 'k' * 40, 'DB_PATH': str(tmp_path / 'example.sqlite3')}
    done = subprocess.run(
        [sys.executable, '-c', script], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0 and 'built' in done.stdout, done.stderr[-3000:]
