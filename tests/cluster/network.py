"""Network namespaces joined by veth pairs and a bridge, and the processes that run inside them.

Everything is named with one prefix chosen per test session, so that
nothing here can touch another run's (or anyone else's) namespaces, and
`Network.destroy` removes every namespace it made, which removes their
links too.

Layout: a ``switch`` namespace holds the bridge; every host namespace has
one veth pair to it (``eth0`` inside the host) on a private /24. The edge
host also has an uplink: a veth pair to the namespace the tests run in,
on a private /30, which is the only way in from outside: the edge does
not forward packets, so a client can reach HAProxy and nothing else. A
route for the whole private /16 through the uplink keeps any stray packet
for a host address on this machine rather than on the default route.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

STOP_TIMEOUT = 15.0


class NetworkError(RuntimeError):
    """An ``ip`` command failed; the message carries its stderr."""


def ip(*args: str) -> str:
    result = subprocess.run(['ip', *args], capture_output=True, text=True, timeout=15)
    if result.returncode != 0:
        raise NetworkError(f'ip {" ".join(args)}: {result.stderr.strip() or result.stdout.strip()}')
    return result.stdout


def free_private_block() -> int:
    """A second octet N such that no route of this namespace mentions 10.N.0.0/16."""
    routes = ip('-4', 'route', 'show', 'table', 'all')
    for octet in range(213, 250):
        if f'10.{octet}.' not in routes:
            return octet
    raise NetworkError('no free 10.N.0.0/16 block for the cluster network')


@dataclass
class Network:
    """Host namespaces on one bridge; `addresses` maps host name -> address on the /24."""

    prefix: str
    octet: int
    namespaces: list[str] = field(default_factory=list)
    uplink: str | None = None

    @property
    def switch(self) -> str:
        return f'{self.prefix}-switch'

    def ns(self, host: str) -> str:
        return f'{self.prefix}-{host}'

    def address(self, last: int) -> str:
        return f'10.{self.octet}.1.{last}'

    @property
    def client_address(self) -> str:
        return f'10.{self.octet}.0.1'

    @property
    def edge_public_address(self) -> str:
        return f'10.{self.octet}.0.2'

    def _add_namespace(self, name: str) -> None:
        ip('netns', 'add', name)
        self.namespaces.append(name)
        ip('-n', name, 'link', 'set', 'lo', 'up')

    def build(self, hosts: Mapping[str, int], *, edge: str) -> None:
        """One namespace per host (name -> last octet), all on the bridge; `edge` also gets the uplink."""
        self._add_namespace(self.switch)
        ip('-n', self.switch, 'link', 'add', 'br0', 'type', 'bridge')
        ip('-n', self.switch, 'link', 'set', 'br0', 'up')
        for host, last in hosts.items():
            name = self.ns(host)
            self._add_namespace(name)
            port = f'v-{host}'
            ip('-n', self.switch, 'link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', name)
            ip('-n', self.switch, 'link', 'set', port, 'master', 'br0', 'up')
            ip('-n', name, 'addr', 'add', f'{self.address(last)}/24', 'dev', 'eth0')
            ip('-n', name, 'link', 'set', 'eth0', 'up')
        edge_ns = self.ns(edge)
        self.uplink = f'{self.prefix}-up'
        ip('link', 'add', self.uplink, 'type', 'veth', 'peer', 'name', 'up0', 'netns', edge_ns)
        ip('addr', 'add', f'{self.client_address}/30', 'dev', self.uplink)
        ip('link', 'set', self.uplink, 'up')
        ip('route', 'add', f'10.{self.octet}.0.0/16', 'via', self.edge_public_address, 'dev', self.uplink)
        ip('-n', edge_ns, 'addr', 'add', f'{self.edge_public_address}/30', 'dev', 'up0')
        ip('-n', edge_ns, 'link', 'set', 'up0', 'up')
        subprocess.run(
            ['ip', 'netns', 'exec', edge_ns, 'sh', '-c', 'echo 0 > /proc/sys/net/ipv4/ip_forward'],
            check=True,
            timeout=15,
        )

    def destroy(self) -> list[str]:
        """Delete every namespace made here (their links go with them); returns what could not be removed."""
        problems = []
        if self.uplink:
            with contextlib.suppress(NetworkError):
                ip('link', 'del', self.uplink)
        for name in reversed(self.namespaces):
            try:
                ip('netns', 'del', name)
            except NetworkError as exc:
                problems.append(str(exc))
        self.namespaces.clear()
        return problems


@dataclass
class HostProcess:
    """A process started with ``ip netns exec`` in its own session, known by PID (its group is its own)."""

    name: str
    namespace: str
    argv: list[str]
    log_file: Path
    cwd: Path | None = None
    env: dict[str, str] | None = None
    process: subprocess.Popen | None = None

    def start(self) -> None:
        with open(self.log_file, 'ab') as log:
            # `ip netns exec` execs the command: the PID is the command's own.
            self.process = subprocess.Popen(
                ['ip', 'netns', 'exec', self.namespace, *self.argv],
                cwd=self.cwd,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )

    @property
    def pid(self) -> int:
        assert self.process is not None, f'{self.name} was never started'
        return self.process.pid

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def send(self, signum: int) -> None:
        if self.running():
            os.kill(self.pid, signum)

    def kill_group(self) -> None:
        """SIGKILL to the process and everything it started (its own process group), as a power cut would;
        returns once every one of them is gone.

        Not only the process itself: the kernel tears the group's processes (and their threads) down one by
        one, and a worker that outlives its reaped supervisor still holds the listening socket, so the host
        still accepts connections (measured: up to 25 ms on an idle machine).
        """
        if self.process is not None:
            members = group_members(self.pid)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signal.SIGKILL)
            self.process.wait(timeout=STOP_TIMEOUT)
            deadline = time.monotonic() + STOP_TIMEOUT
            while any(_running(pid) for pid in members):
                if time.monotonic() > deadline:
                    raise TimeoutError(f'{self.name}: processes {sorted(members)} outlived SIGKILL')
                time.sleep(0.001)

    def wait(self, timeout: float) -> bool:
        """True if the process exited within `timeout` seconds."""
        if self.process is None:
            return True
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return False
        return True

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """SIGTERM, then SIGKILL to its group if it has not exited in time; the group's leftovers too."""
        if self.process is None:
            return
        self.send(signal.SIGTERM)
        if not self.wait(timeout):
            self.kill_group()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)  # workers a supervisor left behind, if any

    def log(self, last: int = 4000) -> str:
        try:
            return self.log_file.read_text(errors='replace')[-last:]
        except OSError:
            return '(no log)'


def _stat(path: str) -> list[str] | None:
    """The fields of a /proc/.../stat file after the command name (state, ppid, pgrp, ...), or None if gone."""
    try:
        with open(path) as stat:
            return stat.read().rsplit(')', 1)[1].split()
    except OSError:
        return None


def _running(pid: int) -> bool:
    """Whether any thread of process `pid` is still running (not gone, not a zombie).

    Not just the process's own state: its first thread shows as a zombie as soon as it has exited itself, while
    another thread may still be tearing the process down, and the files (the listening socket too) are closed
    only when the last thread has exited (measured under load: up to 25 ms later).
    """
    try:
        threads = os.listdir(f'/proc/{pid}/task')
    except OSError:
        return False
    for thread in threads:
        fields = _stat(f'/proc/{pid}/task/{thread}/stat')
        if fields is not None and fields[0] not in ('Z', 'X'):
            return True
    return False


def group_members(pgid: int) -> set[int]:
    """The running processes of process group `pgid`."""
    found = set()
    for entry in os.listdir('/proc'):
        if entry.isdigit():
            fields = _stat(f'/proc/{entry}/stat')
            if fields is not None and fields[0] not in ('Z', 'X') and int(fields[2]) == pgid:
                found.add(int(entry))
    return found


def wait_until(predicate, timeout: float, interval: float = 0.05, what: str = 'condition') -> float:
    """Poll `predicate` until true; the seconds it took. Raises TimeoutError naming `what`."""
    started = time.monotonic()
    deadline = started + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            if predicate():
                return time.monotonic() - started
        time.sleep(interval)
    raise TimeoutError(f'{what} did not happen within {timeout:.0f} s')
