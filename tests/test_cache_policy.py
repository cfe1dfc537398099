"""How a worker's token and user caches behave once more keys are in use than they may keep.

`BoundedCache` is what `AUTH_CACHE['max_entries']` bounds; these tests drive
it directly with the access patterns a server sees.
"""

from __future__ import annotations

import itertools

from panther_like.login_state.token_cache import BoundedCache


def hit_rate(cache: BoundedCache, keys: list[str], rounds: int) -> float:
    """Requests served from the cache, as a share, when `keys` are requested in turn `rounds` times."""
    hits = 0
    for key in itertools.islice(itertools.cycle(keys), rounds * len(keys)):
        if cache.hit(key) is not None:
            hits += 1
        else:
            cache.put(key, key)
    return hits / (rounds * len(keys))


def test_a_working_set_that_fits_is_served_from_the_cache():
    assert hit_rate(BoundedCache(100), [f'k{n}' for n in range(100)], 10) >= 0.9


def test_a_working_set_twice_the_cache_visited_in_turn_still_hits_about_half_the_time():
    cache = BoundedCache(100)
    hit_rate(cache, [f'k{n}' for n in range(200)], 2)  # the cache settles
    assert hit_rate(cache, [f'k{n}' for n in range(200)], 10) >= 0.45


def test_the_cache_never_holds_more_than_max_entries():
    cache = BoundedCache(10)
    hit_rate(cache, [f'k{n}' for n in range(1000)], 3)
    assert len(cache) <= 10


def test_keys_that_stopped_coming_give_way_to_the_ones_in_use():
    cache = BoundedCache(100)
    hit_rate(cache, [f'old{n}' for n in range(100)], 3)
    new = [f'new{n}' for n in range(100)]
    hit_rate(cache, new, 3)
    assert hit_rate(cache, new, 1) >= 0.9


def test_a_cache_of_size_zero_keeps_nothing():
    cache = BoundedCache(0)
    cache.put('k', 1)
    assert cache.hit('k') is None
