"""Two OS processes writing one embedded store file, as two uvicorn workers do."""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import Awaitable, Callable
from multiprocessing.synchronize import Event
from pathlib import Path

import pytest

from panther_like.db.embedded import EmbeddedDatabase
from panther_like.exceptions import DuplicateKeyError

ROWS_PER_PROCESS = 150
SHARED_NAMES = [f'name-{i}' for i in range(60)]


async def _write(path: str, tag: str) -> int:
    database = EmbeddedDatabase(path)
    rows = database.collection('rows')
    names = database.collection('names')
    await names.create_unique_index('name')
    claimed = 0
    try:
        for i in range(ROWS_PER_PROCESS):
            await rows.insert_one({'_id': f'{tag}-{i}', 'writer': tag, 'i': i})
            if i < len(SHARED_NAMES):
                # Both processes race for the same unique names; each must land exactly once.
                try:
                    await names.insert_one({'_id': f'{tag}-n{i}', 'name': SHARED_NAMES[i]})
                    claimed += 1
                except DuplicateKeyError as exc:
                    assert exc.field == 'name', exc.field
    finally:
        await database.close()
    return claimed


def _worker(
    job: Callable[[str, str], Awaitable[int]], path: str, tag: str, go: Event, results: multiprocessing.Queue
) -> None:
    go.wait(timeout=30)
    try:
        results.put((tag, asyncio.run(job(path, tag))))
    except BaseException as exc:
        results.put((tag, f'{type(exc).__name__}: {exc}'))
        raise


def _race(job: Callable[[str, str], Awaitable[int]], path: str, tags: tuple[str, str]) -> dict[str, object]:
    """Run `job(path, tag)` in one spawned OS process per tag, released together; each must exit cleanly."""
    context = multiprocessing.get_context('spawn')
    go = context.Event()
    results = context.Queue()
    workers = [context.Process(target=_worker, args=(job, path, tag, go, results)) for tag in tags]
    for worker in workers:
        worker.start()
    go.set()
    outcomes = dict(results.get(timeout=60) for _ in workers)
    for worker in workers:
        worker.join(timeout=30)
        assert worker.exitcode == 0, outcomes
    return outcomes


@pytest.mark.server
async def test_two_processes_lose_nothing_and_share_the_unique_index(tmp_path: Path) -> None:
    path = str(tmp_path / 'shared.sqlite3')
    outcomes = _race(_write, path, ('a', 'b'))

    assert all(isinstance(claimed, int) for claimed in outcomes.values()), outcomes
    assert sum(outcomes.values()) == len(SHARED_NAMES)

    database = EmbeddedDatabase(path)
    try:
        rows = database.collection('rows')
        names = database.collection('names')
        assert await rows.count({}) == 2 * ROWS_PER_PROCESS
        for tag in ('a', 'b'):
            stored = await rows.find({'writer': tag}, sort=[('i', 1)])
            assert [row['i'] for row in stored] == list(range(ROWS_PER_PROCESS))
        assert await names.count({}) == len(SHARED_NAMES)
        for name in SHARED_NAMES:
            assert await names.count({'name': name}) == 1
    finally:
        await database.close()


async def test_a_database_object_reopens_after_close(tmp_path: Path) -> None:
    database = EmbeddedDatabase(tmp_path / 'reopen.sqlite3')
    await database.collection('c').insert_one({'_id': 'x'})
    await database.close()
    assert await database.collection('c').find_one({'_id': 'x'}) == {'_id': 'x'}
    await database.close()


UPDATES_PER_PROCESS = 300


async def _update(path: str, field: str) -> int:
    """Set `field` of one shared document again and again while the other process sets its own field."""
    database = EmbeddedDatabase(path)
    shared = database.collection('shared')
    other, seen = ('b' if field == 'a' else 'a'), 0.0
    try:
        for i in range(UPDATES_PER_PROCESS):
            assert await shared.update_one({'_id': 'doc'}, {field: i + 0.1}) is True
            document = await shared.find_one({'_id': 'doc'})
            assert document is not None and document[field] == i + 0.1
            # A lost update would put back an older value of the other process's field.
            assert document[other] >= seen, (other, document[other], seen)
            seen = document[other]
    finally:
        await database.close()
    return UPDATES_PER_PROCESS


@pytest.mark.server
async def test_two_processes_updating_one_document_lose_neither_field(tmp_path: Path) -> None:
    """An update replaces the whole document (to keep floats exact): the read and the write are one transaction."""
    path = str(tmp_path / 'updates.sqlite3')
    database = EmbeddedDatabase(path)
    await database.collection('shared').insert_one({'_id': 'doc', 'a': 0.0, 'b': 0.0})
    await database.close()
    _race(_update, path, ('a', 'b'))
    database = EmbeddedDatabase(path)
    try:
        last = UPDATES_PER_PROCESS - 1 + 0.1
        assert await database.collection('shared').find_one({'_id': 'doc'}) == {'_id': 'doc', 'a': last, 'b': last}
    finally:
        await database.close()
