"""Optional cache of list pages (``[contacts] list_cache_enabled``, off by default).

Keys carry a generation number read from the cache; every write through this
plugin bumps it (``invalidate``), so one write makes every cached page stale
at once, in every process sharing the Redis. Entries live
``list_cache_ttl_s`` seconds.
"""

import hashlib
import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import attrs

GENERATION_KEY = "contacts:lists:generation"
GENERATION_TTL_S = 30 * 86400


def page_key(*parts: Any) -> str:
    def plain(value: Any) -> Any:
        if isinstance(value, Mapping):
            return sorted((k, list(v)) for k, v in value.items())
        return value if isinstance(value, str | int | bool | None) else str(value)

    digest = hashlib.sha256(json.dumps([plain(p) for p in parts]).encode()).hexdigest()
    return digest[:32]


async def invalidate(resources) -> None:
    """Make every cached list page stale (call after writing contacts or companies)."""
    if resources.settings.contacts.list_cache_enabled:
        await resources.cache.incr(GENERATION_KEY, GENERATION_TTL_S)


async def cached_page(resources, key: str, load: Callable[[], Awaitable[Any]], page_type):
    settings = resources.settings.contacts
    if not settings.list_cache_enabled:
        return await load()
    generation = int(await resources.cache.get(GENERATION_KEY) or 0)
    full_key = f"contacts:list:{generation}:{key}"
    stored = await resources.cache.get(full_key)
    if stored is not None:
        return page_type(**stored)
    page = await load()
    await resources.cache.set(full_key, attrs.asdict(page), settings.list_cache_ttl_s)
    return page
