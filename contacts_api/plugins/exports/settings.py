"""The ``[exports]`` settings section (``CONTACTS_API__EXPORTS__<KEY>``)."""

import attrs


@attrs.frozen
class ExportsSettings:
    # How long a download link stays valid.
    link_ttl_s: int = 3_600
    # Exports (and their files) older than this are purged.
    max_age_days: int = 7
    batch_size: int = 5_000
    # With Redis, every worker looks this often for unfinished exports without a
    # heartbeat this long whose task is in no queue (lost by a Redis restarted without
    # persistence), and kicks them again (core.recovery). 0: never.
    recover_lost_s: int = 60
