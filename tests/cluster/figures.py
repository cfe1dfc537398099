"""What the cluster tests measured, printed at the end of the run (see conftest.py)."""

from __future__ import annotations

FIGURES: list[tuple[str, str]] = []


def record(name: str, value: str) -> None:
    FIGURES.append((name, value))
