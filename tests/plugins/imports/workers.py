"""Real ``contacts-api worker --queue imports`` processes for the tests that kill,
stop or race them (resume, deploy hand-back, bulk loads)."""

import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import subprocess_env


def start_import_worker(settings, log_path: Path, ready_s: float = 30, **env: str):
    """Start a worker on ``settings``' database, Redis (as the broker, with its key
    prefix) and storage, with its imports' lease and batch size; ``env`` adds or
    overrides variables (``CONTACTS_API__BROKER__REDELIVERY_IDLE_S="1"``...). Returns
    the process once it has opened its resources; its output goes to ``log_path``."""
    environ = subprocess_env(
        DATABASE_URL=settings.database.url.reveal(),
        REDIS_URL=settings.redis.url.reveal(),
        CONTACTS_API__REDIS__KEY_PREFIX=settings.redis.key_prefix,
        CONTACTS_API__BROKER__BACKEND="redis",
        CONTACTS_API__STORAGE__LOCAL_PATH=settings.storage.local_path,
        CONTACTS_API__IMPORTS__LEASE_S=str(settings.imports.lease_s),
        CONTACTS_API__IMPORTS__BATCH_SIZE=str(settings.imports.batch_size),
        **env,
    )
    log = open(log_path, "wb")  # noqa: SIM115 - closed by stop_worker
    process = subprocess.Popen(
        [sys.executable, "-m", "contacts_api.core.cli", "worker", "--queue", "imports"],
        env=environ,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    process.log_file = log
    deadline = time.monotonic() + ready_s
    while b"worker resources open" not in log_path.read_bytes():
        assert process.poll() is None and time.monotonic() < deadline, log_path.read_text()
        time.sleep(0.05)
    return process


def stop_worker(process) -> None:
    """Kill (if still running) and reap a worker of ``start_import_worker``."""
    if process is not None:
        if process.poll() is None:
            process.kill()
        process.wait(10)
        process.log_file.close()
