"""``python -m panther_like.cli``: the ``panther-like`` command without its console script."""

import sys

from panther_like.cli import main

sys.exit(main())
