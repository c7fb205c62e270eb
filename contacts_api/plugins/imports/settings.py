"""The ``[imports]`` settings section (``CONTACTS_API__IMPORTS__<KEY>``)."""

import attrs


@attrs.frozen
class ImportsSettings:
    # Largest accepted upload (413 above).
    max_upload_bytes: int = 1_073_741_824
    # Rows per transaction. 5,000 was measured against 2,000 (2 cores): 7-9% faster
    # end to end at 200k rows (medians of 3), but at 1M rows the same fresh import
    # and an 8% slower re-import (the worker's CPU 107 s against 92), the incremental
    # import unchanged, and the worker's peak RSS 196-200 MB against 165. Kept 2,000.
    batch_size: int = 2_000
    # Batches of one import written at once, each in its own transaction and on its
    # own connection (plugins/imports/pipeline.py): the database's work per row runs
    # on as many cores. 1: one batch after the other.
    writers: int = 2
    # A job's lease: another worker may take over a job whose lease expired.
    lease_s: int = 60
    # With Redis, every worker looks this often for unfinished jobs idle (no live
    # lease) this long whose task is in no queue, lost by the queue (a Redis restarted
    # without persistence), and kicks them again (recovery.py). 0: never.
    recover_lost_s: int = 60
    # A file of at least ``parse_min_rows`` rows is normalized in ``parse_processes``
    # parsing processes while the worker writes (0: one per core but one on 4 cores
    # or more, none below; plugins/imports/parsing.py); smaller files, and every file
    # without processes, in the worker's reading thread.
    parse_processes: int = 0
    parse_min_rows: int = 20_000
    # The bulk path (plugins/imports/bulk.py): after ``bulk_probe_rows`` rows, a job
    # expected to create at least ``bulk_min_rows`` contacts and at least
    # ``bulk_fraction`` of the table's rows defers the secondary indexes of contacts
    # and builds them again at its end. ``bulk_min_rows = 0`` turns it off.
    bulk_min_rows: int = 50_000
    bulk_fraction: float = 0.35
    bulk_probe_rows: int = 10_000
    # Indexes a bulk load keeps (besides unique and constraint indexes): the import's
    # own lookups and the index of the foreign key to companies.
    bulk_keep_indexes: list[str] = attrs.Factory(
        lambda: ["contacts_company_uuid_idx", "imports_contacts_without_email_idx"]
    )
    # maintenance_work_mem of the index rebuild at the end of a bulk load.
    bulk_maintenance_work_mem: str = "256MB"
    # Rebuild with CREATE INDEX CONCURRENTLY, one index at a time (API writes go on);
    # false: a plain CREATE INDEX, faster, during which API writes to contacts wait.
    bulk_rebuild_concurrently: bool = True
    # A bulk load that begins on a table of at most this many rows (a first load, a
    # young database) rebuilds plainly whatever ``bulk_rebuild_concurrently`` says:
    # API writes to contacts wait for the rebuild (reads go on), which is several
    # times shorter.
    bulk_plain_rebuild_max_rows: int = 100_000
    # Connections building the plain rebuilds at once (each one index at a time;
    # PostgreSQL may add its parallel maintenance workers to a btree's build).
    bulk_rebuild_connections: int = 2
