"""cProfile of the in-process authentication path on one shape of bench/cache_shapes.py: the top lines.

    .venv/bin/python bench/profile_auth_path.py [USERS] [MAX_ENTRIES] > bench/profiles/NAME.txt

USERS users (default 1,000), one token each, requested in turn; MAX_ENTRIES (default: the
framework's) bounds the caches. Sorted by own time, the 25 top functions.
"""

from __future__ import annotations

import asyncio
import cProfile
import io
import pstats
import runpy
import sys
from pathlib import Path


def main() -> None:
    users = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    max_entries = int(sys.argv[2]) if len(sys.argv) > 2 else None
    shapes = runpy.run_path(str(Path(__file__).with_name('cache_shapes.py')))['shapes']
    profile = cProfile.Profile()
    profile.enable()
    result = asyncio.run(shapes(users, max_entries))
    profile.disable()
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats('tottime').print_stats(25)
    print(f'# {users:,} users rotated, max_entries {max_entries or "default"}: {result} (µs CPU per request)')
    print(out.getvalue().replace(str(Path.cwd()) + '/', ''))


if __name__ == '__main__':
    main()
