"""The ``[apollo]`` settings section (``CONTACTS_API__APOLLO__<KEY>``)."""

import attrs


@attrs.frozen
class ApolloSettings:
    # How long the analysis of one Apollo URL is cached.
    analysis_cache_ttl_s: int = 3_600
