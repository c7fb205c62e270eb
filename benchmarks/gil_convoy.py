"""The GIL convoy an import's writer meets: database round trips from one thread while
another thread runs pure Python (as the import's parsing thread does), per switch
interval (``plugins/imports/switching.py``).

    python benchmarks/gil_convoy.py [--trips 300] [--intervals 0.005 0.0005]

Prints the median and mean of a ``SELECT 1`` round trip with no other thread, then
with a spinning thread at each interval, alternating twice (a loaded machine drifts).
DATABASE_URL defaults to postgresql://postgres@127.0.0.1:5432/postgres.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time

import psycopg2

URL = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def round_trips(cur, count: int) -> tuple[float, float]:
    """Median and mean milliseconds of ``count`` ``SELECT 1`` round trips."""
    spent = []
    for _ in range(count):
        started = time.perf_counter()
        cur.execute("SELECT 1")
        cur.fetchone()
        spent.append((time.perf_counter() - started) * 1000)
    return statistics.median(spent), statistics.mean(spent)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trips", type=int, default=300)
    parser.add_argument("--intervals", type=float, nargs="+", default=[0.005, 0.0005])
    args = parser.parse_args()
    conn = psycopg2.connect(URL)
    stop = threading.Event()

    def spin() -> None:  # a parser's kind of work: pure Python, holding the GIL
        while not stop.is_set():
            sum(i * i for i in range(200))

    try:
        with conn.cursor() as cur:
            median, mean = round_trips(cur, args.trips)
            print(f"no other thread            median {median:.2f} ms, mean {mean:.2f} ms")
            spinner = threading.Thread(target=spin, daemon=True)
            spinner.start()
            saved = sys.getswitchinterval()
            for interval in args.intervals * 2:
                sys.setswitchinterval(interval)
                median, mean = round_trips(cur, args.trips)
                print(
                    f"spinner, switch {interval * 1000:4.1f} ms   median {median:.2f} ms, "
                    f"mean {mean:.2f} ms"
                )
            sys.setswitchinterval(saved)
            stop.set()
            spinner.join()
    finally:
        conn.close()


if __name__ == "__main__":
    main()
