"""``panther-like run``: a one-screen start-up summary, then uvicorn, with a graceful drain on SIGTERM.

``--server granian`` serves the same app with granian instead (the optional extra ``granian``):
measured on one pinned worker it answers about 1.7 to 1.9 times the requests per CPU-second of
uvicorn (bench/RESULTS.md). uvicorn stays the default: its HTTP protocol carries the request limits
of `panther_like.cli.limits`, of which granian takes the header timeout, the head size and the
concurrency limit (as its backpressure); the body timeout and the count of headers are uvicorn's only.
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import importlib.util
import os
import socket
from pathlib import Path
from typing import TYPE_CHECKING, Any

from panther_like.exceptions import StoreUnavailableError

if TYPE_CHECKING:
    from panther_like.app import Panther
    from panther_like.http.asgi import ASGIApp

from panther_like.cli.common import CommandError, _project_on_path, load_app
from panther_like.cli.describe import summary
from panther_like.cli.limits import LIMITS_ENV_VAR, PROTOCOL, ServerLimits

SERVED_APP = 'panther_like.cli.serve:served_app'
# What `run` tells its workers (each builds or imports its own app): the APP argument and the drain delay.
APP_ENV_VAR = 'PANTHER_LIKE_APP'
DRAIN_ENV_VAR = 'PANTHER_LIKE_DRAIN_SECONDS'
#: Per worker: beyond it new requests get 503 instead of memory and file descriptors running out.
DEFAULT_LIMIT_CONCURRENCY = 1000
DEFAULT_TIMEOUT_KEEP_ALIVE = 5.0  # uvicorn's
#: What ``--server`` accepts; the first is the default.
SERVERS = ('uvicorn', 'granian')
GRANIAN_MISSING = (
    "--server granian needs the optional extra 'granian': pip install 'panther-like[granian]' (or use uvicorn)"
)


def served_app() -> Panther | ASGIApp:
    """What each worker of ``panther-like run`` serves (a uvicorn factory): its APP, with the drain delay set."""
    from panther_like.app import Panther

    app = load_app(os.environ.get(APP_ENV_VAR))
    if isinstance(app, Panther):
        app.drain.seconds = float(os.environ.get(DRAIN_ENV_VAR) or 0)
    return app


async def probe_stores(app: Panther) -> list[str]:
    """One line per store that does not answer now; the app still starts (requests get 503)."""
    problems = []
    try:
        await app.database.connect()
        await app.database.ping()
    except StoreUnavailableError as exc:
        problems.append(exc.detail)
    try:
        await app.revocations.is_revoked('panther-like:probe')
    except StoreUnavailableError as exc:
        problems.append(exc.detail)
    finally:
        await app.shutdown()
    return problems


def port_problem(host: str, port: int) -> str | None:
    """Why uvicorn could not listen on host:port, checked first so the user gets one line, not a log."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        return f'cannot listen on {host}:{port} ({exc.strerror}); check --host'
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return (
                    f'port {port} on {host} is already in use (another server is running there); '
                    f'stop it or choose another port with --port'
                )
            return f'cannot listen on {host}:{port} ({exc.strerror}); choose another --host or --port'
    return None


def server_limits(args: argparse.Namespace) -> ServerLimits:
    """The --max-header-bytes, --max-headers, --header-timeout and --body-timeout options, checked."""
    if args.max_header_bytes < 1024 or args.max_headers < 8:
        raise CommandError('--max-header-bytes must be at least 1024 and --max-headers at least 8')
    if min(args.header_timeout, args.body_timeout, args.timeout_keep_alive) < 0 or args.limit_concurrency < 0:
        raise CommandError(
            '--header-timeout, --body-timeout, --timeout-keep-alive and --limit-concurrency must be >= 0'
        )
    return ServerLimits(
        max_head_bytes=args.max_header_bytes,
        max_headers=args.max_headers,
        head_timeout=args.header_timeout,
        body_timeout=args.body_timeout,
    )


def cmd_run(args: argparse.Namespace) -> int:
    from panther_like.app import Panther

    server = getattr(args, 'server', 'uvicorn')
    if server == 'granian' and importlib.util.find_spec('granian') is None:
        raise CommandError(GRANIAN_MISSING)
    if args.drain_seconds < 0 or (args.graceful_timeout is not None and args.graceful_timeout < 0):
        raise CommandError('--drain-seconds and --graceful-timeout must be numbers of seconds >= 0')
    limits = server_limits(args)
    os.environ[LIMITS_ENV_VAR] = limits.to_env()  # read by every worker's HTTP protocol
    if args.configs:
        os.environ['PANTHER_LIKE_CONFIGS'] = args.configs  # read again by every worker
    os.environ[APP_ENV_VAR] = args.app or ''
    os.environ[DRAIN_ENV_VAR] = str(args.drain_seconds)
    _project_on_path()
    app = load_app(args.app, args.configs)
    problem = port_problem(args.host, args.port)
    if problem:
        raise CommandError(problem)
    proxies: dict[str, Any] = {}
    if isinstance(app, Panther):
        problems = asyncio.run(probe_stores(app))
        print(
            summary(
                app,
                target=args.app or f'the app of {app.config.module_name!r}',
                url=f'http://{args.host}:{args.port}',
                workers=args.workers or 1,
                problems=problems,
            ),
            flush=True,
        )
        # uvicorn's own proxy-header handling trusts 127.0.0.1 and ::1 unless told otherwise, and a
        # client it has rewritten cannot be undone by the app: give it TRUSTED_PROXIES, or nothing.
        trusted = app.config.trusted_proxies
        proxies = {'proxy_headers': bool(trusted), 'forwarded_allow_ips': trusted.uvicorn_value() or None}
    if server == 'granian':
        return run_granian(args, limits)
    import uvicorn

    uvicorn.run(
        SERVED_APP,
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        reload=args.reload,
        log_level=args.log_level,
        app_dir=os.getcwd(),
        # uvicorn's default websocket implementations never answer a handshake whose request line
        # exceeds 8 KiB and keep the connection open; wsproto answers it (tests/security).
        ws='wsproto',
        timeout_graceful_shutdown=args.graceful_timeout,
        **proxies,
        # The request limits uvicorn lacks (panther_like.cli.limits), and its own connection limits.
        http=PROTOCOL if importlib.util.find_spec('httptools') else 'h11',
        limit_concurrency=args.limit_concurrency or None,
        timeout_keep_alive=args.timeout_keep_alive,
        h11_max_incomplete_event_size=limits.max_head_bytes,
    )
    return 0


def run_granian(args: argparse.Namespace, limits: ServerLimits) -> int:
    """The same factory under granian, with the limits it can take (see the module docstring).

    granian never rewrites the client address from proxy headers, so TRUSTED_PROXIES is the app's alone.
    """
    from granian import Granian
    from granian.constants import Interfaces, Loops
    from granian.http import HTTP1Settings
    from granian.log import LogLevels

    Granian(
        SERVED_APP,
        factory=True,
        address=args.host,
        port=args.port,
        interface=Interfaces.ASGI,
        workers=args.workers or 1,
        reload=args.reload,
        log_level=LogLevels(args.log_level),
        working_dir=Path(os.getcwd()),
        loop=Loops.uvloop if importlib.util.find_spec('uvloop') else Loops.asyncio,
        backpressure=args.limit_concurrency or None,
        http1_settings=HTTP1Settings(
            header_read_timeout=max(1, int(limits.head_timeout * 1000)),
            keep_alive=args.timeout_keep_alive > 0,
            max_buffer_size=max(limits.max_head_bytes, 8192),  # the least its HTTP/1 parser accepts
        ),
        workers_kill_timeout=int(args.graceful_timeout) if args.graceful_timeout else None,
    ).serve()
    return 0
