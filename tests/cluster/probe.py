"""Small checks the cluster tests run inside a host's network namespace (``ip netns exec HOST python probe.py``).

- ``port-open ADDRESS PORT``: prints ``open`` or ``closed``.
- ``missing-users MONGODB_URL``: reads usernames from stdin, prints the JSON list of those not in the
  example project's ``User`` collection.
- ``watch URL SECONDS``: GETs URL every 50 ms for SECONDS (each with a 0.3 s timeout) and prints one
  JSON line per try: ``{"t": epoch, "status": code or null}``.
"""

from __future__ import annotations

import http.client
import json
import socket
import sys
import time
from urllib.parse import urlsplit


def port_open(address: str, port: str) -> None:
    try:
        with socket.create_connection((address, int(port)), timeout=0.5):
            print('open')
    except OSError:
        print('closed')


def missing_users(url: str) -> None:
    from pymongo import MongoClient

    wanted = [line for line in sys.stdin.read().splitlines() if line]
    client = MongoClient(url, serverSelectionTimeoutMS=5000)
    try:
        found: set[str] = set()
        users = client.get_default_database()['User']
        for start in range(0, len(wanted), 500):
            batch = wanted[start : start + 500]
            found.update(row['username'] for row in users.find({'username': {'$in': batch}}, {'username': 1}))
    finally:
        client.close()
    print(json.dumps(sorted(set(wanted) - found)))


def watch(url: str, seconds: str) -> None:
    parts = urlsplit(url)
    deadline = time.time() + float(seconds)
    while time.time() < deadline:
        started = time.time()
        status = None
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=0.3)
        try:
            connection.request('GET', parts.path)
            status = connection.getresponse().status
        except OSError:
            pass
        finally:
            connection.close()
        print(json.dumps({'t': started, 'status': status}), flush=True)
        time.sleep(max(0.0, 0.05 - (time.time() - started)))


if __name__ == '__main__':
    command, *arguments = sys.argv[1:]
    {'port-open': port_open, 'missing-users': missing_users, 'watch': watch}[command](*arguments)
