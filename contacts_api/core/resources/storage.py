"""File storage for uploads and exports: S3 (aiobotocore) or a local directory.

Both stream: writes take an async iterable of byte chunks and never hold a
whole file; a write that fails part-way leaves no object behind (S3 multipart
uploads are aborted, local temporary files removed).
"""

import asyncio
import os
import uuid
from collections.abc import AsyncIterable, AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any, Protocol

from contacts_api.core.settings import StorageSettings

__all__ = ["LocalStorage", "S3Storage", "Storage", "StorageLimitExceeded", "open_storage"]

CHUNK = 1 << 20
S3_PART = 8 << 20  # S3 parts must be >= 5 MiB except the last


class StorageLimitExceeded(Exception):
    """A write went over its ``max_bytes``; nothing was stored."""


class Storage(Protocol):
    kind: str

    async def write(
        self,
        key: str,
        chunks: AsyncIterable[bytes],
        *,
        max_bytes: int | None = None,
        content_type: str = "application/octet-stream",
    ) -> int:
        """Store the chunks under ``key``; return the size. All or nothing."""

    def read(self, key: str, chunk_size: int = CHUNK) -> AsyncIterator[bytes]:
        """Stream an object's bytes."""

    async def delete(self, key: str) -> None:
        """Remove an object (no error when absent)."""

    async def exists(self, key: str) -> bool:
        """Whether an object is stored under ``key``."""

    async def check(self) -> None:
        """Raise when the storage cannot be used right now (for ``/ready``)."""

    async def presigned_url(self, key: str, expires_s: int, filename: str) -> str | None:
        """A time-limited GET URL (S3), or None when the API must serve the file."""


async def _limited(chunks: AsyncIterable[bytes], max_bytes: int | None) -> AsyncIterator[bytes]:
    total = 0
    async for chunk in chunks:
        total += len(chunk)
        if max_bytes is not None and total > max_bytes:
            raise StorageLimitExceeded(f"more than {max_bytes} bytes")
        yield chunk


# Stored files hold personal data: readable by the server's user only.
FILE_MODE, DIR_MODE = 0o600, 0o700


def _private_dirs(path: Path) -> None:
    """``mkdir -p`` where every directory it creates is ``DIR_MODE`` (``Path.mkdir``
    gives missing parents the default mode)."""
    missing = []
    while not path.exists():
        missing.append(path)
        path = path.parent
    for directory in reversed(missing):
        directory.mkdir(mode=DIR_MODE, exist_ok=True)


class LocalStorage:
    """Files under ``root``: 0600 in 0700 directories (made so when created here)."""

    kind = "local"

    def __init__(self, root: Path):
        self.root = root
        _private_dirs(self.root)

    def path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise ValueError(f"storage key escapes the storage root: {key!r}")
        return path

    async def write(self, key, chunks, *, max_bytes=None, content_type="") -> int:
        path = self.path(key)
        _private_dirs(path.parent)
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.part")
        size = 0
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
            with os.fdopen(fd, "wb") as out:
                async for chunk in _limited(chunks, max_bytes):
                    await asyncio.to_thread(out.write, chunk)
                    size += len(chunk)
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return size

    async def read(self, key, chunk_size=CHUNK):
        with open(self.path(key), "rb") as src:
            while chunk := await asyncio.to_thread(src.read, chunk_size):
                yield chunk

    async def delete(self, key):
        self.path(key).unlink(missing_ok=True)

    async def exists(self, key):
        return self.path(key).is_file()

    async def check(self):
        probe = self.root / f".ready-{uuid.uuid4().hex}"
        probe.write_bytes(b"ok")
        probe.unlink()

    async def presigned_url(self, key, expires_s, filename):
        return None


class S3Storage:
    kind = "s3"

    def __init__(self, client: Any, bucket: str, prefix: str):
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""

    def _key(self, key: str) -> str:
        return self.prefix + key

    async def write(self, key, chunks, *, max_bytes=None, content_type="application/octet-stream"):
        key = self._key(key)
        buffer, size, parts, upload_id = bytearray(), 0, [], None
        try:
            async for chunk in _limited(chunks, max_bytes):
                buffer += chunk
                size += len(chunk)
                if len(buffer) >= S3_PART:
                    if upload_id is None:
                        upload_id = (
                            await self.client.create_multipart_upload(
                                Bucket=self.bucket, Key=key, ContentType=content_type
                            )
                        )["UploadId"]
                    parts.append(await self._upload_part(key, upload_id, len(parts) + 1, buffer))
                    buffer = bytearray()
            if upload_id is None:
                await self.client.put_object(
                    Bucket=self.bucket, Key=key, Body=bytes(buffer), ContentType=content_type
                )
                return size
            if buffer:
                parts.append(await self._upload_part(key, upload_id, len(parts) + 1, buffer))
            await self.client.complete_multipart_upload(
                Bucket=self.bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}
            )
            return size
        except BaseException:
            if upload_id is not None:
                await asyncio.shield(
                    self.client.abort_multipart_upload(
                        Bucket=self.bucket, Key=key, UploadId=upload_id
                    )
                )
            raise

    async def _upload_part(self, key, upload_id, number, data) -> dict:
        answer = await self.client.upload_part(
            Bucket=self.bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=bytes(data)
        )
        return {"ETag": answer["ETag"], "PartNumber": number}

    async def read(self, key, chunk_size=CHUNK):
        answer = await self.client.get_object(Bucket=self.bucket, Key=self._key(key))
        async with answer["Body"] as body:
            while chunk := await body.read(chunk_size):
                yield chunk

    async def delete(self, key):
        await self.client.delete_object(Bucket=self.bucket, Key=self._key(key))

    async def exists(self, key):
        try:
            await self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except self.client.exceptions.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    async def check(self):
        await self.client.head_bucket(Bucket=self.bucket)

    async def presigned_url(self, key, expires_s, filename):
        return await self.client.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self.bucket,
                "Key": self._key(key),
                "ResponseContentDisposition": f'attachment; filename="{filename}"',
            },
            ExpiresIn=expires_s,
        )


@asynccontextmanager
async def open_storage(settings: StorageSettings, data_dir: Path) -> AsyncIterator[Storage]:
    if not settings.uses_s3:
        yield LocalStorage(Path(settings.local_path or data_dir / "files").expanduser())
        return
    from aiobotocore.config import AioConfig
    from aiobotocore.session import get_session

    async with AsyncExitStack() as stack:
        client = await stack.enter_async_context(
            get_session().create_client(
                "s3",
                region_name=settings.s3_region,
                endpoint_url=settings.s3_endpoint_url or None,
                aws_access_key_id=settings.s3_access_key_id.reveal() or None,
                aws_secret_access_key=settings.s3_secret_access_key.reveal() or None,
                config=AioConfig(
                    s3={"addressing_style": settings.s3_addressing_style},
                    retries={"max_attempts": 3, "mode": "standard"},
                    connect_timeout=5,
                    read_timeout=60,
                ),
            )
        )
        yield S3Storage(client, settings.s3_bucket, settings.s3_prefix)
