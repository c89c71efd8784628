"""A fax (from a fax-to-mail gateway or uploaded in the console) → a draft case for an agent to check.

Rules:
- The file must be a fax: TIFF, PDF, PNG or JPEG, recognised by its bytes (`clean_document`);
  it is kept on the interaction, as received (TIFF, PDF) or re-encoded without metadata (pictures).
- Its text is read with OCR (`ocr.py`); the case opens "registered" in the unclassified category
  with the OCR text as description, for an agent to check against the image and reclassify.
  When OCR finds nothing or cannot run, the case still opens with a note saying so: a fax is
  never lost because OCR failed.
- Idempotent on `external_id` (the gateway mail's Message-ID and the attachment's position, or
  the file's SHA-256 for an upload): a repeated delivery creates nothing and is not read again.
- The sending number, when the gateway gives one that is a valid phone number, identifies the
  citizen; it is kept as given in the interaction's data either way.
"""

from __future__ import annotations

import hashlib
import logging
import re

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from govcrm.channels.intake import IntakeMessage, IntakeResult, intake_receive
from govcrm.channels.models import Interaction
from govcrm.channels.uploads import clean_document
from govcrm.citizens.actions import CitizenInput, citizen_input_clean
from govcrm.common.errors import ValidationFailed

from .ocr import LANG, OcrFailed, OcrUnavailable, ocr_document

logger = logging.getLogger(__name__)

CHANNEL = "fax"
FAX_MAGIC = (b"II*\x00", b"MM\x00*", b"%PDF-", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")
SENDER_NUMBER = re.compile(r"\+?(?:\(\d{2,4}\)\s?)?\d[\d\s-]{4,20}\d")


def is_fax_file(data: bytes) -> bool:
    """Whether these bytes are a kind of file a fax arrives as (TIFF, PDF, PNG, JPEG)."""
    return data.startswith(FAX_MAGIC)


def fax_sender_from(*texts: str) -> str:
    """The sending fax number as a gateway writes it ("Fax from 010-8888 6666", "传真 …"), or ""."""
    for text in texts:
        match = SENDER_NUMBER.search(text or "")
        if match:
            return match.group(0).strip()
    return ""


def _citizen(sender: str) -> CitizenInput | None:
    digits = re.sub(r"[^\d+]", "", sender)
    if not digits:
        return None
    try:
        return citizen_input_clean(phone=digits, field_prefix="sender")
    except ValidationFailed:
        return None  # a switchboard or an unlisted number: kept in the data only


def _existing(external_id: str) -> Interaction | None:
    return (Interaction.objects.select_related("case")
            .filter(channel=CHANNEL, direction=Interaction.Direction.INBOUND, external_id=external_id).first())


def fax_receive(*, data: bytes, name: str, sender: str = "", external_id: str = "") -> IntakeResult:
    """Read one fax and open a draft case with it (see the module's rules).

    Raises ValidationFailed when the file is not a fax (nothing is stored then).
    """
    external_id = external_id or f"sha256:{hashlib.sha256(data).hexdigest()}"
    found = _existing(external_id)
    if found is not None:
        return IntakeResult(found, found.case, created=False, new_case=False)
    if not is_fax_file(data):
        msg = _("A fax must be a TIFF, PDF, PNG or JPEG file.")
        raise ValidationFailed(msg, details={"fax": msg})
    document = clean_document(data, name or "fax.tif", field="fax")
    info: dict = {"ocr": True, "engine": f"tesseract {LANG}", "sender": sender, "file": document.name}
    text = ""
    try:
        result = ocr_document(data)
    except OcrFailed as err:
        msg = _("This file could not be read as a fax.")
        raise ValidationFailed(msg, details={"fax": msg}) from err
    except OcrUnavailable as err:
        logger.error("fax %s stored without OCR: %s", external_id, err)
        info.update({"ocr": False, "ocr_error": str(err)})
    else:
        text = result.text
        info.update({"confidence": result.confidence, "pages": result.pages, "pages_read": result.pages_read})
    with translation.override(settings.LANGUAGE_CODE):  # stored text is in the centre's language
        if not text:
            text = _("(OCR found no text)") if info["ocr"] else _("(OCR is not available: read the fax image)")
        subject = _("Fax from %(sender)s") % {"sender": sender} if sender else _("Fax")
    limit = settings.GOVCRM_MAX_DESCRIPTION
    if len(text) > limit:
        text = text[: limit - 1] + "…"
        info["truncated"] = True
    return intake_receive(IntakeMessage(
        channel=CHANNEL, external_id=external_id, subject=subject, text=text, citizen=_citizen(sender),
        case_type="help", attachments=(document,), data=info,
    ))
