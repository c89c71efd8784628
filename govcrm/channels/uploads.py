"""Checking uploaded files by their content, and stripping what they must not carry.

Rules:
- The type is decided from the bytes (Pillow opens and verifies images), never from the
  file name or the declared content type.
- Images are limited in bytes (GOVCRM_MAX_UPLOAD_BYTES) and pixels, and re-encoded without
  their metadata: EXIF (GPS position, device), XMP and comments are gone from what is stored.
- Other kinds (PDF, TIFF faxes) are accepted only where a channel allows them: a PDF by its
  header and its end-of-file marker, a TIFF when Pillow can read it.
- One request or message brings at most `MAX_FILES` files (the portal's, Open311's and a mail's
  further files are refused), and Django keeps at most DATA_UPLOAD_MAX_NUMBER_FILES parts.
- A request body larger than `max_request_bytes()` (MAX_FILES uploads plus 1 MB of fields) is
  refused with 413 before it is read (`RequestBodyLimitMiddleware`), so an upload of gigabytes
  never reaches the disk; the reverse proxy should have the same limit (client_max_body_size).
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

from govcrm.common.errors import ValidationFailed

IMAGE_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "GIF": "image/gif"}
MAX_PIXELS = 40_000_000
MAX_FILES = 5


@dataclass(frozen=True)
class CleanFile:
    name: str
    content_type: str
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def _limit(data: bytes, field: str) -> None:
    if len(data) > settings.GOVCRM_MAX_UPLOAD_BYTES:
        msg = _("The file is larger than %(mb)d MB.") % {"mb": settings.GOVCRM_MAX_UPLOAD_BYTES // 1_000_000}
        raise ValidationFailed(msg, details={field: msg})


def clean_image(data: bytes, name: str = "photo", *, field: str = "photo") -> CleanFile:
    """An image re-encoded without metadata, or ValidationFailed if the bytes are not an image."""
    _limit(data, field)
    try:
        with Image.open(io.BytesIO(data)) as probe:
            probe.verify()
        image = Image.open(io.BytesIO(data))
        fmt = image.format
        if fmt not in IMAGE_FORMATS:
            raise UnidentifiedImageError(fmt)
        if image.width * image.height > MAX_PIXELS:
            raise ValidationFailed(_("The image is too large."), details={field: _("The image is too large.")})
        image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        msg = _("This file is not a picture (JPEG, PNG, WebP or GIF).")
        raise ValidationFailed(msg, details={field: msg}) from None
    out = io.BytesIO()
    if fmt == "JPEG":
        clean = image.convert("RGB") if image.mode not in ("RGB", "L") else image
        clean.save(out, "JPEG", quality=90, exif=b"")
    elif fmt == "GIF":
        image.save(out, "GIF")
    else:
        # Saving without passing exif/pnginfo drops the metadata chunks.
        image.save(out, fmt)
    stem = (name.rsplit(".", 1)[0] or "photo")[:100]
    ext = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "gif"}[fmt]
    return CleanFile(name=f"{stem}.{ext}", content_type=IMAGE_FORMATS[fmt], data=out.getvalue())


DOCUMENT_MAGIC = {
    b"%PDF-": "application/pdf",
    b"II*\x00": "image/tiff",
    b"MM\x00*": "image/tiff",
}


def clean_document(data: bytes, name: str, *, field: str = "attachment") -> CleanFile:
    """Images are cleaned as above; PDF and TIFF are checked by content; others refused."""
    _limit(data, field)
    for magic, ctype in DOCUMENT_MAGIC.items():
        if data.startswith(magic):
            if not _document_readable(data, ctype):
                msg = _("This file is damaged or not what it claims to be.")
                raise ValidationFailed(msg, details={field: msg})
            return CleanFile(name=name[:255] or "document", content_type=ctype, data=data)
    return clean_image(data, name, field=field)


def _document_readable(data: bytes, ctype: str) -> bool:
    if ctype == "application/pdf":
        return b"%%EOF" in data[-2048:]  # a complete file ends with its trailer
    try:
        with Image.open(io.BytesIO(data)) as probe:
            probe.verify()
            return probe.format == "TIFF"
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return False


def max_request_bytes() -> int:
    return MAX_FILES * settings.GOVCRM_MAX_UPLOAD_BYTES + 1_000_000


class RequestBodyLimitMiddleware:
    """413 for a body announced larger than `max_request_bytes()`, before anything reads it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > max_request_bytes():
            from django.http import HttpResponse

            msg = _("The request is too large: at most %(mb)d MB.") % {"mb": max_request_bytes() // 1_000_000}
            return HttpResponse(msg, status=413, content_type="text/plain; charset=utf-8")
        return self.get_response(request)
