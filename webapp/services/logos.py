"""Organization logos: what people upload is checked by its content, re-encoded and stored
under a random name, so no uploaded byte (metadata, scripts, polyglots) is ever served."""

from __future__ import annotations

import io
import os
import re
import secrets
from pathlib import Path

from PIL import Image, ImageOps

from .errors import DomainError

ACCEPTED_FORMATS = ("PNG", "JPEG")
MAX_SIDE = 512
# Decoding cost grows with the pixel count, not the file size: a small file may declare a
# huge canvas (a decompression bomb), so the declared size is checked before decoding.
MAX_SOURCE_PIXELS = 40_000_000
CONTENT_TYPES = {".png": "image/png", ".jpg": "image/jpeg"}
_STORED_NAME = re.compile(r"[0-9a-f]{32}\.(png|jpg)")


class LogoRefused(DomainError):
    pass


def too_large(max_bytes: int) -> LogoRefused:
    return LogoRefused("logo.too_large", limit=max_bytes // (1024 * 1024))


def too_large_message(max_bytes: int) -> str:
    return too_large(max_bytes).message


def is_stored_name(filename: str) -> bool:
    """Only names this module made are ever opened or removed (no path tricks)."""
    return bool(_STORED_NAME.fullmatch(filename or ""))


def content_type(filename: str) -> str:
    return CONTENT_TYPES[os.path.splitext(filename)[1]]


def reencode(data: bytes, *, max_bytes: int) -> tuple[bytes, str]:
    """A clean copy of an uploaded PNG or JPEG: only its pixels, at most MAX_SIDE pixels a
    side, as PNG when it has transparency and in its own format otherwise. Returns the
    bytes and the file extension."""
    if len(data) > max_bytes:
        raise too_large(max_bytes)
    try:
        with Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS) as source:
            width, height = source.size
            if width * height > MAX_SOURCE_PIXELS:
                raise Image.DecompressionBombError(f"{width}x{height}")
            source_format = source.format
            # A phone photo is stored sideways with an orientation tag; apply it before
            # the metadata goes.
            image = ImageOps.exif_transpose(source)
            image.load()
    # Pillow itself refuses, while opening, a canvas twice its own limit: the same refusal.
    except Image.DecompressionBombError:
        raise LogoRefused("logo.too_many_pixels",
                          limit=MAX_SOURCE_PIXELS // 1_000_000) from None
    # Another type fails while opening (UnidentifiedImageError), a truncated or corrupt
    # file while decoding (OSError); Pillow's parsers raise still other errors on hostile
    # metadata (struct.error, TypeError from an EXIF tag of the wrong type). Whatever fails
    # here, the file could not be read: the sender gets the reason, never a 500.
    except Exception:
        raise LogoRefused("logo.unreadable") from None

    has_alpha = image.mode in ("RGBA", "LA", "PA") or (
        image.mode == "P" and "transparency" in image.info
    )
    image = image.convert("RGBA" if has_alpha else "RGB")
    image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    # A fresh image carries no info dict: no EXIF, ICC profile, text chunks or comments.
    clean = Image.new(image.mode, image.size)
    clean.paste(image)
    out = io.BytesIO()
    if has_alpha or source_format == "PNG":
        clean.save(out, format="PNG", optimize=True)
        return out.getvalue(), ".png"
    clean.save(out, format="JPEG", quality=88, optimize=True)
    return out.getvalue(), ".jpg"


def store(data: bytes, folder: str, *, max_bytes: int) -> str:
    """Re-encode `data` and write it under a random name in `folder`; returns the name."""
    encoded, extension = reencode(data, max_bytes=max_bytes)
    directory = Path(folder)
    directory.mkdir(parents=True, exist_ok=True)
    filename = secrets.token_hex(16) + extension
    partial = directory / f".{filename}.part"
    partial.write_bytes(encoded)
    # Readers never see a half-written file.
    os.replace(partial, directory / filename)
    return filename


def remove(folder: str, filename: str) -> None:
    if is_stored_name(filename):
        (Path(folder) / filename).unlink(missing_ok=True)
