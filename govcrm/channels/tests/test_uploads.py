"""Checking files by content: PDFs must be complete, TIFFs readable; a mail keeps at most MAX_FILES files."""

from __future__ import annotations

import io
from email.message import EmailMessage

import pytest
from PIL import Image

from govcrm.channels.email.actions import mail_receive
from govcrm.channels.models import Attachment, Interaction
from govcrm.channels.uploads import MAX_FILES, clean_document
from govcrm.common.errors import ValidationFailed

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _tiff() -> bytes:
    out = io.BytesIO()
    Image.new("1", (64, 32), 1).save(out, "TIFF", compression="group4")
    return out.getvalue()


def test_documents_are_checked_by_content():
    assert clean_document(PDF, "a.pdf").content_type == "application/pdf"
    assert clean_document(_tiff(), "fax.tif").content_type == "image/tiff"
    with pytest.raises(ValidationFailed):
        clean_document(PDF[:20], "cut.pdf")  # no end-of-file marker: truncated or not a PDF
    with pytest.raises(ValidationFailed):
        clean_document(b"II*\x00" + b"\x00" * 100, "fake.tif")
    with pytest.raises(ValidationFailed):
        clean_document(b"MZ\x90\x00 an executable", "photo.jpg")


def test_a_mail_keeps_at_most_max_files_attachments(city, settings):
    msg = EmailMessage()
    msg["From"] = "张三 <zhangsan@example.org>"
    msg["To"] = settings.GOVCRM_MAIL_INTAKE
    msg["Subject"] = "路灯不亮"
    msg["Message-ID"] = "<many-files@example.org>"
    msg.set_content("和平街12号门口的路灯坏了，照片见附件。")
    for i in range(MAX_FILES + 2):
        msg.add_attachment(PDF, maintype="application", subtype="pdf", filename=f"doc{i}.pdf")
    outcome = mail_receive(msg.as_bytes())
    assert outcome.status == "new_case"
    interaction = Interaction.objects.get(external_id__contains="many-files")
    assert Attachment.objects.filter(interaction=interaction).count() == MAX_FILES
    refused = interaction.data["attachments_refused"]
    assert [r["name"] for r in refused] == [f"doc{MAX_FILES}.pdf", f"doc{MAX_FILES + 1}.pdf"]
