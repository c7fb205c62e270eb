"""Storage over the S3 protocol (moto server over HTTP) and on local disk:
streaming writes are all-or-nothing."""

import urllib.request
from pathlib import Path

import pytest

from contacts_api.core.resources.storage import S3_PART, StorageLimitExceeded, open_storage
from contacts_api.core.settings import load_settings
from tests.conftest import s3_env

PAYLOAD = bytes(range(256)) * 4096 * 10  # 10 MiB: large enough for a multipart upload


async def _chunks(data: bytes, size: int = 1 << 20, fail_after: int | None = None):
    for offset in range(0, len(data), size):
        if fail_after is not None and offset >= fail_after:
            raise RuntimeError("client went away")
        yield data[offset : offset + size]


@pytest.fixture(params=["local", "s3"])
async def storage(request, tmp_path):
    if request.param == "local":
        settings = load_settings(environ={"CONTACTS_API__STORAGE__LOCAL_PATH": str(tmp_path)})
    else:
        endpoint = request.getfixturevalue("s3_endpoint")
        bucket = request.getfixturevalue("s3_bucket")
        settings = load_settings(environ=s3_env(endpoint, bucket))
    async with open_storage(settings.storage, Path(tmp_path)) as opened:
        yield opened


async def _read(storage, key):
    return b"".join([chunk async for chunk in storage.read(key)])


async def test_write_read_exists_delete_round_trip(storage):
    assert await storage.write("a/b.csv", _chunks(PAYLOAD)) == len(PAYLOAD)
    assert await storage.exists("a/b.csv")
    assert await _read(storage, "a/b.csv") == PAYLOAD
    await storage.delete("a/b.csv")
    assert not await storage.exists("a/b.csv")
    await storage.check()


async def test_small_write(storage):
    await storage.write("small.txt", _chunks(b"hello"))
    assert await _read(storage, "small.txt") == b"hello"


async def test_write_over_the_limit_stores_nothing(storage):
    with pytest.raises(StorageLimitExceeded):
        await storage.write("big.bin", _chunks(PAYLOAD), max_bytes=len(PAYLOAD) - 1)
    assert not await storage.exists("big.bin")


async def test_failed_stream_leaves_no_object_nor_upload(storage):
    with pytest.raises(RuntimeError, match="went away"):
        await storage.write("broken.bin", _chunks(PAYLOAD, fail_after=S3_PART + (1 << 20)))
    assert not await storage.exists("broken.bin")
    if storage.kind == "s3":
        uploads = await storage.client.list_multipart_uploads(Bucket=storage.bucket)
        assert uploads.get("Uploads", []) == []
    else:
        assert list(storage.root.rglob("*")) == []


async def test_presigned_url_downloads_the_object(storage):
    await storage.write("export.csv", _chunks(b"uuid,email\n"))
    url = await storage.presigned_url("export.csv", 60, "export.csv")
    if storage.kind == "local":
        assert url is None  # the API serves local files itself, with signed links
        return
    with urllib.request.urlopen(url, timeout=5) as response:
        assert response.read() == b"uuid,email\n"


def test_local_keys_cannot_escape_the_root(tmp_path):
    from contacts_api.core.resources.storage import LocalStorage

    with pytest.raises(ValueError, match="escapes"):
        LocalStorage(tmp_path).path("../outside.txt")


async def test_check_fails_for_a_missing_bucket(s3_endpoint, tmp_path):
    settings = load_settings(environ=s3_env(s3_endpoint, "no-such-bucket"))
    async with open_storage(settings.storage, tmp_path) as storage:
        with pytest.raises(Exception, match="404|Not ?Found|NoSuchBucket"):
            await storage.check()


async def test_local_files_are_private(tmp_path):
    """Uploads and exports hold personal data: 0600 files in 0700 directories."""
    from contacts_api.core.resources.storage import LocalStorage

    root = tmp_path / "new" / "files"
    storage = LocalStorage(root)

    async def chunks():
        yield b"email\nada@example.com\n"

    await storage.write("exports/2026/one.csv", chunks())
    assert (root / "exports/2026/one.csv").stat().st_mode & 0o777 == 0o600
    for directory in (root, root / "exports", root / "exports/2026"):
        assert directory.stat().st_mode & 0o777 == 0o700, directory
