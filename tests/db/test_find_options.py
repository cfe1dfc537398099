"""`Model.find` sorts, skips and limits, `Model.count` counts, and `indexes` are declared: on both stores."""

from __future__ import annotations

from typing import ClassVar

import pytest

from panther_like.db import Model
from tests.db.test_contract import database  # noqa: F401  (the fixture: both stores)


class Book(Model):
    collection_name: ClassVar[str] = 'books'
    indexes: ClassVar[tuple[str | tuple[str, ...], ...]] = ('title', ('author', 'year'))
    title: str
    author: str
    year: int


async def shelf() -> None:
    for title, author, year in [('b', 'x', 2001), ('a', 'y', 1999), ('d', 'x', 1990), ('c', 'y', 2010)]:
        await Book.insert_one(title=title, author=author, year=year)


async def test_find_sorts_ascending_by_a_field(database) -> None:  # noqa: F811
    await shelf()
    assert [book.title for book in await Book.find(sort='title')] == ['a', 'b', 'c', 'd']


async def test_find_sorts_descending_with_a_minus(database) -> None:  # noqa: F811
    await shelf()
    assert [book.year for book in await Book.find(sort='-year')] == [2010, 2001, 1999, 1990]


async def test_find_sorts_by_several_fields(database) -> None:  # noqa: F811
    await shelf()
    found = await Book.find(sort=['author', '-year'])
    assert [book.title for book in found] == ['b', 'd', 'c', 'a']


async def test_find_skips_then_limits(database) -> None:  # noqa: F811
    await shelf()
    assert [book.title for book in await Book.find(sort='title', skip=1, limit=2)] == ['b', 'c']


async def test_find_filters_before_the_window(database) -> None:  # noqa: F811
    await shelf()
    assert [book.title for book in await Book.find(author='x', sort='-title', limit=1)] == ['d']


async def test_count_counts_the_matching_documents(database) -> None:  # noqa: F811
    await shelf()
    assert (await Book.count(), await Book.count(author='y')) == (4, 2)


async def test_sorting_by_an_unknown_field_is_refused(database) -> None:  # noqa: F811
    with pytest.raises(ValueError, match='not a field'):
        await Book.find(sort='pages')


@pytest.mark.parametrize('window', [{'limit': -1}, {'skip': -2}, {'limit': True}])
async def test_a_negative_window_is_refused(database, window) -> None:  # noqa: F811
    with pytest.raises(ValueError, match='whole number'):
        await Book.find(**window)


async def test_declared_indexes_exist_in_the_store(database) -> None:  # noqa: F811
    await shelf()
    assert await Book.find(title='a', sort='year')
