"""What each index of ``contacts`` costs an import, per inserted row, in one run.

    python benchmarks/index_budget.py --database NAME [--rows 20000] [--rounds 3]
                                      [--variants] [--leave-one-out]

Runs on an already loaded database (e.g. the base that ``benchmarks/import.py
--incremental-base 1000000 --base-database NAME`` keeps, or ``list_queries.py``'s).
Every measurement is one transaction that is rolled back, so the database is left
as it was (apart from dead tuples; VACUUM it after):

- ``none``: drop every secondary index of contacts (DDL is transactional), insert
  ``--rows`` new contacts (copies of random stored ones with a tagged email, through
  the table's triggers, as an import writes them), roll back;
- one per index: drop all the others, insert, run ``gin_clean_pending_list`` when it
  is a GIN index (its deferred work is part of its cost), roll back;
- ``all``: the schema as it is.

An index's cost is its run minus ``none``, in microseconds per inserted row (the
median over ``--rounds``, run in a shuffled order each round), in wall time and in
the backend's CPU time (``/proc/<pid>/stat``: the server must run on this machine;
steady on a loaded machine, where the wall time is not). Costs measured one at a
time do not add up exactly to ``all``: alone, an index has shared_buffers to itself.
``--leave-one-out`` also prices each index as ``all`` minus a run with every other
index (the buffer churn of the others included); its differences are small against
the run-to-run noise: give it ``--rounds 5`` or more.

``--variants`` also prices candidate replacements (a GIN index with a larger
``gin_pending_list_limit`` cleaned at the end, with ``fastupdate`` off, other keys),
built inside the rolled-back transaction.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

import psycopg2

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.common import with_database  # noqa: E402

ADMIN_URL = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")

INSERT = """
INSERT INTO contacts (email, first_name, last_name, title, seniority, departments,
    email_status, mobile_phone, city, state, country, linkedin_url, company_uuid)
SELECT email, first_name, last_name, title, seniority, departments, email_status,
    mobile_phone, city, state, country, linkedin_url, company_uuid FROM budget_rows
"""

# new contacts get a time-ordered uuid (UUIDv7 layout: milliseconds since 1970 in the
# first 48 bits): the primary key, and the (key, uuid) btrees within a key, are then
# appended to instead of written at random places
UUID_V7 = """
CREATE FUNCTION pg_temp.uuid_v7() RETURNS uuid LANGUAGE sql VOLATILE AS $$
SELECT encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid()) PLACING
    substring(int8send((extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3)
    FROM 1 FOR 6), 52, 1), 53, 1), 'hex')::uuid $$;
ALTER TABLE contacts ALTER COLUMN uuid SET DEFAULT pg_temp.uuid_v7()"""

# label -> (the index it stands in for, statements run in the transaction first, GIN
# indexes to clean at the end): storage parameters are changed on the index itself
# (transactional DDL), other structures built (untimed) in place of the index
VARIANTS = {
    "search_key_trgm, pending list 32MB + clean": (
        "contacts_search_key_trgm",
        ["ALTER INDEX contacts_search_key_trgm SET (gin_pending_list_limit = 32768)"],
        ["contacts_search_key_trgm"],
    ),
    "search_key_trgm, fastupdate off": (
        "contacts_search_key_trgm",
        ["ALTER INDEX contacts_search_key_trgm SET (fastupdate = off)"],
        [],
    ),
    "title_trgm, pending list 32MB + clean": (
        "contacts_title_trgm",
        ["ALTER INDEX contacts_title_trgm SET (gin_pending_list_limit = 32768)"],
        ["contacts_title_trgm"],
    ),
    "mobile_phone_trgm partial (NOT NULL)": (
        None,
        [
            "CREATE INDEX v ON contacts USING gin (mobile_phone gin_trgm_ops) "
            "WITH (gin_pending_list_limit = 32768) WHERE mobile_phone IS NOT NULL"
        ],
        ["v"],
    ),
    "all, time-ordered uuid (v7)": ("*", [UUID_V7], []),
    "seniority_order_idx, time-ordered uuid": (
        "contacts_seniority_order_idx",
        [UUID_V7],
        [],
    ),
    "without_mobile_idx, time-ordered uuid": ("contacts_without_mobile_idx", [UUID_V7], []),
    "with+without_mobile on (created_at)": (
        None,
        [
            "CREATE INDEX v1 ON contacts (created_at) WHERE coalesce(mobile_phone, '') <> ''",
            "CREATE INDEX v2 ON contacts (created_at) WHERE coalesce(mobile_phone, '') = ''",
        ],
        [],
    ),
}


def secondary_indexes(cur) -> list[tuple[str, str, str]]:
    """(name, access method, definition) of the indexes of contacts that back no
    constraint (the primary key stays in every run)."""
    cur.execute("""
        SELECT i.relname, am.amname, pg_get_indexdef(i.oid)
        FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
        JOIN pg_am am ON am.oid = i.relam
        WHERE x.indrelid = 'contacts'::regclass AND NOT x.indisprimary
        ORDER BY i.relname""")
    return cur.fetchall()


METRICS = ("seconds", "cpu", "read", "dirtied", "wal_bytes", "wal_fpi")
TICK = os.sysconf("SC_CLK_TCK")


def backend_cpu(pid: int) -> float:
    """CPU seconds (user + system) the backend ``pid`` has used: steady on a loaded
    machine, where wall time is not (the server must run on this machine)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def _plan_metrics(plan: dict) -> dict[str, float]:
    return {
        "read": plan.get("Shared Read Blocks", 0),
        "dirtied": plan.get("Shared Dirtied Blocks", 0),
        "wal_bytes": plan.get("WAL Bytes", 0),
        "wal_fpi": plan.get("WAL FPI", 0),
    }


def timed_insert(
    conn, pid: int, drop: list[str], setup: list[str], clean: list[str]
) -> dict[str, float]:
    """Seconds, shared blocks read and dirtied, WAL bytes and full-page images of
    inserting the rows (and cleaning the pending lists of ``clean``) with the indexes
    ``drop`` dropped and the statements ``setup`` run first; rolled back. The block
    and WAL counts (EXPLAIN ANALYZE's BUFFERS and WAL) do not depend on the load of
    the machine, the seconds do."""
    with conn.cursor() as cur:
        for name in drop:
            cur.execute(f'DROP INDEX "{name}"')
        for statement in setup:
            cur.execute(statement)
        started, cpu_started = time.perf_counter(), backend_cpu(pid)
        cur.execute("EXPLAIN (ANALYZE, BUFFERS, WAL, FORMAT JSON) " + INSERT)
        metrics = _plan_metrics(cur.fetchone()[0][0]["Plan"])
        for name in clean:
            cur.execute(
                "EXPLAIN (ANALYZE, BUFFERS, WAL, FORMAT JSON) "
                "SELECT gin_clean_pending_list(%s::regclass)",
                (name,),
            )
            for key, value in _plan_metrics(cur.fetchone()[0][0]["Plan"]).items():
                metrics[key] += value
        metrics["seconds"] = time.perf_counter() - started
        metrics["cpu"] = backend_cpu(pid) - cpu_started
    conn.rollback()
    return metrics


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", required=True)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--variants", action="store_true")
    parser.add_argument("--only", action="append", default=[], help="price only these")
    parser.add_argument(
        "--leave-one-out",
        action="store_true",
        help="also price each index as all the indexes minus it (the buffer churn of the"
        " others included, which pricing it alone misses)",
    )
    args = parser.parse_args()

    conn = psycopg2.connect(with_database(ADMIN_URL, args.database))
    with conn.cursor() as cur:
        cur.execute("SET maintenance_work_mem = '512MB'")
        cur.execute("SELECT pg_backend_pid()")
        pid = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM contacts")
        total = cur.fetchone()[0]
        cur.execute(
            """CREATE UNLOGGED TABLE IF NOT EXISTS budget_rows AS
               SELECT 'budget.' || coalesce(email, md5(uuid::text) || '@example.org') AS email,
                      first_name, last_name, title, seniority, departments, email_status,
                      mobile_phone, city, state, country, linkedin_url, company_uuid
               FROM contacts TABLESAMPLE SYSTEM (5) LIMIT %s""",
            (args.rows,),
        )
        indexes = secondary_indexes(cur)
    conn.commit()
    names = [name for name, _, _ in indexes]
    gin = {name for name, method, _ in indexes if method == "gin"}
    runs: dict[str, tuple[list[str], list[str], list[str]]] = {
        "none": (names, [], []),
        "all": ([], [], sorted(gin)),
    }
    for name in names:
        if args.only and name not in args.only:
            continue
        runs[name] = ([n for n in names if n != name], [], [name] if name in gin else [])
    if args.leave_one_out:
        for name in names:
            if args.only and name not in args.only:
                continue
            runs[f"all but {name}"] = ([name], [], sorted(gin - {name}))
    if args.variants:
        for label, (kept, setup, clean) in VARIANTS.items():
            if kept == "*":  # every index kept (and every GIN cleaned)
                runs[f"variant: {label}"] = ([], setup, sorted(gin))
            else:
                runs[f"variant: {label}"] = ([n for n in names if n != kept], setup, clean)
    print(
        f"contacts: {total:,}; inserting {args.rows:,} rows per run; {len(runs)} runs x "
        f"{args.rounds} rounds; {os.cpu_count()} cores",
        flush=True,
    )
    measured: dict[str, list[dict[str, float]]] = {label: [] for label in runs}
    for round_ in range(args.rounds):
        order = list(runs)
        random.Random(round_).shuffle(order)
        for label in order:
            drop, setup, clean = runs[label]
            # a variant's build is not timed: only the insert and the clean-up
            measured[label].append(timed_insert(conn, pid, drop, setup, clean))
        print(f"round {round_ + 1} done", flush=True)
    with conn.cursor() as cur:
        cur.execute("DROP TABLE budget_rows")
    conn.commit()
    conn.close()

    def median(label: str, metric: str) -> float:
        return statistics.median(m[metric] for m in measured[label])

    base = {metric: median("none", metric) for metric in METRICS}
    print(
        "\nper inserted row, the run's median minus the run without secondary indexes:\n"
        f"{'run':46} {'us/row':>7} {'cost us':>8} {'cpu us':>7} {'cost cpu':>8} "
        f"{'blk read':>9} {'blk dirt':>9} {'WAL B':>7} {'FPI':>6}"
    )
    single = [label for label in measured if not label.startswith("all but ")]
    for label in sorted(single, key=lambda k: -median(k, "cpu")):
        per_row = {m: (median(label, m) - base[m]) / args.rows for m in METRICS}
        _print_row(label, per_row, median(label, "seconds"), median(label, "cpu"), args.rows)
    if args.leave_one_out:
        # an index's marginal cost with all the others present: "all" minus "all but it"
        every = {metric: median("all", metric) for metric in METRICS}
        print("\nper inserted row, the run with every index minus the run without this one:")
        left_out = [label for label in measured if label.startswith("all but ")]
        for label in sorted(left_out, key=lambda k: median(k, "cpu")):
            per_row = {m: (every[m] - median(label, m)) / args.rows for m in METRICS}
            _print_row(label, per_row, median(label, "seconds"), median(label, "cpu"), args.rows)


def _print_row(label: str, per_row: dict, seconds: float, cpu: float, rows: int) -> None:
    print(
        f"{label:46} {seconds / rows * 1e6:7.0f} {per_row['seconds'] * 1e6:8.0f} "
        f"{cpu / rows * 1e6:7.0f} {per_row['cpu'] * 1e6:8.0f} "
        f"{per_row['read']:9.2f} {per_row['dirtied']:9.2f} "
        f"{per_row['wal_bytes']:7.0f} {per_row['wal_fpi']:6.2f}"
    )


if __name__ == "__main__":
    main()
