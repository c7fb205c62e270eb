"""The plugin's own settings section, ``[contact360_compat]``
(``CONTACTS_API__CONTACT360_COMPAT__<KEY>``).

``prefix`` (default ``/contact360``): where the dialect is served. The app's
API base URL is then ``http://<host>:<port><prefix>``.
"""

import re
from typing import Any

import attrs

NAME = "contact360_compat"
DEFAULT_PREFIX = "/contact360"
_PREFIX = re.compile(r"^(/[A-Za-z0-9._~-]+)+$")


@attrs.frozen
class Contact360CompatSettings:
    # Where the dialect is served; never empty: it reuses our own paths under it.
    prefix: str = DEFAULT_PREFIX


def prefix(settings: Any) -> str:
    return getattr(settings, NAME).prefix.rstrip("/")


def settings_problems(settings: Any) -> list[str]:
    if not _PREFIX.match(getattr(settings, NAME).prefix.rstrip("/")):
        return [
            f"{NAME}.prefix must be a path such as /contact360 "
            "(it cannot be empty: the dialect reuses our own paths under it)"
        ]
    return []
