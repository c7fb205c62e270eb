"""``contacts-api import FILE.csv [--wait]``, in a real child process."""

import asyncio
import re
import sys

from contacts_api.core.plugins import Plugins
from contacts_api.workers.broker import run_worker
from tests.conftest import subprocess_env
from tests.plugins.imports.conftest import SAMPLES, count, query


async def _cli(settings, *args: str) -> tuple[int, str, str]:
    env = subprocess_env(
        DATABASE_URL=settings.database.url.reveal(),
        REDIS_URL=settings.redis.url.reveal(),
        CONTACTS_API__REDIS__KEY_PREFIX=settings.redis.key_prefix,
        CONTACTS_API__BROKER__BACKEND=settings.broker.backend,
        CONTACTS_API__STORAGE__LOCAL_PATH=settings.storage.local_path,
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "contacts_api.core.cli",
        "import",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 90)
    return process.returncode, out.decode(), err.decode()


async def test_cli_import_runs_the_job_in_process_without_redis(memory_settings):
    code, out, err = await _cli(
        memory_settings, str(SAMPLES / "apollo-contacts-export-2026.csv"), "--wait"
    )
    assert code == 0, err
    job_id = out.splitlines()[0]
    assert re.fullmatch(r"[0-9a-f-]{36}", job_id)
    assert "completed: 25 rows, 25 created, 0 updated, 0 errors" in out
    assert "rows" in err  # the progress bar
    job = query(memory_settings, "SELECT status, file_name FROM import_jobs")
    assert job == [{"status": "completed", "file_name": "apollo-contacts-export-2026.csv"}]
    assert count(memory_settings, "contacts") == 25


async def test_cli_import_with_a_worker_on_redis(settings_factory):
    settings = settings_factory(CONTACTS_API__BROKER__BACKEND="redis")
    stop = asyncio.Event()
    worker = asyncio.create_task(run_worker(settings, Plugins.load(settings), ["imports"], stop))
    try:
        code, out, err = await _cli(settings, str(SAMPLES / "contacts-import.csv"), "--wait")
        assert code == 0, err
        assert "completed: 25 rows, 25 created" in out
        code, out, err = await _cli(settings, str(SAMPLES / "contacts-import.csv"))
        assert code == 0 and re.fullmatch(r"[0-9a-f-]{36}\n", out), (out, err)
    finally:
        stop.set()
        await asyncio.wait_for(worker, 30)


async def test_cli_import_refuses_a_missing_or_empty_file(memory_settings, tmp_path):
    code, _, err = await _cli(memory_settings, str(tmp_path / "missing.csv"))
    assert code == 2 and "no such file" in err
    (tmp_path / "empty.csv").write_bytes(b"")
    code, _, err = await _cli(memory_settings, str(tmp_path / "empty.csv"))
    assert code == 1 and "empty" in err
    assert count(memory_settings, "import_jobs") == 0
