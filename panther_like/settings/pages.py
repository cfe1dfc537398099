"""``ACCOUNTS['pages']``: the ready-made account pages (`panther_like.pages`), checked into a frozen value.

The pages keep the login in the cookies of ``ACCOUNTS['cookies']`` and
protect their forms with its CSRF token, so they are refused without it
rather than turning cookies on behind the project's back: cookie mode
changes what the JSON routes answer too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from panther_like.exceptions import ConfigError
from panther_like.settings.checks import reject_unknown_keys

PAGES_KEYS = frozenset({'templates', 'stylesheet', 'site_name'})
MAX_SITE_NAME_LENGTH = 100


@dataclass(frozen=True, slots=True)
class PagesSettings:
    """Where the project's own templates live (files there replace the packaged ones of the same name),
    the stylesheet the pages link instead of the packaged one, and the name shown at the top of each page."""

    templates: Path | None = None
    stylesheet: str | None = None
    site_name: str = 'Account'


def pages_setting(value: Any, cookies: object) -> PagesSettings | None:
    """``ACCOUNTS['pages']``: False or absent (off), True (every default) or a dict of options."""
    if value is None or value is False:
        return None
    if value is not True and not isinstance(value, Mapping):
        raise ConfigError(
            "ACCOUNTS['pages']", value, f"{value!r} must be True, False or a dict such as {{'templates': 'path'}}"
        )
    if not cookies:
        raise ConfigError(
            "ACCOUNTS['pages']",
            value,
            "the account pages keep the login in cookies: set ACCOUNTS['cookies'] = True as well",
        )
    if value is True:
        return PagesSettings()
    reject_unknown_keys("ACCOUNTS['pages']", value, PAGES_KEYS)
    checked: dict[str, Any] = {}
    templates = value.get('templates')
    if templates is not None:
        if not isinstance(templates, str | Path) or not str(templates):
            raise ConfigError("ACCOUNTS['pages']['templates']", templates, 'must be the path of a directory')
        directory = Path(templates).expanduser().resolve()
        if not directory.is_dir():
            raise ConfigError("ACCOUNTS['pages']['templates']", str(templates), 'is not an existing directory')
        checked['templates'] = directory
    stylesheet = value.get('stylesheet')
    if stylesheet is not None:
        # The pages' Content-Security-Policy admits this site's styles only: a path here, never another origin.
        if (
            not isinstance(stylesheet, str)
            or not stylesheet.startswith('/')
            or stylesheet.startswith('//')
            or any(ch in stylesheet for ch in ' "\'<>\\\r\n\t')
        ):
            raise ConfigError(
                "ACCOUNTS['pages']['stylesheet']", stylesheet, "must be a path on this site such as '/static/site.css'"
            )
        checked['stylesheet'] = stylesheet
    site_name = value.get('site_name')
    if site_name is not None:
        if not isinstance(site_name, str) or not site_name.strip() or len(site_name) > MAX_SITE_NAME_LENGTH:
            raise ConfigError("ACCOUNTS['pages']['site_name']", site_name, 'must be a short non-empty string')
        checked['site_name'] = site_name
    return PagesSettings(**checked)
