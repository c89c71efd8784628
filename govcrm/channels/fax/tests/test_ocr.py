"""OCR of fax pages: a Chinese page rendered like a fax is read back almost exactly."""

import difflib
import shutil
from pathlib import Path

import pytest
from PIL import Image

from govcrm.channels.fax import ocr
from govcrm.channels.fax.ocr import OcrFailed, OcrUnavailable, normalise_text, ocr_document

from .factories import LETTER, fax_page, fax_pdf, fax_tiff

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
KNOWN = "\n".join(LETTER)

needs_tesseract = pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract-ocr is not installed")


def similarity(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a, b).ratio()


@needs_tesseract
@pytest.mark.slow
def test_fax_tiff_is_read():
    result = ocr_document(fax_tiff())
    assert similarity(KNOWN, result.text) >= 0.9, result.text
    assert result.pages == 1 and result.confidence is not None and result.confidence > 60


@needs_tesseract
@pytest.mark.slow
def test_every_page_of_the_fixture_tiff_is_read():
    result = ocr_document((FIXTURES / "fax_letter.tif").read_bytes())
    first, second = result.text.split("\n\n", 1)
    assert result.pages == result.pages_read == 2
    assert similarity(KNOWN, first) >= 0.9
    assert similarity("第二页：附小区平面图一张，\n路灯位置已用红笔标出。", second) >= 0.9


@needs_tesseract
@pytest.mark.slow
def test_standard_resolution_fax_is_stretched_to_square_pixels():
    page = fax_page()
    squashed = page.resize((page.width, page.height // 2))
    result = ocr_document(fax_tiff(squashed, dpi=(204, 98)))
    assert similarity(KNOWN, result.text) >= 0.9


@needs_tesseract
@pytest.mark.slow
@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils is not installed")
def test_pdf_fax_is_read():
    result = ocr_document(fax_pdf())
    assert similarity(KNOWN, result.text) >= 0.9


def test_pdf_without_pdftoppm_says_what_to_install(monkeypatch):
    monkeypatch.setattr(ocr.shutil, "which", lambda name: None)
    with pytest.raises(OcrUnavailable, match="poppler-utils"):
        ocr_document(fax_pdf())


def test_missing_tesseract_says_what_to_install(monkeypatch):
    import pytesseract

    monkeypatch.setattr(pytesseract.pytesseract, "tesseract_cmd", "/nonexistent/tesseract")
    with pytest.raises(OcrUnavailable, match="tesseract-ocr"):
        ocr_document(fax_tiff())


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data")
def test_unreadable_file():
    with pytest.raises(OcrFailed):
        ocr_document(b"II*\x00 not really a tiff")


@needs_tesseract
def test_blank_page_has_no_text():
    result = ocr_document(fax_tiff(Image.new("1", (800, 600), 1)))
    assert result.text == "" and result.confidence is None


@pytest.mark.parametrize(("raw", "clean"), [
    ("市 12345 热线 中心 :", "市12345热线中心："),
    ("谢 谢 !", "谢谢！"),
    ("请 问 , 在 哪 里 ?", "请问，在哪里？"),
    ("电话 : 138 0013 8000", "电话：138 0013 8000"),
    ("Hello world", "Hello world"),
    ("（ 东 门 ）", "（东门）"),
    ("a\n\n\n\nb", "a\n\nb"),
])
def test_normalise_text(raw, clean):
    assert normalise_text(raw) == clean
