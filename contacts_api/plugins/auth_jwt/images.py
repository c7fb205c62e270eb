"""Avatar images: recognize an upload by its content and re-encode it (Pillow).

:func:`make_thumbnail` is CPU work: callers run it in a thread (``avatars``), never on
the event loop. It accepts PNG, JPEG, WebP and GIF only, recognized by their magic
bytes (never by the file name or the declared type), and refuses:

- anything else (text, SVG, HTML...), a truncated or corrupt image (Pillow's
  ``verify`` and a full decode), and a polyglot: bytes after the image's own end
  (a PNG's ``IEND``, a GIF's trailer, a JPEG's ``EOI``, a WebP's RIFF size) are
  another file riding along;
- an image wider or taller than ``max_side`` pixels, read from its header before
  anything is decoded (a "decompression bomb" of a few KiB that would expand to
  gigabytes of pixels is refused without decoding it; Pillow's own bomb check,
  ``MAX_IMAGE_PIXELS``, stays on as a second guard).

The result is a new square PNG (centre crop, ``size`` pixels, the EXIF orientation
applied) made from the decoded pixels alone: EXIF, GPS positions, XMP, ICC profiles,
comments and every other metadata chunk of the upload are gone.
"""

import io
import struct
import warnings

from PIL import Image, ImageOps, UnidentifiedImageError

__all__ = [
    "FORMATS",
    "ImageRefused",
    "ImageTooLarge",
    "NotAnImage",
    "make_thumbnail",
    "sniff_format",
]

# Pillow's format names, by their files' magic bytes.
FORMATS = ("PNG", "JPEG", "WEBP", "GIF")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_PNG_END = b"IEND\xaeB`\x82"  # the IEND chunk's type and CRC: always the last 8 bytes
# Pillow refuses to open more pixels than twice this (DecompressionBombError) and warns
# above it; the header check below refuses far less than this already.
Image.MAX_IMAGE_PIXELS = 4096 * 4096


class ImageRefused(ValueError):
    """The upload is not an acceptable image; the message says why (for the 422)."""


class NotAnImage(ImageRefused):
    pass


class ImageTooLarge(ImageRefused):
    pass


def sniff_format(data: bytes) -> str | None:
    """The format the bytes' magic announces (one of :data:`FORMATS`), or None."""
    if data.startswith(PNG_MAGIC):
        return "PNG"
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return None


def _ends_where_it_should(data: bytes, kind: str) -> bool:
    """Whether the file ends where its own format says it does (no polyglot tail)."""
    if kind == "PNG":
        return data.endswith(_PNG_END)
    if kind == "GIF":
        return data.endswith(b";")
    if kind == "WEBP":
        (riff_size,) = struct.unpack_from("<I", data, 4)
        # RIFF chunks are padded to an even size: one trailing pad byte is allowed.
        return len(data) - 8 in (riff_size, riff_size + 1)
    # JPEG: the EOI marker, allowing the zero padding some encoders write after it.
    return data.rstrip(b"\x00").endswith(b"\xff\xd9")


def _open(data: bytes, kind: str) -> Image.Image:
    return Image.open(io.BytesIO(data), formats=[kind])


def make_thumbnail(data: bytes, size: int = 256, max_side: int = 4096) -> bytes:
    """A square PNG thumbnail of ``size`` pixels made from the image ``data``; raise
    :class:`NotAnImage` or :class:`ImageTooLarge` (see the module's docstring)."""
    kind = sniff_format(data)
    if kind is None:
        raise NotAnImage("not a PNG, JPEG, WebP or GIF image (judged by its content)")
    if not _ends_where_it_should(data, kind):
        raise NotAnImage(f"not a clean {kind} file: it is truncated or has data after its end")
    try:
        with warnings.catch_warnings():
            # Pillow's DecompressionBombWarning (more than MAX_IMAGE_PIXELS) refuses too.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with _open(data, kind) as probe:
                width, height = probe.size  # from the header: nothing decoded yet
                if width > max_side or height > max_side:
                    raise ImageTooLarge(
                        f"the image is {width}x{height} pixels; at most "
                        f"{max_side}x{max_side} are accepted"
                    )
                probe.verify()
            with _open(data, kind) as image:
                image.load()  # the whole first frame: a truncated one raises
                return _square_png(image, size)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageTooLarge(
            f"the image has too many pixels; at most {max_side}x{max_side} are accepted"
        ) from None
    except ImageRefused:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, struct.error):
        raise NotAnImage(f"the {kind} image is damaged or incomplete") from None
    except Exception:  # noqa: BLE001 - a decoder's odd error on hostile bytes is still a 422
        raise NotAnImage(f"the {kind} image could not be decoded") from None


def _square_png(image: Image.Image, size: int) -> bytes:
    try:
        image = ImageOps.exif_transpose(image)  # phones store rotation in EXIF
    except (ValueError, TypeError, KeyError, struct.error, SyntaxError):
        pass  # a broken EXIF block: keep the pixels as stored
    mode = (
        "RGBA" if image.mode in ("RGBA", "LA", "PA", "P") or "transparency" in image.info else "RGB"
    )
    pixels = ImageOps.fit(image.convert(mode), (size, size), Image.Resampling.LANCZOS)
    clean = Image.new(mode, pixels.size)  # a fresh image: no info, no EXIF, no ICC
    clean.paste(pixels)
    out = io.BytesIO()
    clean.save(out, format="PNG", optimize=True)
    return out.getvalue()
