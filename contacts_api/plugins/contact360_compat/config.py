"""The plugin's own settings: one free-form table, ``[plugin_config.contact360_compat]``.

``prefix`` (default ``/contact360``): where the dialect is served. The app's
API base URL is then ``http://<host>:<port><prefix>``.
"""

import re
from typing import Any

NAME = "contact360_compat"
DEFAULT_PREFIX = "/contact360"
_PREFIX = re.compile(r"^(/[A-Za-z0-9._~-]+)+$")
KNOWN_KEYS = {"prefix"}


def _table(settings: Any) -> dict[str, Any]:
    return dict(settings.plugin_config.get(NAME, {}))


def prefix(settings: Any) -> str:
    return str(_table(settings).get("prefix", DEFAULT_PREFIX)).rstrip("/")


def settings_problems(settings: Any) -> list[str]:
    table = _table(settings)
    problems = [
        f"plugin_config.{NAME}.{key} is not a setting of this plugin (known: prefix)"
        for key in sorted(set(table) - KNOWN_KEYS)
    ]
    value = table.get("prefix", DEFAULT_PREFIX)
    if not isinstance(value, str) or not _PREFIX.match(value.rstrip("/")):
        problems.append(
            f"plugin_config.{NAME}.prefix must be a path such as /contact360 "
            "(it cannot be empty: the dialect reuses our own paths under it)"
        )
    return problems
