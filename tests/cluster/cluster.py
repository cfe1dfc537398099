"""The cluster: three app hosts, three store hosts with MongoDB-wire, Redis and Sentinel, and an HAProxy edge.

::

    test process --uplink-- edge (HAProxy :8080)
                              |
                 bridge ------+------+--------+---------+---------+
                   |          |      |        |         |         |
                  app1       app2   app3    store1    store2    store3
     panther-like run --workers 2 (x3)     nx-27017  replica   replica
                                           primary   sentinel  sentinel
                                           sentinel

Every process is started here, by PID, in its own session; `close` stops
them all and deletes the namespaces. The tests reach the app only through
HAProxy's public address; they watch the servers through files and Unix
sockets (HAProxy's admin socket, each Redis's socket), which no network
namespace hides, and read MongoDB from inside the store host.
"""

from __future__ import annotations

import csv
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import redis

from tests.cluster.network import HostProcess, Network, free_private_block, wait_until
from tests.e2e.server import ENV_SETTINGS, PROJECT_DIRS, REPO, random_secret
from tests.servers import child_pids, find_binary

APP_HOSTS = ('app1', 'app2', 'app3')
STORE_HOSTS = ('store1', 'store2', 'store3')
HOST_OCTETS = {'edge': 2, 'app1': 11, 'app2': 12, 'app3': 13, 'store1': 21, 'store2': 22, 'store3': 23}
APP_PORT, HAPROXY_PORT, MONGO_PORT, REDIS_PORT, SENTINEL_PORT = 8000, 8080, 27017, 6379, 26379
SERVICE = 'mymaster'
#: Seconds a host keeps answering after SIGTERM while its readiness says 503 (`panther-like run --drain-seconds`).
DRAIN_SECONDS = 2.0
#: HAProxy checks readiness every CHECK_MS; FALL failures take a host out, RISE successes bring it back.
CHECK_MS, FALL, RISE = 250, 2, 2
START_TIMEOUT = 90.0
PROBE = Path(__file__).with_name('probe.py')
REQUEST_LOG_LINE = re.compile(r'rid=(\S+) srv=(\S+) status=(\S+) term=(\S+)')

HAPROXY_CONFIG = """\
global
    maxconn 4096
    stats socket {admin} mode 600 level admin
    log stdout format raw local0 info
defaults
    mode http
    log global
    timeout connect 1s
    timeout client 30s
    timeout server 30s
    timeout check 2s
    # A connection refused by a dead host is retried on another; a request already sent is never replayed.
    # A new connection to the host for every request (the client's stays open): an idle one reused after
    # its host died would fail the request once sent, too late for a retry.
    retries 2
    option redispatch 1
    option http-server-close
frontend public
    bind {public}:{port}
    option forwardfor
    # One line per request: the client's X-Request-Id, the host HAProxy sent it to, and how it ended.
    http-request capture req.hdr(x-request-id) len 64
    log-format "rid=%[capture.req.hdr(0)] srv=%s status=%ST term=%tsc"
    default_backend apps
backend apps
    balance roundrobin
    option httpchk GET /ready
    http-check expect status 200
    default-server inter {check_ms} fall {fall} rise {rise}
    # Which host answered, for the tests; X-Target pins a request to a host while that host is up.
    http-after-response set-header X-Served-By %[srv_name]
{pins}
{servers}
"""

REDIS_CONFIG = """\
bind {address}
port {port}
unixsocket {dir}/redis.sock
unixsocketperm 700
protected-mode no
dir {dir}
save ""
appendonly yes
appendfsync everysec
# A replica that (re)joins gets its copy at once, not after the default 5 s wait for other replicas.
repl-diskless-sync-delay 0
# The primary refuses writes unless a replica follows it closely (no acknowledged write stays on it alone),
min-replicas-to-write 1
min-replicas-max-lag 10
{replica_of}
"""
# ... and the app acknowledges a revocation only after WAIT 1 (REDIS['wait_replicas']).

SENTINEL_CONFIG = """\
bind {address}
port {port}
unixsocket {dir}/sentinel.sock
unixsocketperm 700
protected-mode no
dir {dir}
sentinel monitor {service} {primary} {redis_port} 2
sentinel down-after-milliseconds {service} 1000
sentinel failover-timeout {service} 10000
sentinel parallel-syncs {service} 1
"""


@dataclass
class Cluster:
    workdir: Path

    def __post_init__(self) -> None:
        self.prefix = 'plc' + secrets.token_hex(3)
        self.network = Network(self.prefix, free_private_block())
        self.processes: dict[str, HostProcess] = {}
        self.project = self.workdir / 'project'
        self.secret_key = random_secret()

    # -- addresses --------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """Where clients go: HAProxy's public address, the only one they can reach."""
        return f'http://{self.network.edge_public_address}:{HAPROXY_PORT}'

    def address(self, host: str) -> str:
        return self.network.address(HOST_OCTETS[host])

    @property
    def mongodb_url(self) -> str:
        return f'mongodb://{self.address("store1")}:{MONGO_PORT}/cluster'

    # -- building and tearing down ----------------------------------------------------------

    def start(self) -> None:
        self.network.build(HOST_OCTETS, edge='edge')
        for store in STORE_HOSTS:
            (self.workdir / store).mkdir()
        self._start_mongo()
        self._start_redis('store1', primary=True)
        for store in STORE_HOSTS[1:]:
            self._start_redis(store, primary=False)
        wait_until(self._replicas_online, START_TIMEOUT, what='both Redis replicas in sync with the primary')
        for store in STORE_HOSTS:
            self._start_sentinel(store)
        wait_until(self._sentinels_agree, START_TIMEOUT, what='three sentinels seeing the primary and both replicas')
        self._write_project()
        for host in APP_HOSTS:
            self.start_app_host(host)
        self._start_haproxy()
        self.wait_pool(set(APP_HOSTS), START_TIMEOUT)

    def close(self) -> list[str]:
        for process in reversed(list(self.processes.values())):
            process.stop()
        return self.network.destroy()

    def _spawn(self, name: str, host: str, argv: list[str], **options) -> HostProcess:
        process = HostProcess(name, self.network.ns(host), argv, self.workdir / f'{name}.log', **options)
        self.processes[name] = process
        process.start()
        return process

    def _start_mongo(self) -> None:
        directory = self.workdir / 'store1' / 'mongo'
        directory.mkdir(exist_ok=True)
        self._spawn(
            'mongo',
            'store1',
            [
                find_binary('nx-27017'),
                '--host',
                self.address('store1'),
                '-p',
                str(MONGO_PORT),
                '--data-dir',
                str(directory / 'data'),
                '--pid-file',
                str(directory / 'nx.pid'),
                '--log-file',
                str(directory / 'nx.log'),
            ],
        )
        wait_until(
            lambda: self.in_host('store1', 'port-open', self.address('store1'), str(MONGO_PORT)) == 'open',
            START_TIMEOUT,
            what='nx-27017 accepting connections',
        )

    def start_mongo(self) -> None:
        self._start_mongo()

    def _start_redis(self, host: str, *, primary: bool) -> None:
        directory = self.workdir / host / 'redis'
        directory.mkdir(exist_ok=True)
        conf = directory / 'redis.conf'
        if not conf.exists():  # a restarted server keeps the configuration Sentinel may have rewritten
            conf.write_text(
                REDIS_CONFIG.format(
                    address=self.address(host),
                    port=REDIS_PORT,
                    dir=directory,
                    replica_of='' if primary else f'replicaof {self.address("store1")} {REDIS_PORT}',
                )
            )
        self._spawn(f'redis-{host}', host, [find_binary('redis-server'), str(conf)])
        wait_until(lambda: self.redis(host).ping(), START_TIMEOUT, what=f'Redis on {host} answering')

    def restart_redis(self, host: str) -> None:
        self._start_redis(host, primary=False)

    def _start_sentinel(self, host: str) -> None:
        directory = self.workdir / host / 'sentinel'
        directory.mkdir()
        conf = directory / 'sentinel.conf'
        conf.write_text(
            SENTINEL_CONFIG.format(
                address=self.address(host),
                port=SENTINEL_PORT,
                dir=directory,
                service=SERVICE,
                primary=self.address('store1'),
                redis_port=REDIS_PORT,
            )
        )
        self._spawn(f'sentinel-{host}', host, [find_binary('redis-server'), str(conf), '--sentinel'])

    def _replicas_online(self) -> bool:
        replication = self.redis('store1').info('replication')
        replicas = [replication.get(f'slave{number}', {}) for number in range(replication['connected_slaves'])]
        return len(replicas) == 2 and all(replica.get('state') == 'online' for replica in replicas)

    def _sentinels_agree(self) -> bool:
        for host in STORE_HOSTS:
            state = self.sentinel(host).sentinel_master(SERVICE)
            if state['num-slaves'] != 2 or state['num-other-sentinels'] != 2:
                return False
        return True

    def _write_project(self) -> None:
        for directory in PROJECT_DIRS:
            shutil.copytree(
                REPO / directory, self.project / directory, ignore=shutil.ignore_patterns('__pycache__', '*.pyc')
            )
        sentinels = ','.join(f'{self.address(host)}:{SENTINEL_PORT}' for host in STORE_HOSTS)
        values = {
            'SECRET_KEY': self.secret_key,
            'MONGODB_URL': self.mongodb_url,
            'DB_PATH': '',
            'REDIS_URL': '',
            'REDIS_SENTINELS': sentinels,
            'REDIS_SERVICE': SERVICE,
            'REDIS_WAIT_REPLICAS': '1',
            'STORE_ROUND_TRIPS_HEADER': 'true',
            # HAProxy's X-Forwarded-For names the client (the login throttle counts by it) where the
            # settings read TRUSTED_PROXIES.
            'TRUSTED_PROXIES': self.address('edge'),
        }
        (self.project / '.env').write_text(''.join(f'{key}={value}\n' for key, value in values.items()))
        # The framework never reads PANTHER_LIKE_FAST_PASSWORD_HASH: the copied settings ask for cheap hashes
        # (in every worker of `panther-like run`, which imports them), as a test project's own settings would.
        settings = self.project / 'configs' / '__init__.py'
        ask = 'from panther_like.testing.pytest_plugin import use_fast_hashes_if_asked\n\nuse_fast_hashes_if_asked()\n'
        settings.write_text(settings.read_text() + '\n' + ask)

    def start_app_host(self, host: str) -> HostProcess:
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in ENV_SETTINGS and key not in ('PYTHONPATH', 'PANTHER_LIKE_CONFIGS')
        }
        env.update(PANTHER_LIKE_FAST_PASSWORD_HASH='1', PYTHONUNBUFFERED='1')
        return self._spawn(
            host,
            host,
            [
                find_binary('panther-like'),
                'run',
                '--host',
                self.address(host),
                '--port',
                str(APP_PORT),
                '--workers',
                '2',
                '--drain-seconds',
                str(DRAIN_SECONDS),
                '--graceful-timeout',
                '20',
                '--log-level',
                'warning',
            ],
            cwd=self.project,
            env=env,
        )

    def _start_haproxy(self) -> None:
        config = self.workdir / 'haproxy.cfg'
        config.write_text(
            HAPROXY_CONFIG.format(
                admin=self.workdir / 'haproxy.sock',
                public=self.network.edge_public_address,
                port=HAPROXY_PORT,
                check_ms=CHECK_MS,
                fall=FALL,
                rise=RISE,
                pins='\n'.join(f'    use-server {host} if {{ req.hdr(x-target) -m str {host} }}' for host in APP_HOSTS),
                servers='\n'.join(f'    server {host} {self.address(host)}:{APP_PORT} check' for host in APP_HOSTS),
            )
        )
        self._spawn('haproxy', 'edge', [find_binary('haproxy'), '-f', str(config), '-db'])

    # -- watching ---------------------------------------------------------------------------

    def stats(self) -> dict[str, dict[str, str]]:
        """HAProxy's counters per host (``show stat`` on its admin socket, read from this namespace)."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as admin:
            admin.settimeout(2)
            admin.connect(str(self.workdir / 'haproxy.sock'))
            admin.sendall(b'show stat\n')
            chunks = []
            while chunk := admin.recv(65536):
                chunks.append(chunk)
        rows = csv.DictReader(b''.join(chunks).decode().lstrip('# ').splitlines())
        return {row['svname']: row for row in rows if row['svname'] in APP_HOSTS}

    def pool(self) -> dict[str, str]:
        """HAProxy's view: host -> UP / DOWN / ..."""
        return {host: row['status'].split()[0] for host, row in self.stats().items()}

    def errors(self) -> dict[str, dict[str, int]]:
        """Per host: requests HAProxy saw fail there (``eresp``: no valid response; ``srv_abrt``: aborted by the
        host), connections it refused (``econ``), and requests retried or sent to another host instead."""
        names = ('eresp', 'srv_abrt', 'econ', 'wretr', 'wredis')
        return {host: {name: int(row[name] or 0) for name in names} for host, row in self.stats().items()}

    def wait_pool(self, up: set[str], timeout: float) -> float:
        """Wait until exactly the hosts in `up` are in HAProxy's pool; the seconds it took."""
        return wait_until(
            lambda: {host for host, state in self.pool().items() if state == 'UP'} == up,
            timeout,
            what=f'HAProxy pool becoming {sorted(up)}',
        )

    def haproxy_log(self) -> dict[str, tuple[str, str, str]]:
        """X-Request-Id -> (host HAProxy sent it to, status, termination state), from HAProxy's request log."""
        lines = (self.workdir / 'haproxy.log').read_text(errors='replace')
        return {rid: (host, status, term) for rid, host, status, term in REQUEST_LOG_LINE.findall(lines)}

    def redis(self, host: str) -> redis.Redis:
        return redis.Redis(unix_socket_path=str(self.workdir / host / 'redis' / 'redis.sock'), socket_timeout=2)

    def sentinel(self, host: str) -> redis.Redis:
        return redis.Redis(
            unix_socket_path=str(self.workdir / host / 'sentinel' / 'sentinel.sock'),
            socket_timeout=2,
            decode_responses=True,
        )

    def primary_host(self) -> str | None:
        """The store host every sentinel names as primary, or None while they disagree or have none."""
        named = set()
        for host in STORE_HOSTS:
            state = self.sentinel(host).sentinel_master(SERVICE)
            named.add(state['ip'] if state['is_master'] and not state['is_odown'] else None)
        address = named.pop() if len(named) == 1 else None
        return next((host for host in STORE_HOSTS if self.address(host) == address), None)

    def app_processes(self, host: str) -> set[int]:
        """The PIDs of a host's supervisor and its workers."""
        supervisor = self.processes[host].pid
        return {supervisor, *child_pids(supervisor)}

    def in_host(self, host: str, *args: str, stdin: str = '') -> str:
        """Run tests/cluster/probe.py inside a host's namespace; its stdout."""
        result = subprocess.run(
            ['ip', 'netns', 'exec', self.network.ns(host), sys.executable, str(PROBE), *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=60,
        )
        if result.returncode != 0:
            raise RuntimeError(f'probe {args[0]} in {host} failed: {result.stderr[-2000:]}')
        return result.stdout.strip()

    def missing_users(self, usernames: list[str]) -> list[str]:
        """Which of `usernames` the MongoDB-wire server does not hold."""
        return json.loads(self.in_host('store1', 'missing-users', self.mongodb_url, stdin='\n'.join(usernames)))

    def watch_host(self, host: str, seconds: float) -> subprocess.Popen:
        """Probe a host's /health from the edge every 50 ms for `seconds`; JSON lines on stdout."""
        return subprocess.Popen(
            [
                'ip',
                'netns',
                'exec',
                self.network.ns('edge'),
                sys.executable,
                str(PROBE),
                'watch',
                f'http://{self.address(host)}:{APP_PORT}/health',
                str(seconds),
            ],
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )

    def sigterm(self, host: str, *, wait: float = 0.0) -> None:
        """SIGTERM to a host's supervisor, as a process manager stops it; then wait up to `wait` s for its exit."""
        self.processes[host].send(signal.SIGTERM)
        self.processes[host].wait(wait)
