"""The version is written once, in ``panther_like/__init__.py``; the distribution's metadata reads it from there."""

from __future__ import annotations

from importlib.metadata import version

import panther_like


def test_installed_distribution_has_the_package_version():
    assert version('panther-like') == panther_like.__version__
