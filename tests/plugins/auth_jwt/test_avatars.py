"""Profile avatars (docs/api.md "Users"): real images made here in each format, their
metadata gone after upload, the size and pixel limits, non-images and bombs refused
with nothing stored, links, replacement and deletion removing the old file, on
local storage and on S3 (the moto server)."""

import asyncio
import io
import threading
import urllib.request
from pathlib import Path

import aiohttp
import pytest
from PIL import ExifTags, Image

from contacts_api.core.appkeys import RESOURCES
from contacts_api.plugins.auth_jwt import avatars as avatars_module
from tests.conftest import s3_env
from tests.plugins.auth_jwt import FAST, bearer, expect_error, register

ROUTE = "/api/v2/users/me/avatar"


def picture(fmt: str, size=(300, 200), mode="RGB", **save) -> bytes:
    """A real image file: a gradient, so that every format has real pixel data."""
    image = Image.new(mode, size)
    if mode == "RGB":
        image.putdata(
            [(x % 256, y % 256, (x + y) % 256) for y in range(size[1]) for x in range(size[0])]
        )
    out = io.BytesIO()
    image.save(out, format=fmt, **save)
    return out.getvalue()


def noisy_png(side: int) -> bytes:
    """A PNG that does not compress (random pixels): about 3 * side**2 bytes."""
    import os

    out = io.BytesIO()
    Image.frombytes("RGB", (side, side), os.urandom(3 * side * side)).save(out, format="PNG")
    return out.getvalue()


def jpeg_with_gps() -> bytes:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "SpyCam"
    exif[ExifTags.Base.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: (48.0, 51.0, 24.0),
        ExifTags.GPS.GPSLongitudeRef: "E",
        ExifTags.GPS.GPSLongitude: (2.0, 21.0, 3.0),
    }
    data = picture("JPEG", exif=exif.tobytes())
    gps = Image.open(io.BytesIO(data)).getexif().get_ifd(ExifTags.IFD.GPSInfo)
    assert gps[ExifTags.GPS.GPSLatitude] == (48.0, 51.0, 24.0)  # the input does carry it
    return data


async def upload(client, token: str, data: bytes, name="me.png", content_type="image/png"):
    form = aiohttp.FormData()
    form.add_field("file", data, filename=name, content_type=content_type)
    return await client.post(ROUTE, data=form, headers=bearer(token))


@pytest.fixture
async def api(make_client, settings_factory):
    return await make_client(settings_factory(**FAST))


def stored(client) -> list[str]:
    """The avatar files in local storage."""
    root = Path(client.app[RESOURCES].settings.storage.local_path) / "avatars"
    return sorted(p.name for p in root.glob("*")) if root.exists() else []


async def fetch(client, url: str) -> tuple[int, bytes, str]:
    response = await client.get(url[url.index("/api/") :])
    return response.status, await response.read(), response.headers.get("Content-Type", "")


@pytest.mark.parametrize(
    "fmt, save",
    [
        ("PNG", {}),
        ("JPEG", {"quality": 90}),
        ("WEBP", {"quality": 80}),
        ("GIF", {}),
    ],
)
async def test_each_format_becomes_a_square_png_thumbnail(api, fmt, save):
    user = await register(api, "ada@example.com")
    response = await upload(api, user["access_token"], picture(fmt, **save), name="x.bin")
    body = await response.json()
    assert response.status == 200, body
    assert body["email"] == "ada@example.com"
    url = body["profile"]["avatar_url"]
    assert url.startswith(str(api.make_url("/api/v2/users/avatars/")))
    status, data, content_type = await fetch(api, url)
    assert status == 200 and content_type == "image/png"
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG" and image.size == (256, 256)
    assert len(stored(api)) == 1
    me = await (await api.get("/api/v2/users/me", headers=bearer(user["access_token"]))).json()
    assert me["profile"]["avatar_url"].split("?")[0] == url.split("?")[0]


async def test_exif_and_gps_are_gone_after_upload(api):
    user = await register(api, "ada@example.com")
    response = await upload(api, user["access_token"], jpeg_with_gps(), "me.jpg", "image/jpeg")
    assert response.status == 200
    _, data, _ = await fetch(api, (await response.json())["profile"]["avatar_url"])
    (name,) = stored(api)
    on_disk = (Path(api.app[RESOURCES].settings.storage.local_path) / "avatars" / name).read_bytes()
    assert on_disk == data
    image = Image.open(io.BytesIO(data))
    assert dict(image.getexif()) == {} and image.getexif().get_ifd(ExifTags.IFD.GPSInfo) == {}
    assert "exif" not in image.info and not image.info
    for marker in (b"Exif", b"SpyCam", b"GPS", b"eXIf", b"tEXt", b"iTXt", b"zTXt"):
        assert marker not in data


async def test_a_size_setting_changes_the_thumbnail(make_client, settings_factory):
    api = await make_client(settings_factory(**FAST, CONTACTS_API__AUTH__AVATAR_SIZE_PX="64"))
    user = await register(api, "ada@example.com")
    body = await (await upload(api, user["access_token"], picture("PNG"))).json()
    _, data, _ = await fetch(api, body["profile"]["avatar_url"])
    assert Image.open(io.BytesIO(data)).size == (64, 64)


async def test_over_the_byte_limit_is_413_and_nothing_is_stored(make_client, settings_factory):
    api = await make_client(settings_factory(**FAST, CONTACTS_API__AUTH__AVATAR_MAX_BYTES="50000"))
    user = await register(api, "ada@example.com")
    data = noisy_png(200)  # ~120 kB
    assert len(data) > 50_000
    await expect_error(await upload(api, user["access_token"], data), 413, "PAYLOAD_TOO_LARGE")
    assert stored(api) == []
    me = await (await api.get("/api/v2/users/me", headers=bearer(user["access_token"]))).json()
    assert me["profile"]["avatar_url"] is None


async def test_a_huge_streamed_body_is_refused_before_it_is_read_whole(api):
    """Chunked (no Content-Length): the server counts the part's bytes and answers 413
    after ~2 MiB, while the client has sent only 3 MiB of a body that never ends."""
    user = await register(api, "ada@example.com")
    reader, writer = await asyncio.open_connection("127.0.0.1", api.port)
    head = (
        b'--b\r\nContent-Disposition: form-data; name="file"; filename="big.png"\r\n'
        b"Content-Type: image/png\r\n\r\n" + picture("PNG")[:16]
    )
    writer.write(
        b"POST " + ROUTE.encode() + b" HTTP/1.1\r\nHost: test\r\n"
        b"Authorization: Bearer " + user["access_token"].encode() + b"\r\n"
        b"Content-Type: multipart/form-data; boundary=b\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
    )
    chunk = head + b"\0" * (3 * 1024 * 1024)
    writer.write(b"%x\r\n" % len(chunk) + chunk + b"\r\n")  # and never the final chunk
    await writer.drain()
    status_line = await asyncio.wait_for(reader.readline(), 30)
    writer.close()
    assert b" 413 " in status_line, status_line
    assert stored(api) == []


async def test_a_declared_length_over_the_limit_is_413_at_once(api):
    user = await register(api, "ada@example.com")
    reader, writer = await asyncio.open_connection("127.0.0.1", api.port)
    writer.write(
        b"POST " + ROUTE.encode() + b" HTTP/1.1\r\nHost: test\r\n"
        b"Authorization: Bearer " + user["access_token"].encode() + b"\r\n"
        b"Content-Type: multipart/form-data; boundary=b\r\n"
        b"Content-Length: 500000000\r\n\r\n--b\r\n"
    )
    await writer.drain()
    status_line = await asyncio.wait_for(reader.readline(), 30)
    writer.close()
    assert b" 413 " in status_line, status_line


@pytest.mark.parametrize("size", [(4097, 8), (8, 4097)])
async def test_more_than_4096_pixels_a_side_is_422(api, size):
    user = await register(api, "ada@example.com")
    body = await expect_error(
        await upload(api, user["access_token"], picture("PNG", size=size, mode="L")),
        422,
        "VALIDATION_ERROR",
    )
    assert body["errors"][0]["loc"] == ["body", "file"] and "4096" in body["errors"][0]["msg"]
    assert stored(api) == []


async def test_4096_pixels_a_side_is_accepted(api):
    user = await register(api, "ada@example.com")
    response = await upload(api, user["access_token"], picture("PNG", size=(4096, 16), mode="L"))
    assert response.status == 200, await response.text()


async def test_a_decompression_bomb_is_refused_without_decoding(api, monkeypatch):
    user = await register(api, "ada@example.com")
    out = io.BytesIO()
    Image.new("1", (30000, 30000)).save(out, format="PNG")  # 900 Mpx in ~100 kB
    bomb = out.getvalue()
    assert len(bomb) < 200_000
    decoded = []
    real_load = Image.Image.load
    monkeypatch.setattr(Image.Image, "load", lambda self: decoded.append(self) or real_load(self))
    body = await expect_error(
        await upload(api, user["access_token"], bomb), 422, "VALIDATION_ERROR"
    )
    assert body["errors"][0]["loc"] == ["body", "file"]
    assert not [image for image in decoded if image.size == (30000, 30000)]
    assert stored(api) == []


def _truncated_png() -> bytes:
    return picture("PNG")[:-400]


def _png_cut_in_the_middle() -> bytes:
    data = picture("PNG")
    return data[: len(data) // 2] + data[-12:]  # still ends with IEND


NOT_IMAGES = {
    "text named .png": b"just some text, honestly a picture\n",
    "svg": b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b"<script>alert(1)</script></svg>",
    "html": b"<!doctype html><img src=x onerror=alert(1)>",
    "empty": b"",
    "png magic only": b"\x89PNG\r\n\x1a\n" + b"\0" * 64,
    "truncated png": _truncated_png(),
    "png cut in the middle": _png_cut_in_the_middle(),
    "png + html polyglot": picture("PNG") + b"<html><script>alert(1)</script></html>",
    "gif + js polyglot": picture("GIF") + b"*/=alert(1)//",
    "jpeg + zip polyglot": picture("JPEG") + b"PK\x03\x04" + b"\0" * 40,
    "webp + tail": picture("WEBP") + b"<?php echo 1; ?>",
}


@pytest.mark.parametrize("name", NOT_IMAGES)
async def test_non_images_are_422_naming_file_and_nothing_is_stored(api, name):
    user = await register(api, "ada@example.com")
    body = await expect_error(
        await upload(api, user["access_token"], NOT_IMAGES[name], "cat.png", "image/png"),
        422,
        "VALIDATION_ERROR",
    )
    assert [e["loc"] for e in body["errors"]] == [["body", "file"]]
    assert stored(api) == []


async def test_replacing_and_deleting_remove_the_old_file(api):
    user = await register(api, "ada@example.com")
    token = user["access_token"]
    first = await (await upload(api, token, picture("PNG"))).json()
    (first_file,) = stored(api)
    second = await (await upload(api, token, picture("JPEG"), "b.jpg", "image/jpeg")).json()
    (second_file,) = stored(api)
    assert second_file != first_file  # a new random name; the old file is gone
    old_status, _, _ = await fetch(api, first["profile"]["avatar_url"])
    assert old_status == 404
    assert (await fetch(api, second["profile"]["avatar_url"]))[0] == 200

    response = await api.delete(ROUTE, headers=bearer(token))
    assert response.status == 204
    assert stored(api) == []
    me = await (await api.get("/api/v2/users/me", headers=bearer(token))).json()
    assert me["profile"]["avatar_url"] is None
    assert (await api.delete(ROUTE + "/", headers=bearer(token))).status == 204  # idempotent


async def test_an_external_avatar_url_replaces_the_upload(api):
    user = await register(api, "ada@example.com")
    token = user["access_token"]
    await upload(api, token, picture("PNG"))
    assert len(stored(api)) == 1
    response = await api.patch(
        "/api/v2/users/me/profile",
        json={"avatar_url": "https://example.com/ada.png"},
        headers=bearer(token),
    )
    assert (await response.json())["avatar_url"] == "https://example.com/ada.png"
    assert stored(api) == []


async def test_links_are_signed_and_expire(make_client, settings_factory):
    api = await make_client(settings_factory(**FAST, CONTACTS_API__AUTH__AVATAR_LINK_TTL_S="1"))
    user = await register(api, "ada@example.com")
    url = (await (await upload(api, user["access_token"], picture("PNG"))).json())["profile"][
        "avatar_url"
    ]
    path = url[url.index("/api/") :]
    assert (await api.get(path)).status == 200  # the link is the credential
    base, token = path.split("?token=")
    for bad in (
        base + "?token=" + token[:-3] + "AAA",
        base + "?token=",
        base,
        base.replace(base.rsplit("/", 1)[1], "other.png") + "?token=" + token,
    ):
        await expect_error(await api.get(bad), 403, "FORBIDDEN")
    await asyncio.sleep(2.1)
    await expect_error(await api.get(path), 403, "FORBIDDEN")
    fresh = await (await api.get("/api/v2/users/me", headers=bearer(user["access_token"]))).json()
    assert (await fetch(api, fresh["profile"]["avatar_url"]))[0] == 200  # a fresh link per read


async def test_anonymous_and_malformed_uploads(api):
    await expect_error(await api.post(ROUTE, data=b"x"), 401, "NOT_AUTHENTICATED")
    user = await register(api, "ada@example.com")
    headers = bearer(user["access_token"])
    await expect_error(
        await api.post(ROUTE, json={"file": "x"}, headers=headers), 400, "BAD_REQUEST"
    )
    form = aiohttp.FormData()
    form.add_field("image", picture("PNG"), filename="a.png", content_type="image/png")
    await expect_error(await api.post(ROUTE, data=form, headers=headers), 400, "BAD_REQUEST")


async def test_decoding_runs_in_a_thread_not_on_the_event_loop(api, monkeypatch):
    threads = []
    real = avatars_module.make_thumbnail

    def recording(*args):
        threads.append(threading.current_thread())
        return real(*args)

    monkeypatch.setattr(avatars_module, "make_thumbnail", recording)
    user = await register(api, "ada@example.com")
    assert (await upload(api, user["access_token"], picture("PNG"))).status == 200
    assert threads and threads[0] is not threading.main_thread()


async def test_s3_avatars_are_presigned_and_replaced(
    make_client, settings_factory, s3_endpoint, s3_bucket
):
    api = await make_client(settings_factory(**FAST, **s3_env(s3_endpoint, s3_bucket)))
    storage = api.app[RESOURCES].storage

    async def keys() -> list[str]:
        listing = await storage.client.list_objects_v2(Bucket=s3_bucket)
        return [item["Key"] for item in listing.get("Contents", [])]

    user = await register(api, "ada@example.com")
    token = user["access_token"]
    first = await (await upload(api, token, jpeg_with_gps(), "a.jpg", "image/jpeg")).json()
    url = first["profile"]["avatar_url"]
    assert url.startswith(s3_endpoint) and "Signature" in url
    with urllib.request.urlopen(url, timeout=10) as response:
        image = Image.open(io.BytesIO(response.read()))
    assert image.size == (256, 256) and dict(image.getexif()) == {}
    (first_key,) = await keys()
    assert first_key.startswith("avatars/")
    await upload(api, token, picture("WEBP"), "b.webp", "image/webp")
    (second_key,) = await keys()
    assert second_key != first_key
    assert (await api.delete(ROUTE, headers=bearer(token))).status == 204
    assert await keys() == []
    await expect_error(await upload(api, token, b"GIF89a not really"), 422, "VALIDATION_ERROR")
    assert await keys() == []
