"""``python -P tests/fast_hash_uvicorn.py APP [uvicorn options]``: uvicorn, with cheap password hashes when asked.

The framework never reads ``PANTHER_LIKE_FAST_PASSWORD_HASH``; a server a test starts gets the cheap
argon2 parameters here, from the pytest plugin's `use_fast_hashes_if_asked` (``1``: cheap; ``0``, as the
password timing test sets it: real). It runs at the top level on purpose: uvicorn spawns its workers,
and each runs this file's top level again (as ``__mp_main__``) before it imports the app. ``-P`` keeps
tests/ off ``sys.path``, where tests/uvicorn.py would shadow uvicorn itself.
"""

from __future__ import annotations

from panther_like.testing.pytest_plugin import use_fast_hashes_if_asked

use_fast_hashes_if_asked()

if __name__ == '__main__':
    from uvicorn.main import main

    main()
