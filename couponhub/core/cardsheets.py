"""Print-ready card sheets: one card per code, imposed N-up on A4 or SRA3 with bleed and crop
marks, and the print-shop package (the PDF volumes, a manifest of serials and their checksums).

The apps supply the cards (`Card`, one per code, as an iterator read from the database) and this
module draws them with reportlab:

- **Font**: WenQuanYi Micro Hei, a TrueType font from the system (Debian's fonts-wqy-microhei),
  embedded as a subset with its ToUnicode map, so a print shop's RIP renders exactly what we drew
  and the text can be read back out of the PDF. reportlab's built-in STSong-Light would need no
  file but is *not embedded*: the shop's machine would substitute a font of its own.
- **QR codes**: the matrix comes from zxing-cpp (C++, about a tenth of the `qrcode` package's time
  per code, which decided 100,000 cards a minute) and is drawn as a 1-bit inline image scaled up
  without interpolation, so every module stays a sharp square at any resolution.
- **Memory**: reportlab keeps a document in memory until it is saved, so a run is cut into
  volumes of `VOLUME_CARDS` cards, each a PDF of its own; memory is one volume's whatever the run.
"""

from __future__ import annotations

import csv
import hashlib
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from itertools import islice
from pathlib import Path

import zxingcpp
from django.conf import settings
from PIL import Image
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from couponhub.core.errors import Refused
from couponhub.core.jobs import attach_result_file, set_progress
from couponhub.core.models import Job, Org

FONT_NAME = "CardFont"
VOLUME_CARDS = 10_000
SHEETS_MM = {"A4": (210.0, 297.0), "SRA3": (320.0, 450.0)}
MARGIN_MM = 12.0  # around the imposed grid: room for the crop marks
MARK_GAP_MM = 1.5  # crop marks start this far outside the cut
MARK_LENGTH_MM = 6.0
BAND = (0.78, 0.06, 0.18)  # the chain's red, printed into the bleed
SCRATCH = (0.78, 0.78, 0.78)
SIDES = ("single", "duplex_long", "duplex_short")
ORDERS = ("interleaved", "fronts_first")


@dataclass(frozen=True)
class Card:
    serial: str
    code: str
    password: str
    title: str
    qr_text: str
    notes: str = ""


@dataclass(frozen=True)
class Layout:
    """Card size, sheet, bleed and sides: the operator's choices for one run."""

    card_width_mm: float = 85.5
    card_height_mm: float = 54.0
    sheet: str = "A4"
    bleed_mm: float = 3.0
    sides: str = "single"  # single; duplex_long: back mirrored left-right; duplex_short: top-bottom
    order: str = "interleaved"  # interleaved: front, back, front…; fronts_first: all fronts, backs
    crop_marks: bool = True

    @classmethod
    def from_params(cls, params: dict) -> Layout:
        known = {k: params[k] for k in cls.__dataclass_fields__ if k in params}
        return cls(**known)

    @property
    def duplex(self) -> bool:
        return self.sides != "single"

    def grid(self) -> Grid:
        """How many cards fit across and down, on the sheet turned whichever way fits more."""
        if self.sheet not in SHEETS_MM:
            raise Refused("card_sheet", f"纸张：不支持“{self.sheet}”，只能是A4或SRA3")
        if self.sides not in SIDES or self.order not in ORDERS:
            raise Refused("card_sheet", "单双面：选项无效")
        if not (20 <= self.card_width_mm <= 300 and 20 <= self.card_height_mm <= 300):
            raise Refused("card_sheet", "卡片尺寸：宽和高都须在20～300毫米之间")
        if not 0 <= self.bleed_mm <= 10:
            raise Refused("card_sheet", "出血：须在0～10毫米之间")
        cell_w = self.card_width_mm + 2 * self.bleed_mm
        cell_h = self.card_height_mm + 2 * self.bleed_mm
        best = None
        short, long_ = SHEETS_MM[self.sheet]
        for page_w, page_h in ((short, long_), (long_, short)):
            cols = int((page_w - 2 * MARGIN_MM) // cell_w)
            rows = int((page_h - 2 * MARGIN_MM) // cell_h)
            if cols * rows and (best is None or cols * rows > best.cols * best.rows):
                best = Grid(self, page_w, page_h, cols, rows)
        if best is None:
            raise Refused(
                "card_sheet",
                f"卡片尺寸：{self.card_width_mm:g}×{self.card_height_mm:g}毫米的卡片"
                f"（含出血）放不下一张{self.sheet}纸",
            )
        return best


@dataclass(frozen=True)
class Grid:
    layout: Layout
    page_w: float  # mm
    page_h: float
    cols: int
    rows: int

    @property
    def per_sheet(self) -> int:
        return self.cols * self.rows

    def cell_origin(self, slot: int, *, back: bool = False) -> tuple[float, float, bool]:
        """Lower-left corner (points) of the trimmed card at `slot` (0 is top left, row by row)
        and whether it is drawn upside down: a back lands behind its front after the flip."""
        lay = self.layout
        col, row = slot % self.cols, slot // self.cols
        rotated = False
        if back and lay.sides == "duplex_long":
            col = self.cols - 1 - col
        elif back and lay.sides == "duplex_short":
            row, rotated = self.rows - 1 - row, True
        cell_w = lay.card_width_mm + 2 * lay.bleed_mm
        cell_h = lay.card_height_mm + 2 * lay.bleed_mm
        left = (self.page_w - self.cols * cell_w) / 2
        top = (self.page_h + self.rows * cell_h) / 2
        x = left + col * cell_w + lay.bleed_mm
        y = top - (row + 1) * cell_h + lay.bleed_mm
        return x * mm, y * mm, rotated


def font_path() -> str:
    return getattr(settings, "CARD_FONT_PATH", "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")


@lru_cache(maxsize=1)
def _register_font(path: str) -> str:
    if not Path(path).is_file():
        raise Refused(
            "card_font_missing",
            f"印刷字体：找不到字体文件{path}（请安装fonts-wqy-microhei或设置CARD_FONT_PATH）",
            500,
        )
    pdfmetrics.registerFont(TTFont(FONT_NAME, path, subfontIndex=0))
    return FONT_NAME


@lru_cache(maxsize=64)
def _wrap(text: str, width: float, size: float, max_lines: int) -> tuple[str, ...]:
    """Lines of `text` no wider than `width` points, broken between characters (Chinese has no
    spaces to break at); the last kept line ends in … when text is left over."""
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        line = ""
        for ch in paragraph:
            if line and pdfmetrics.stringWidth(line + ch, FONT_NAME, size) > width:
                lines.append(line)
                line = ch
            else:
                line += ch
        lines.append(line)
    if len(lines) > max_lines:
        lines = [*lines[: max_lines - 1], lines[max_lines - 1][:-1] + "…"]
    return tuple(lines)


def qr_image(text: str) -> Image.Image:
    """The QR code of `text` (error correction M) as a 1-pixel-per-module 1-bit image with its
    4-module quiet zone (1-bit: an eighth of the data of greyscale in the PDF)."""
    barcode = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode, ec_level="M")
    matrix = barcode.to_image(scale=1, add_quiet_zones=True)
    height, width = matrix.shape[0], matrix.shape[1]
    image = Image.frombuffer("L", (width, height), bytes(matrix), "raw", "L", 0, 1)
    return image.convert("1", dither=Image.Dither.NONE)


class CardPainter:
    """Draws the front and back of one card at the origin of the canvas's current transform.
    Positions are fractions of the card, fonts scale with its size."""

    def __init__(self, layout: Layout, *, logo_path: str = "", wordmark: str = ""):
        self.w = layout.card_width_mm * mm
        self.h = layout.card_height_mm * mm
        self.bleed = layout.bleed_mm * mm
        self.scale = min(layout.card_width_mm / 85.5, layout.card_height_mm / 54.0)
        self.duplex = layout.duplex
        self.logo_path = logo_path
        self.wordmark = wordmark
        self.band_h = self.h * 0.24

    def _band(self, c: canvas.Canvas, height: float) -> None:
        """The coloured band at the top, printed into the bleed on three sides."""
        c.setFillColorRGB(*BAND)
        b = self.bleed
        c.rect(-b, self.h - height, self.w + 2 * b, height + b, stroke=0, fill=1)

    def _logo(self, c: canvas.Canvas) -> float:
        """The chain's logo (an image file) or its name as a word mark; returns its width."""
        pad = 2.5 * mm * self.scale
        size = self.band_h - 2 * pad
        if self.logo_path:
            c.drawImage(
                self.logo_path,
                pad,
                self.h - self.band_h + pad,
                size,
                size,
                preserveAspectRatio=True,
                mask="auto",
            )
            return pad + size
        font = 8.5 * self.scale
        c.setFillColorRGB(1, 1, 1)
        c.setFont(FONT_NAME, font)
        c.drawString(pad, self.h - self.band_h / 2 - font * 0.35, self.wordmark)
        return pad + pdfmetrics.stringWidth(self.wordmark, FONT_NAME, font)

    def _scratch(self, c: canvas.Canvas, card: Card, x: float, y: float, w: float, h: float):
        """The password inside a marked scratch-off area (a dashed outline the coating covers)."""
        c.setFillColorRGB(*SCRATCH)
        c.setStrokeColorRGB(0.3, 0.3, 0.3)
        c.setDash(2, 1.5)
        c.setLineWidth(0.6)
        c.roundRect(x, y, w, h, 1.5 * mm * self.scale, stroke=1, fill=1)
        c.setDash()
        label = 6 * self.scale
        c.setFillColorRGB(0.2, 0.2, 0.2)
        c.setFont(FONT_NAME, label)
        c.drawString(x, y + h + 1 * mm * self.scale, "密码（刮开涂层）")
        size = min(h * 0.55, 11 * self.scale)
        c.setFillColorRGB(0, 0, 0)
        c.setFont(FONT_NAME, size)
        c.drawCentredString(x + w / 2, y + (h - size * 0.7) / 2, card.password)

    def front(self, c: canvas.Canvas, card: Card) -> None:
        s = self.scale
        self._band(c, self.band_h)
        after_logo = self._logo(c)
        title = 9.5 * s
        c.setFillColorRGB(1, 1, 1)
        c.setFont(FONT_NAME, title)
        room = self.w - after_logo - 5 * mm * s
        (line,) = _wrap(card.title, room, title, 1)
        c.drawRightString(self.w - 3 * mm * s, self.h - self.band_h / 2 - title * 0.35, line)

        qr = min(self.h - self.band_h - 4 * mm * s, self.w * 0.36)
        qx, qy = self.w - qr - 2.5 * mm * s, 2.5 * mm * s
        c.drawInlineImage(qr_image(card.qr_text), qx, qy, qr, qr)

        left, text_w = 4 * mm * s, qx - 6 * mm * s
        c.setFillColorRGB(0, 0, 0)
        y = self.h - self.band_h - 5.5 * mm * s
        c.setFont(FONT_NAME, 8 * s)
        c.drawString(left, y, f"卡号 {card.code}")
        y -= 4.5 * mm * s
        c.setFont(FONT_NAME, 6.5 * s)
        c.drawString(left, y, f"序列号 {card.serial}")
        if self.duplex:
            y -= 4 * mm * s
            for line in _wrap(card.notes, text_w, 5.5 * s, 4):
                c.setFont(FONT_NAME, 5.5 * s)
                c.drawString(left, y, line)
                y -= 3 * mm * s
            return
        if card.password:
            self._scratch(c, card, left, 8.5 * mm * s, min(text_w, 34 * mm * s), 7.5 * mm * s)
        c.setFont(FONT_NAME, 5 * s)
        for i, line in enumerate(_wrap(card.notes, text_w, 5 * s, 2)):
            c.drawString(left, 5 * mm * s - i * 2.6 * mm * s, line)

    def back(self, c: canvas.Canvas, card: Card) -> None:
        s = self.scale
        self._band(c, self.h * 0.1)
        c.setFont(FONT_NAME, 6.5 * s)
        c.setFillColorRGB(0, 0, 0)
        c.drawString(4 * mm * s, self.h * 0.9 - 5 * mm * s, f"序列号 {card.serial}")
        if card.password:
            self._scratch(c, card, 4 * mm * s, self.h * 0.5, self.w * 0.55, 9 * mm * s)
        c.setFont(FONT_NAME, 5.5 * s)
        y = self.h * 0.5 - 5 * mm * s
        for line in _wrap(card.notes, self.w - 8 * mm * s, 5.5 * s, 5):
            c.drawString(4 * mm * s, y, line)
            y -= 3 * mm * s


def _crop_marks(c: canvas.Canvas, grid: Grid) -> None:
    """Marks in the margin at every cut: for each column's left and right edge above and below
    the grid, for each row's top and bottom edge left and right of it."""
    lay = grid.layout
    cell_w = lay.card_width_mm + 2 * lay.bleed_mm
    cell_h = lay.card_height_mm + 2 * lay.bleed_mm
    left = (grid.page_w - grid.cols * cell_w) / 2
    bottom = (grid.page_h - grid.rows * cell_h) / 2
    right, top = left + grid.cols * cell_w, bottom + grid.rows * cell_h
    c.setStrokeColorRGB(0, 0, 0)
    c.setLineWidth(0.25)
    lines = []
    for col in range(grid.cols):
        for x in (left + col * cell_w + lay.bleed_mm, left + (col + 1) * cell_w - lay.bleed_mm):
            lines.append((x, top + MARK_GAP_MM, x, top + MARK_GAP_MM + MARK_LENGTH_MM))
            lines.append((x, bottom - MARK_GAP_MM, x, bottom - MARK_GAP_MM - MARK_LENGTH_MM))
    for row in range(grid.rows):
        for y in (bottom + row * cell_h + lay.bleed_mm, bottom + (row + 1) * cell_h - lay.bleed_mm):
            lines.append((left - MARK_GAP_MM, y, left - MARK_GAP_MM - MARK_LENGTH_MM, y))
            lines.append((right + MARK_GAP_MM, y, right + MARK_GAP_MM + MARK_LENGTH_MM, y))
    c.lines([tuple(v * mm for v in line) for line in lines])


@dataclass(frozen=True)
class Placement:
    """Where a card was printed: which volume (file), which sheet (1-based) and slot."""

    volume: str
    sheet: int
    slot: int


def _draw_side(c, grid, painter, cards: list[Card], *, back: bool) -> None:
    for slot, card in enumerate(cards):
        x, y, rotated = grid.cell_origin(slot, back=back)
        c.saveState()
        c.translate(x, y)
        if rotated:
            c.translate(painter.w, painter.h)
            c.rotate(180)
        (painter.back if back else painter.front)(c, card)
        c.restoreState()
    if grid.layout.crop_marks:
        _crop_marks(c, grid)
    c.showPage()


def write_volume(
    path: Path,
    cards: list[Card],
    layout: Layout,
    *,
    title: str = "",
    logo_path: str = "",
    wordmark: str = "",
) -> Iterator[tuple[Card, int, int]]:
    """Write one PDF of `cards`; yield (card, sheet, slot) for each, after the file is saved."""
    _register_font(font_path())
    grid = layout.grid()
    painter = CardPainter(layout, logo_path=logo_path, wordmark=wordmark)
    c = canvas.Canvas(str(path), pagesize=(grid.page_w * mm, grid.page_h * mm), pageCompression=1)
    c.setTitle(title)
    c.setCreator("CouponHub")
    sheets = [cards[i : i + grid.per_sheet] for i in range(0, len(cards), grid.per_sheet)]
    if layout.duplex and layout.order == "fronts_first":
        for sheet in sheets:
            _draw_side(c, grid, painter, sheet, back=False)
        for sheet in sheets:
            _draw_side(c, grid, painter, sheet, back=True)
    else:
        for sheet in sheets:
            _draw_side(c, grid, painter, sheet, back=False)
            if layout.duplex:
                _draw_side(c, grid, painter, sheet, back=True)
    c.save()
    for number, sheet in enumerate(sheets, start=1):
        for slot, card in enumerate(sheet):
            yield card, number, slot + 1


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


MANIFEST_HEADERS = ["序列号", "卡号", "文件", "印张", "位置"]


def write_card_run(
    folder: Path,
    cards: Iterable[Card],
    layout: Layout,
    *,
    name: str,
    logo_path: str = "",
    wordmark: str = "",
    volume_cards: int = VOLUME_CARDS,
    progress: Callable[[int], None] | None = None,
) -> tuple[list[Path], Path, int]:
    """Write the cards as PDF volumes of `volume_cards` each into `folder`, and the manifest
    (one row per card: serial, code, file, sheet, slot — no password). Returns the PDFs, the
    manifest and the card count. Only one volume's cards are in memory at a time."""
    layout.grid()  # refuse a layout that cannot be imposed before reading any card
    iterator = iter(cards)
    pdfs: list[Path] = []
    count = 0
    manifest = folder / f"{name}-manifest.csv"
    with open(manifest, "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(MANIFEST_HEADERS)
        while chunk := list(islice(iterator, volume_cards)):
            number = len(pdfs) + 1
            pdf = folder / f"{name}-{number:03d}.pdf"
            for card, sheet, slot in write_volume(
                pdf,
                chunk,
                layout,
                title=f"{name} ({number})",
                logo_path=logo_path,
                wordmark=wordmark,
            ):
                writer.writerow([card.serial, card.code, pdf.name, sheet, slot])
            pdfs.append(pdf)
            count += len(chunk)
            if progress is not None:
                progress(count)
    return pdfs, manifest, count


def write_package(zip_path: Path, files: list[Path]) -> None:
    """The print-shop package: the files and SHA256SUMS (`sha256sum -c SHA256SUMS` checks them).
    PDFs are already compressed, so the zip only stores them."""
    sums = "".join(f"{sha256_file(f)}  {f.name}\n" for f in files)
    with zipfile.ZipFile(zip_path, "w", compression=zipfile.ZIP_STORED) as zf:
        for f in files:
            zf.write(f, arcname=f.name)
        zf.writestr("SHA256SUMS", sums)


def wordmark() -> str:
    """The chain's name (the root of the org tree), printed where no logo file is set."""
    root = Org.objects.filter(parent=None).values_list("name", flat=True).first()
    return root or ""


def run_card_job(job: Job, cards: Iterable[Card], *, name: str) -> dict:
    """The common part of the card-sheet jobs: draw the cards of `job.params` (layout options,
    `package`) and store the result in the download centre: the PDF when it is one volume, else
    a zip; with `package`, always the zip with the manifest and SHA256SUMS. A re-run draws it
    all again (the cards come from the database)."""
    layout = Layout.from_params(job.params.get("layout") or {})
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        pdfs, manifest, count = write_card_run(
            folder,
            cards,
            layout,
            name=name,
            logo_path=getattr(settings, "CARD_LOGO_PATH", ""),
            wordmark=wordmark(),
            progress=lambda done: set_progress(job, done, max(job.total, done)),
        )
        if not count:
            raise Refused("card_sheet", "印刷范围：没有符合条件的卡")
        if job.params.get("package"):
            files, filename = [*pdfs, manifest], f"{name}-print-package.zip"
        elif len(pdfs) == 1:
            files, filename = pdfs, f"{name}.pdf"
        else:
            files, filename = pdfs, f"{name}.zip"
        if filename.endswith(".zip"):
            result = folder / filename
            write_package(result, files)
        else:
            result = pdfs[0]
        attach_result_file(job, filename, lambda path: shutil.copyfile(result, path))
    grid = layout.grid()
    return {"卡片": count, "文件": len(pdfs), "每张印张": grid.per_sheet}
