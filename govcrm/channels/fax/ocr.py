"""Reading a fax with Tesseract OCR: TIFF (every page), PNG, JPEG, and PDF through `pdftoppm`.

Rules:
- Tesseract runs with "chi_sim+eng" and page segmentation mode 6 (one uniform block of text),
  which reads a typed or printed fax page best; the Debian packages are tesseract-ocr and
  tesseract-ocr-chi-sim.
- A PDF is rendered to 200 dpi grey pages with `pdftoppm` (Debian: poppler-utils). Without it a
  PDF fax raises OcrUnavailable with a message that says what to install; image faxes still work.
- A standard-resolution fax (204×98 dpi) has pixels twice as tall as wide: the page is stretched
  to square pixels first, or the characters are too flat to read.
- At most MAX_PAGES pages are read; the rest are kept in the file but not read.
- Tesseract puts spaces between Chinese characters, and between them and digits or Latin
  letters, and reads full-width punctuation after Chinese text as ASCII: `normalise_text` removes
  those spaces and restores the full-width marks; spaces between Latin words and digits stay.
- The confidence is Tesseract's mean word confidence (0–100) over the words it found.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageSequence, UnidentifiedImageError

LANG = "chi_sim+eng"
CONFIG = "--psm 6"
# A hotline fax is one to a few pages; the limit keeps a console upload within the web worker's timeout.
MAX_PAGES = 10
PDF_DPI = 200  # about a fine fax's resolution (204×196 dpi); more only slows OCR down
PDF_TIMEOUT_SECONDS = 120
MAX_PIXELS = 60_000_000

CJK_CHAR = r"\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
SPACE_BETWEEN_CJK = re.compile(rf"(?<=[{CJK_CHAR}])[ \t]+(?=[{CJK_CHAR}])")
SPACE_CJK_TO_ALNUM = re.compile(rf"(?<=[{CJK_CHAR}])[ \t]+(?=[A-Za-z0-9])|(?<=[A-Za-z0-9])[ \t]+(?=[{CJK_CHAR}])")
# Tesseract reads full-width punctuation after Chinese text as its ASCII look-alike.
ASCII_PUNCT_AFTER_CJK = re.compile(rf"(?<=[{CJK_CHAR}])[ \t]*([:;!?,])[ \t]*")
FULL_WIDTH = {":": "：", ";": "；", "!": "！", "?": "？", ",": "，"}
SPACE_BEFORE_CJK_PUNCT = re.compile(r"[ \t]+(?=[，。、；：？！）》」』】])")
SPACE_AFTER_CJK_PUNCT = re.compile(r"(?<=[（《「『【])[ \t]+")


class OcrUnavailable(RuntimeError):
    """A program OCR needs is not installed (tesseract, its chi_sim model, pdftoppm)."""


class OcrFailed(ValueError):
    """The file could not be read as pages (not an image or PDF, or broken)."""


@dataclass(frozen=True)
class OcrResult:
    text: str
    confidence: float | None
    pages: int
    pages_read: int


def normalise_text(text: str) -> str:
    """OCR text with the spaces Tesseract puts between Chinese characters removed."""
    lines = []
    for line in text.splitlines():
        line = ASCII_PUNCT_AFTER_CJK.sub(lambda m: FULL_WIDTH[m.group(1)], line)
        line = SPACE_BETWEEN_CJK.sub("", line)
        line = SPACE_CJK_TO_ALNUM.sub("", line)
        line = SPACE_BEFORE_CJK_PUNCT.sub("", line)
        line = SPACE_AFTER_CJK_PUNCT.sub("", line)
        lines.append(" ".join(line.split()))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _square_pixels(image: Image.Image) -> Image.Image:
    dpi = image.info.get("dpi")
    try:
        x_dpi, y_dpi = float(dpi[0]), float(dpi[1])
    except (TypeError, ValueError, IndexError):
        return image
    if x_dpi <= 0 or y_dpi <= 0 or abs(x_dpi - y_dpi) / max(x_dpi, y_dpi) < 0.1:
        return image
    scale = x_dpi / y_dpi
    return image.resize((image.width, round(image.height * scale)), Image.Resampling.LANCZOS)


def _prepare(image: Image.Image) -> Image.Image:
    return _square_pixels(image.convert("L"))


def _image_pages(data: bytes) -> tuple[list[Image.Image], int]:
    try:
        image = Image.open(io.BytesIO(data))
        if image.width * image.height > MAX_PIXELS:
            raise OcrFailed("page too large")
        frames = getattr(image, "n_frames", 1)
        pages = []
        for index, frame in enumerate(ImageSequence.Iterator(image)):
            if index >= MAX_PAGES:
                break
            page = frame.copy()
            page.info.setdefault("dpi", image.info.get("dpi"))
            pages.append(_prepare(page))
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        if isinstance(exc, OcrFailed):
            raise
        raise OcrFailed(f"not a readable image: {exc}") from None
    return pages, frames


def _pdf_pages(data: bytes) -> tuple[list[Image.Image], int]:
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        raise OcrUnavailable("PDF faxes need pdftoppm (Debian package poppler-utils); it is not installed")
    with tempfile.TemporaryDirectory(prefix="govcrm-fax-") as tmp:
        source = Path(tmp) / "fax.pdf"
        source.write_bytes(data)
        argv = [pdftoppm, "-r", str(PDF_DPI), "-gray", "-png", "-l", str(MAX_PAGES), str(source),
                str(Path(tmp) / "page")]
        try:
            subprocess.run(argv, check=True, capture_output=True, timeout=PDF_TIMEOUT_SECONDS)  # noqa: S603 - our own argv, the PDF is a file we wrote
        except subprocess.CalledProcessError as exc:
            raise OcrFailed(f"not a readable PDF: {exc.stderr.decode(errors='replace')[:200]}") from None
        except subprocess.TimeoutExpired:
            raise OcrFailed("the PDF took too long to render") from None
        pages = []
        for path in sorted(Path(tmp).glob("page-*.png")):
            with Image.open(path) as page:
                pages.append(_prepare(page))
    count = _pdf_page_count(data) or len(pages)
    return pages, count


def _pdf_page_count(data: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?![s\w])", data))


def pages_of(data: bytes) -> tuple[list[Image.Image], int]:
    """The pages to read (at most MAX_PAGES) and how many the document has."""
    if data.startswith(b"%PDF-"):
        return _pdf_pages(data)
    return _image_pages(data)


def ocr_pages(pages: list[Image.Image]) -> tuple[str, float | None]:
    import pytesseract

    texts: list[str] = []
    confidences: list[float] = []
    for page in pages:
        try:
            found = pytesseract.image_to_data(page, lang=LANG, config=CONFIG, output_type=pytesseract.Output.DICT)
        except pytesseract.TesseractNotFoundError:
            raise OcrUnavailable("fax OCR needs tesseract (Debian packages tesseract-ocr, "
                                 "tesseract-ocr-chi-sim); it is not installed") from None
        except pytesseract.TesseractError as exc:
            if "chi_sim" in str(exc) or "language" in str(exc).lower():
                raise OcrUnavailable("fax OCR needs the chi_sim model (Debian package tesseract-ocr-chi-sim)"
                                     ) from None
            raise
        lines: dict[tuple[int, int, int], list[str]] = {}
        for i, word in enumerate(found["text"]):
            word = (word or "").strip()
            if not word:
                continue
            key = (found["block_num"][i], found["par_num"][i], found["line_num"][i])
            lines.setdefault(key, []).append(word)
            conf = float(found["conf"][i])
            if conf >= 0:
                confidences.append(conf)
        texts.append("\n".join(" ".join(words) for _key, words in sorted(lines.items())))
    text = normalise_text("\n\n".join(t for t in texts if t))
    confidence = round(sum(confidences) / len(confidences), 1) if confidences else None
    return text, confidence


def ocr_document(data: bytes) -> OcrResult:
    """The text of a fax file. Raises OcrFailed (unreadable file) or OcrUnavailable (missing program)."""
    pages, count = pages_of(data)
    text, confidence = ocr_pages(pages)
    return OcrResult(text=text, confidence=confidence, pages=count, pages_read=len(pages))
