"""The ``[imports]`` settings section (``CONTACTS_API__IMPORTS__<KEY>``)."""

import attrs


@attrs.frozen
class ImportsSettings:
    # Largest accepted upload (413 above).
    max_upload_bytes: int = 1_073_741_824
    batch_size: int = 2_000
    # A job's lease: another worker may take over a job whose lease expired.
    lease_s: int = 60
