"""Fax pages made for the tests: Chinese text rendered like a fax (1-bit, G4-compressed TIFF)."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw, ImageFont

FONT = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
# A fax line is 1728 pixels wide at 204 dpi; "fine" resolution is 196 lines per inch.
FAX_WIDTH = 1728
FAX_DPI = (204, 196)

LETTER = (
    "市12345热线中心：",
    "我是和平街道和平里小区3号楼的居民王建国。",
    "小区东门外的路灯已经坏了两个星期，晚上",
    "一片漆黑，老人和孩子出行很不安全。",
    "请尽快安排人员维修，谢谢！",
    "联系电话：13800138000",
)


def fax_page(lines: tuple[str, ...] = LETTER, *, size: int = 40) -> Image.Image:
    font = ImageFont.truetype(FONT, size)
    height = 160 + len(lines) * int(size * 1.8) + 160
    page = Image.new("L", (FAX_WIDTH, height), 255)
    draw = ImageDraw.Draw(page)
    for i, line in enumerate(lines):
        draw.text((120, 160 + i * int(size * 1.8)), line, font=font, fill=0)
    return page.point(lambda v: 255 if v > 160 else 0).convert("1")


def fax_tiff(*pages: Image.Image, dpi: tuple[int, int] = FAX_DPI) -> bytes:
    """A (multi-page) G4 TIFF as fax gateways send them."""
    pages = pages or (fax_page(),)
    out = io.BytesIO()
    pages[0].save(out, "TIFF", compression="group4", dpi=dpi, save_all=True, append_images=list(pages[1:]))
    return out.getvalue()


def fax_pdf(*pages: Image.Image) -> bytes:
    pages = pages or (fax_page(),)
    out = io.BytesIO()
    pages[0].convert("L").save(out, "PDF", resolution=200, save_all=True, append_images=[
        p.convert("L") for p in pages[1:]])
    return out.getvalue()
