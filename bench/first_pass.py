"""The unrecorded pass before an N-users run: each user's token presented once, as production has seen them.

A worker in production has seen its active users before; the N-users shape
measures that steady state, not the first sight of every token. wrk cannot
stop after a number of requests (its threads stop, the run still lasts its
full duration), so this pass is a small keep-alive HTTP/1.1 client of its
own: a few connections, each sending the next token and reading the answer.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

CONNECTIONS = 16


async def _connection(port: int, path: str, tokens: list[str], cursor: list[int]) -> int:
    """Requests on one keep-alive connection until every token was sent; the number of non-2xx answers."""
    reader, writer = await asyncio.open_connection('127.0.0.1', port)
    failures = 0
    try:
        while cursor[0] < len(tokens):
            token = tokens[cursor[0]]
            cursor[0] += 1
            writer.write(f'GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\r\n'.encode())
            status_line = await reader.readline()
            length = 0
            while (line := await reader.readline()) not in (b'\r\n', b''):
                name, _, value = line.partition(b':')
                if name.strip().lower() == b'content-length':
                    length = int(value)
            await reader.readexactly(length)
            failures += not status_line.split(b' ')[1].startswith(b'2')
    finally:
        writer.close()
    return failures


def present_each_token_once(port: int, path: str, tokens_file: Path) -> int:
    """Send every token of `tokens_file` once to `path`; how many were not answered 2xx."""
    tokens = [line for line in tokens_file.read_text().splitlines() if line]
    cursor = [0]

    async def run() -> int:
        counts = await asyncio.gather(*(_connection(port, path, tokens, cursor) for _ in range(CONNECTIONS)))
        return sum(counts)

    return asyncio.run(run())
