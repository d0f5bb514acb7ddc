"""Safe spreadsheet reading and streaming spreadsheet writing.

Reading (:func:`read_rows`) accepts .xlsx, .xls, .csv and .txt uploads, checks the
content against the extension, enforces size/row limits and refuses zip bombs
before any parser sees the data. Writing (:func:`write_xlsx`, :func:`write_csv`)
streams rows in near-constant memory and neutralises spreadsheet formula
injection.

Plain Python (no Django). Errors shown to users are :class:`SpreadsheetError`
with a Simplified Chinese message.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import math
import os
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from typing import IO, Any

from django.utils import timezone

from couponhub.core.errors import Refused

__all__ = [
    "MAX_COMPRESSION_RATIO",
    "MAX_ROWS",
    "MAX_UNCOMPRESSED_BYTES",
    "MAX_UPLOAD_BYTES",
    "MAX_ZIP_MEMBERS",
    "SpreadsheetError",
    "csv_chunks",
    "local_time_text",
    "neutralise",
    "read_rows",
    "write_csv",
    "write_xlsx",
]

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MAX_ROWS = 1_048_576
MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024
MAX_COMPRESSION_RATIO = 100
# A normal workbook has a few dozen zip members; thousands means something is off.
MAX_ZIP_MEMBERS = 1_000
# The ratio check only applies to members larger than this: tiny members can have
# large ratios (a few KB of padding) without being dangerous.
RATIO_CHECK_MIN_BYTES = 1024 * 1024

SUPPORTED_EXTENSIONS = (".xlsx", ".xls", ".csv", ".txt")

OLE2_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_SIGNATURE = b"PK\x03\x04"
# Magic bytes of common binary formats that must never be parsed as text.
BINARY_SIGNATURES = (
    ZIP_SIGNATURE,
    b"PK\x05\x06",
    OLE2_SIGNATURE,
    b"\x89PNG",
    b"\xff\xd8\xff",  # JPEG
    b"GIF8",
    b"%PDF",
    b"MZ",  # Windows executable
    b"\x7fELF",
    b"Rar!",
    b"7z\xbc\xaf\x27\x1c",
    b"\x1f\x8b",  # gzip
    b"BM",  # bitmap
)

MSG_MISMATCH = "文件内容与扩展名不符"


class SpreadsheetError(Refused):
    """A user-facing problem with an uploaded or generated spreadsheet."""

    def __init__(self, message: str):
        super().__init__("spreadsheet_refused", message)


# ---------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------


def _read_limited(fileobj: Any, max_bytes: int) -> bytes:
    if isinstance(fileobj, bytes | bytearray | memoryview):
        data = bytes(fileobj)
    else:
        if hasattr(fileobj, "seek"):
            try:
                fileobj.seek(0)
            except (OSError, ValueError):
                pass
        data = fileobj.read(max_bytes + 1)
        if isinstance(data, str):
            data = data.encode("utf-8")
    if not data:
        raise SpreadsheetError("文件为空")
    if len(data) > max_bytes:
        raise SpreadsheetError(f"文件超过{_format_bytes(max_bytes)}上限")
    return data


def _format_bytes(n: int) -> str:
    if n >= 1024 * 1024 and n % (1024 * 1024) == 0:
        return f"{n // (1024 * 1024)}MB"
    if n >= 1024 and n % 1024 == 0:
        return f"{n // 1024}KB"
    return f"{n:,}字节"


def read_rows(
    fileobj: Any,
    *,
    filename: str,
    max_bytes: int = MAX_UPLOAD_BYTES,
    max_rows: int = MAX_ROWS,
) -> Iterator[list[str]]:
    """Return an iterator over the rows of an uploaded spreadsheet.

    Each row is a list of stripped strings (header row included, trailing empty
    cells trimmed, so rows may be shorter than the header). Empty rows in the
    middle are kept as ``[]`` so row numbers stay meaningful; trailing empty rows
    are dropped. Only the first worksheet of a workbook is read.

    File-level problems (size, type, encoding, zip bomb, corrupt file) raise
    :class:`SpreadsheetError` from this call; problems found while iterating
    (too many rows, damage deep inside a workbook) raise it from the iterator.
    """
    ext = os.path.splitext(filename or "")[1].lower()
    if ext not in SUPPORTED_EXTENSIONS:
        raise SpreadsheetError("不支持的文件类型，请上传.xlsx、.xls、.csv或.txt文件")
    data = _read_limited(fileobj, max_bytes)
    if ext == ".xlsx":
        raw = _xlsx_rows(data)
    elif ext == ".xls":
        raw = _xls_rows(data)
    else:
        raw = _text_rows(data, tab_or_comma=(ext == ".txt"))
    return _finish_rows(raw, max_rows)


# What PostgreSQL cannot store in text: a NUL (a UTF-16 text or an .xls cell can hold one) and a
# lone surrogate. A file carrying one is refused by row, before any of it is staged.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _finish_rows(raw: Iterator[list[str]], max_rows: int) -> Iterator[list[str]]:
    pending_empty = 0
    row_number = 0
    try:
        for row in raw:
            row_number += 1
            while row and row[-1] == "":
                row.pop()
            if not row:
                pending_empty += 1
                continue
            if row_number > max_rows:
                raise SpreadsheetError(f"超过{max_rows:,}行上限")
            for cell in row:
                if _UNSTORABLE.search(cell):
                    what = "空字符（NUL）" if "\x00" in cell else "无效的Unicode字符"
                    raise SpreadsheetError(f"第{row_number}行含有{what}，请删除后重新上传")
            for _ in range(pending_empty):
                yield []
            pending_empty = 0
            yield row
    except SpreadsheetError:
        raise
    except Exception as exc:  # parsers fail lazily; never leak a raw traceback
        raise SpreadsheetError(
            f"文件已损坏或格式不正确，无法读取（第{row_number + 1}行附近）"
        ) from exc
    finally:
        close = getattr(raw, "close", None)
        if close is not None:
            close()


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            return str(int(value))
        return format(value, ".15g")
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0) and value.tzinfo is None:
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value).strip()


# --- xlsx --------------------------------------------------------------------


def _open_checked_zip(data: bytes) -> zipfile.ZipFile:
    if data.startswith(OLE2_SIGNATURE):
        raise SpreadsheetError(f"{MSG_MISMATCH}（可能是旧版.xls文件或加密的Excel文件）")
    if not data.startswith(ZIP_SIGNATURE):
        raise SpreadsheetError(MSG_MISMATCH)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise SpreadsheetError("Excel文件已损坏，无法打开") from exc
    if len(infos) > MAX_ZIP_MEMBERS:
        raise SpreadsheetError("文件疑似压缩炸弹，已拒绝")
    total = 0
    for info in infos:
        total += info.file_size
        if info.file_size > RATIO_CHECK_MIN_BYTES and info.file_size > MAX_COMPRESSION_RATIO * max(
            info.compress_size, 1
        ):
            raise SpreadsheetError("文件疑似压缩炸弹，已拒绝")
    if total > MAX_UNCOMPRESSED_BYTES:
        raise SpreadsheetError("文件疑似压缩炸弹，已拒绝")
    names = {info.filename for info in infos}
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        raise SpreadsheetError(MSG_MISMATCH)
    return archive


def _xlsx_rows(data: bytes) -> Iterator[list[str]]:
    # Declared sizes are enforced: zipfile stops at the declared size and fails
    # the CRC check if a member tries to inflate beyond it.
    _open_checked_zip(data).close()
    import openpyxl  # imported lazily: optional for callers that only write

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:
        raise SpreadsheetError("Excel文件已损坏或格式不正确，无法读取") from exc
    if not workbook.worksheets:
        workbook.close()
        raise SpreadsheetError("Excel文件中没有工作表")
    return _xlsx_iter(workbook)


def _xlsx_iter(workbook: Any) -> Iterator[list[str]]:
    try:
        for values in workbook.worksheets[0].iter_rows(values_only=True):
            yield [_cell_text(value) for value in values]
    finally:
        workbook.close()


# --- xls ---------------------------------------------------------------------


def _xls_rows(data: bytes) -> Iterator[list[str]]:
    if not data.startswith(OLE2_SIGNATURE):
        raise SpreadsheetError(MSG_MISMATCH)
    import xlrd

    try:
        book = xlrd.open_workbook(file_contents=data, on_demand=True)
        sheet = book.sheet_by_index(0)
    except Exception as exc:
        raise SpreadsheetError(
            "Excel文件已损坏或格式不正确，无法读取（加密文件请先取消密码）"
        ) from exc
    return _xls_iter(book, sheet)


def _xls_iter(book: Any, sheet: Any) -> Iterator[list[str]]:
    import xlrd

    try:
        for r in range(sheet.nrows):
            row = []
            for cell in sheet.row(r):
                ctype, value = cell.ctype, cell.value
                if ctype == xlrd.XL_CELL_DATE:
                    try:
                        value = xlrd.xldate_as_datetime(value, book.datemode)
                    except (ValueError, OverflowError, xlrd.xldate.XLDateError):
                        pass
                elif ctype == xlrd.XL_CELL_BOOLEAN:
                    value = bool(value)
                elif ctype == xlrd.XL_CELL_ERROR:
                    value = xlrd.error_text_from_code.get(value, "#ERROR")
                row.append(_cell_text(value))
            yield row
    finally:
        book.release_resources()


# --- csv / txt ---------------------------------------------------------------


# Text is decoded as it is read: a decoded copy of a 20 MB upload would take 20–80 MB (one to four
# bytes a character), and a StringIO of it four bytes a character again.
_DECODE_CHUNK_BYTES = 1024 * 1024
_SNIFF_CHARS = 64 * 1024


def _text_encoding(data: bytes) -> str:
    """The encoding that decodes the whole of `data`, checked chunk by chunk (nothing is kept)."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates: tuple[str, ...] = ("utf-16",)  # Excel's "Unicode text" export
    elif data.startswith(BINARY_SIGNATURES) or b"\x00" in data:
        raise SpreadsheetError(MSG_MISMATCH)
    else:
        candidates = ("utf-8-sig", "gb18030")  # utf-8-sig also reads BOM-less UTF-8
    for encoding in candidates:
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            for start in range(0, len(data), _DECODE_CHUNK_BYTES):
                decoder.decode(data[start : start + _DECODE_CHUNK_BYTES])
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return encoding
    raise SpreadsheetError("无法识别文件编码（支持UTF-8与GBK）")


# A .txt whose sample has neither a tab nor a comma but a space is split at runs of whitespace.
SPACES = " "


def _sniff_delimiter(data: bytes, encoding: str) -> str | None:
    """Tab, else comma, else spaces (SPACES), else None: one cell a line."""
    # at most 4 bytes a character in UTF-8, GB18030 and UTF-16 (+ a BOM): enough for the sample
    sample = codecs.getincrementaldecoder(encoding)().decode(data[: 4 * _SNIFF_CHARS + 4])
    sample = sample[:_SNIFF_CHARS]
    if "\t" in sample:
        return "\t"
    if "," in sample:
        return ","
    if " " in sample:
        return SPACES
    return None


def _text_rows(data: bytes, *, tab_or_comma: bool) -> Iterator[list[str]]:
    encoding = _text_encoding(data)
    delimiter = _sniff_delimiter(data, encoding) if tab_or_comma else ","
    # newline="": lines end at \r, \n or \r\n, untranslated, as csv wants them; BytesIO shares
    # the bytes it is given
    text = io.TextIOWrapper(io.BytesIO(data), encoding=encoding, newline="")
    if delimiter is None:
        return _line_iter(text, split=False)
    if delimiter == SPACES:
        return _line_iter(text, split=True)
    return _csv_iter(text, delimiter)


def _line_iter(text: IO[str], *, split: bool) -> Iterator[list[str]]:
    # the same lines as str.splitlines() of the whole text, which also splits at \x0b, \x0c,
    # \x1c-\x1e, \x85, \u2028 and \u2029; split: cells between runs of whitespace
    for line in text:
        for part in line.splitlines():
            yield part.split() if split else [part.strip()]


def _csv_iter(text: IO[str], delimiter: str) -> Iterator[list[str]]:
    reader = csv.reader(text, delimiter=delimiter)
    for row in reader:
        yield [cell.strip() for cell in row]


# ---------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------

_FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """Defuse spreadsheet formula injection.

    A string starting with ``= + - @``, tab or CR gets a leading ``'`` so that
    Excel/WPS show it as text; any non-string value is returned unchanged.
    """
    if isinstance(value, str) and value.startswith(_FORMULA_TRIGGERS):
        return "'" + value
    return value


def local_time_text(value: dt.datetime | None) -> str:
    """An aware time as the site's local time for an export cell ("" when there is none)."""
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S") if value else ""


def _datetime_text(value: dt.date | dt.time) -> str:
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m-%d")
    return value.strftime("%H:%M:%S")


# Integers this large lose digits as IEEE doubles (Excel keeps 15 significant
# digits): write them as text so long coupon numbers survive.
_MAX_EXACT_EXCEL_INT = 10**15

_SHEET_NAME_INVALID = re.compile(r"[\[\]:*?/\\]")


def _sheet_name(base: str, index: int) -> str:
    base = _SHEET_NAME_INVALID.sub("_", base).strip("'") or "Sheet1"
    suffix = "" if index == 1 else f" ({index})"
    return base[: 31 - len(suffix)] + suffix


def write_xlsx(
    path_or_file: str | os.PathLike | IO[bytes],
    *,
    headers: list[str],
    rows: Iterable[Sequence[Any]],
    sheet_name: str = "Sheet1",
    max_rows_per_sheet: int = MAX_ROWS,
) -> int:
    """Stream ``rows`` into an .xlsx file; return the number of data rows written.

    Uses XlsxWriter in constant-memory mode. When a sheet holds
    ``max_rows_per_sheet`` rows (header included), writing continues on
    ``"<sheet_name> (2)"`` etc. with the header repeated. Strings are neutralised;
    int/float/Decimal are numbers (integers of 16+ digits become text to keep
    every digit); datetimes become ``'YYYY-MM-DD HH:MM:SS'`` strings (convert to
    local time before calling); None is a blank cell.
    """
    import xlsxwriter

    header_rows = 1 if headers else 0
    if max_rows_per_sheet <= header_rows:
        raise ValueError("每个工作表的行数上限必须大于表头行数")
    if isinstance(path_or_file, os.PathLike):
        path_or_file = os.fspath(path_or_file)
    workbook = xlsxwriter.Workbook(path_or_file, {"constant_memory": True})
    try:
        header_format = workbook.add_format({"bold": True})
        sheet_index = 0
        worksheet = None
        row_in_sheet = max_rows_per_sheet  # forces the first sheet to be created
        written = 0

        def new_sheet() -> Any:
            nonlocal sheet_index, row_in_sheet
            sheet_index += 1
            ws = workbook.add_worksheet(_sheet_name(sheet_name, sheet_index))
            for col, title in enumerate(headers):
                ws.write_string(0, col, str(neutralise(title)), header_format)
            row_in_sheet = header_rows
            return ws

        for row in rows:
            if row_in_sheet >= max_rows_per_sheet:
                worksheet = new_sheet()
            for col, value in enumerate(row):
                _write_xlsx_cell(worksheet, row_in_sheet, col, value)
            row_in_sheet += 1
            written += 1
        if worksheet is None:
            new_sheet()
    finally:
        workbook.close()
    return written


def _write_xlsx_cell(worksheet: Any, row: int, col: int, value: Any) -> None:
    if value is None:
        return
    if isinstance(value, bool):
        worksheet.write_boolean(row, col, value)
    elif isinstance(value, int):
        if abs(value) < _MAX_EXACT_EXCEL_INT:
            worksheet.write_number(row, col, value)
        else:
            worksheet.write_string(row, col, str(value))
    elif isinstance(value, float | Decimal):
        number = float(value)
        if math.isfinite(number):
            worksheet.write_number(row, col, number)
        else:
            worksheet.write_string(row, col, str(value))
    elif isinstance(value, dt.date | dt.time):
        worksheet.write_string(row, col, _datetime_text(value))
    else:
        worksheet.write_string(row, col, neutralise(str(value)))


def _csv_text(value: Any) -> Any:
    # Strings are by far the common case: check them first, and let csv format numbers itself.
    if type(value) is str:
        return "'" + value if value.startswith(_FORMULA_TRIGGERS) else value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.date | dt.time):
        return _datetime_text(value)
    if isinstance(value, int | float | Decimal):
        return value
    return neutralise(str(value))


class _LineBuffer:
    """File-like sink for csv.writer that hands back each written line."""

    def __init__(self) -> None:
        self.value = ""

    def write(self, text: str) -> int:
        self.value = text
        return len(text)


def csv_chunks(*, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[bytes]:
    """Yield a UTF-8 (with BOM) CSV as byte chunks, one per line.

    Suitable for a streaming HTTP response. Cells are neutralised.
    """
    sink = _LineBuffer()
    writer = csv.writer(sink)
    yield codecs.BOM_UTF8
    if headers:
        writer.writerow([_csv_text(h) for h in headers])
        yield sink.value.encode("utf-8")
    for row in rows:
        writer.writerow([_csv_text(v) for v in row])
        yield sink.value.encode("utf-8")


def write_csv(
    file: str | os.PathLike | IO[str] | IO[bytes],
    *,
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
) -> int:
    """Write a UTF-8-with-BOM CSV (opens correctly in Chinese Excel).

    ``file`` is a path, a binary stream, or a text stream (for a text stream
    opened by the caller, use ``newline=""``). Returns the number of data rows.
    """
    if isinstance(file, str | os.PathLike):
        with open(file, "w", encoding="utf-8", newline="") as handle:
            return write_csv(handle, headers=headers, rows=rows)
    if not isinstance(file, io.TextIOBase):
        text = io.TextIOWrapper(file, encoding="utf-8", newline="", write_through=True)
        try:
            return write_csv(text, headers=headers, rows=rows)
        finally:
            text.detach()
    file.write("\ufeff")
    writer = csv.writer(file)
    if headers:
        writer.writerow([_csv_text(h) for h in headers])
    written = 0
    for row in rows:
        writer.writerow([_csv_text(v) for v in row])
        written += 1
    return written
