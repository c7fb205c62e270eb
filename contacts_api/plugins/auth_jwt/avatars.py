"""Profile avatars: the upload read with its size limit, the image checked and
re-encoded off the event loop, the thumbnail kept in the storage backend, and the
links to it.

- Reading stops as soon as the ``file`` part passes ``auth.avatar_max_bytes``
  (413): a huge body is never read whole, and nothing is stored.
- :func:`images.make_thumbnail` runs in a thread, at most
  ``auth.avatar_decode_concurrency`` at once per process, so decoding never holds
  the event loop and a burst of uploads cannot take every core.
- The thumbnail is stored as ``avatars/<random>.png``; a profile keeps that key,
  and each read of the profile gets a fresh link: S3's presigned GET URL, or with
  local storage a signed, expiring link to ``GET /api/v2/users/avatars/{name}``,
  served by the API (the link is the credential, so an ``<img>`` tag works).
"""

import asyncio
import secrets
import time
from typing import Any

from aiohttp import BodyPartReader, web

from contacts_api.core.errors import BadRequest, PayloadTooLarge, ValidationError
from contacts_api.core.resources.storage import Storage
from contacts_api.core.settings import Settings
from contacts_api.core.signing import BadSignature, Signer
from contacts_api.plugins.auth_jwt.images import ImageRefused, make_thumbnail

__all__ = ["AVATAR_LINK", "Avatars", "read_avatar_upload"]

AVATAR_LINK = "auth_jwt.avatar"  # the signing purpose of local avatar links
FILE_ROUTE = "/api/v2/users/avatars/{name}"
CONTENT_TYPE = "image/png"
_READ_CHUNK = 64 * 1024
# Multipart framing around the file (boundaries, part headers): a Content-Length
# above the limit plus this is refused before reading anything.
_MULTIPART_OVERHEAD = 16 * 1024


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"The avatar is larger than the {limit:,}-byte limit.")


async def read_avatar_upload(request: web.Request, max_bytes: int) -> bytes:
    """The bytes of the multipart ``file`` field: 400 without one, 413 as soon as it
    passes ``max_bytes`` (the rest of the body is not read)."""
    if not request.content_type.startswith("multipart/"):
        raise BadRequest("Send the image as multipart/form-data with a `file` field.")
    if request.content_length is not None and (
        request.content_length > max_bytes + _MULTIPART_OVERHEAD
    ):
        raise _too_large(max_bytes)
    try:
        reader = await request.multipart()
        async for part in reader:
            if isinstance(part, BodyPartReader) and part.name == "file":
                data = bytearray()
                while chunk := await part.read_chunk(_READ_CHUNK):
                    data += chunk
                    if len(data) > max_bytes:
                        raise _too_large(max_bytes)
                return bytes(data)
            await part.release()
    except (ValueError, AssertionError, KeyError) as error:
        raise BadRequest(f"Malformed multipart body: {error}") from None
    raise BadRequest("The multipart body has no `file` field.")


class Avatars:
    """Thumbnails and links of one process (``origin``: this request's API origin,
    for local links; see :meth:`for_origin`)."""

    def __init__(
        self,
        storage: Storage,
        settings: Settings,
        origin: str = "",
        shared: dict[str, Any] | None = None,
    ):
        self.storage, self.auth = storage, settings.auth
        self.base_url = settings.server.base_url.rstrip("/")
        self.origin = origin.rstrip("/")
        self._settings = settings
        # One per process, shared by the per-request copies: the decode semaphore,
        # and the link signer (made on first use: the CLI never signs a link, and a
        # Signer without any secret configured logs a warning).
        self._shared = shared or {
            "semaphore": asyncio.Semaphore(self.auth.avatar_decode_concurrency),
            "signer": None,
        }

    @property
    def semaphore(self) -> asyncio.Semaphore:
        return self._shared["semaphore"]

    @property
    def signer(self) -> Signer:
        if self._shared["signer"] is None:
            self._shared["signer"] = Signer(self._settings)
        return self._shared["signer"]

    def for_origin(self, origin: str) -> "Avatars":
        """The same avatars, making local links on ``origin`` (``server.base_url``
        wins when the operator set one)."""
        return Avatars(self.storage, self._settings, origin, self._shared)

    async def thumbnail(self, data: bytes) -> bytes:
        """The re-encoded square PNG; 422 naming ``file`` when ``data`` is refused."""
        auth = self.auth
        async with self.semaphore:
            try:
                return await asyncio.to_thread(
                    make_thumbnail, data, auth.avatar_size_px, auth.avatar_max_side_px
                )
            except ImageRefused as refused:
                raise ValidationError.single(("body", "file"), str(refused)) from None

    async def store(self, thumbnail: bytes) -> str:
        """Store a thumbnail under a new random key; return the key."""
        key = f"avatars/{secrets.token_urlsafe(24)}.png"

        async def chunks():
            yield thumbnail

        await self.storage.write(key, chunks(), content_type=CONTENT_TYPE)
        return key

    async def delete(self, key: str | None) -> None:
        if key:
            await self.storage.delete(key)

    async def url(self, key: str) -> str:
        """A fresh link to the stored avatar ``key``, valid ``auth.avatar_link_ttl_s``."""
        ttl = self.auth.avatar_link_ttl_s
        name = key.rsplit("/", 1)[-1]
        presigned = await self.storage.presigned_url(key, ttl, name)
        if presigned is not None:
            return presigned
        token = self.signer.sign({"k": key, "exp": int(time.time()) + ttl}, AVATAR_LINK)
        return f"{self.base_url or self.origin}{FILE_ROUTE.format(name=name)}?token={token}"

    def key_of_link(self, name: str, token: str) -> str | None:
        """The storage key a local link grants, or None when it is forged, altered,
        expired or made for another file."""
        try:
            grant: Any = self.signer.unsign(token, AVATAR_LINK)
        except BadSignature:
            return None
        if not isinstance(grant, dict) or not isinstance(grant.get("k"), str):
            return None
        exp = grant.get("exp")
        if not isinstance(exp, int) or exp < time.time():
            return None
        return grant["k"] if grant["k"] == f"avatars/{name}" else None
