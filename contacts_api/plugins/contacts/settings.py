"""The ``[contacts]`` settings section (``CONTACTS_API__CONTACTS__<KEY>``)."""

import attrs


@attrs.frozen
class ContactsSettings:
    # Cache list pages in the cache (Redis when configured); any write invalidates all pages.
    list_cache_enabled: bool = False
    list_cache_ttl_s: int = 300
    # List, count and attribute queries slower than this answer 503.
    list_statement_timeout_ms: int = 10_000
    # Deepest `offset` accepted; deeper pages use the cursor.
    max_offset: int = 10_000
    max_count_uuids: int = 100_000
