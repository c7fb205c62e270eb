"""The ``[exports]`` settings section (``CONTACTS_API__EXPORTS__<KEY>``)."""

import attrs


@attrs.frozen
class ExportsSettings:
    # How long a download link stays valid.
    link_ttl_s: int = 3_600
    # Exports (and their files) older than this are purged.
    max_age_days: int = 7
    batch_size: int = 5_000
