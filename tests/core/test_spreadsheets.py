import codecs
import csv
import datetime as dt
import io
import os
import time
import zipfile
from decimal import Decimal

import openpyxl
import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from couponhub.core import spreadsheets
from couponhub.core.errors import Refused
from couponhub.core.spreadsheets import (
    MAX_COMPRESSION_RATIO,
    MAX_ROWS,
    MAX_UNCOMPRESSED_BYTES,
    MAX_UPLOAD_BYTES,
    SpreadsheetError,
    csv_chunks,
    neutralise,
    read_rows,
    write_csv,
    write_xlsx,
)

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48


def read(data: bytes, filename: str, **kwargs) -> list[list[str]]:
    return list(read_rows(io.BytesIO(data), filename=filename, **kwargs))


def test_limits():
    assert MAX_UPLOAD_BYTES == 20 * 1024 * 1024
    assert MAX_ROWS == 1_048_576
    assert MAX_UNCOMPRESSED_BYTES == 200 * 1024 * 1024
    assert MAX_COMPRESSION_RATIO == 100


# --- neutralise --------------------------------------------------------------


@pytest.mark.parametrize("text", ["=1+1", "+86", "-2", "@SUM(A1)", "\tx", "\rx"])
def test_neutralise_prefixes_dangerous_strings(text):
    assert neutralise(text) == "'" + text


@pytest.mark.parametrize(
    "value",
    ["普通文本", "", "a=b", 5, -5, 1.5, Decimal("-3.20"), dt.date(2024, 1, 2), None],
)
def test_neutralise_leaves_other_values(value):
    assert neutralise(value) is value


# --- xlsx --------------------------------------------------------------------


def test_xlsx_round_trip(tmp_path):
    path = tmp_path / "out.xlsx"
    rows = [
        ["券码A", 123, Decimal("12.50"), dt.datetime(2024, 5, 6, 7, 8, 9), None, True],
        ['=HYPERLINK("http://x")', -7, 0.25, dt.date(2024, 1, 31), "  中文  ", False],
        ["12345678901234567890", 12345678901234567890, Decimal("1E+3"), "", "+1", "@a"],
    ]
    count = write_xlsx(path, headers=["券码", "数量", "金额", "时间", "备注", "启用"], rows=rows)
    assert count == 3
    assert read(path.read_bytes(), "导出.XLSX") == [
        ["券码", "数量", "金额", "时间", "备注", "启用"],
        ["券码A", "123", "12.5", "2024-05-06 07:08:09", "", "TRUE"],
        ['\'=HYPERLINK("http://x")', "-7", "0.25", "2024-01-31", "中文", "FALSE"],
        ["12345678901234567890", "12345678901234567890", "1000", "", "'+1", "'@a"],
    ]
    sheet = openpyxl.load_workbook(path).active
    assert sheet["B2"].value == 123 and sheet["C2"].value == 12.5  # typed numbers
    assert sheet["B4"].data_type == "s"  # 20-digit integer kept as text
    assert sheet["A3"].data_type == "s"  # not a formula


def test_xlsx_write_to_file_object_and_empty_rows():
    buffer = io.BytesIO()
    assert write_xlsx(buffer, headers=["a", "b"], rows=iter([])) == 0
    assert read(buffer.getvalue(), "x.xlsx") == [["a", "b"]]


def test_xlsx_multi_sheet_continuation():
    buffer = io.BytesIO()
    rows = ([f"C{i:03d}", i] for i in range(10))
    count = write_xlsx(
        buffer, headers=["券码", "序号"], rows=rows, sheet_name="券码", max_rows_per_sheet=4
    )
    assert count == 10
    workbook = openpyxl.load_workbook(buffer)
    assert workbook.sheetnames == ["券码", "券码 (2)", "券码 (3)", "券码 (4)"]
    data = []
    for sheet in workbook.worksheets:
        values = [list(r) for r in sheet.iter_rows(values_only=True)]
        assert values[0] == ["券码", "序号"]
        assert len(values) <= 4
        data.extend(values[1:])
    assert data == [[f"C{i:03d}", i] for i in range(10)]


def test_xlsx_reader_converts_openpyxl_types():
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["名称", "数量", "生效日期", "金额"])
    sheet.append(["  A  ", 5.0, dt.datetime(2024, 3, 1), 9.99])
    sheet.append([None, None, None, None])
    sheet.append(["B", 100, dt.datetime(2024, 3, 1, 12, 30), None])
    sheet.append([None, None])
    sheet.append([])
    buffer = io.BytesIO()
    workbook.save(buffer)
    assert read(buffer.getvalue(), "a.xlsx") == [
        ["名称", "数量", "生效日期", "金额"],
        ["A", "5", "2024-03-01", "9.99"],
        [],
        ["B", "100", "2024-03-01 12:30:00"],
    ]


def test_row_limit():
    data = "\n".join(f"C{i}" for i in range(11)).encode()
    assert len(read(data, "a.csv", max_rows=11)) == 11
    with pytest.raises(SpreadsheetError, match="超过10行上限"):
        read(data, "a.csv", max_rows=10)
    # trailing empty rows do not count
    assert len(read(data + b"\n\n\n", "a.csv", max_rows=11)) == 11


def test_default_row_limit_message():
    rows = read_rows(io.BytesIO(b"a\nb\n"), filename="a.csv", max_rows=1)
    with pytest.raises(SpreadsheetError) as info:
        list(rows)
    assert str(info.value) == "超过1行上限"
    assert f"{MAX_ROWS:,}" == "1,048,576"


def _zip(members: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def test_zip_bomb_disguised_as_xlsx_is_refused_quickly():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        with archive.open("xl/worksheets/sheet1.xml", "w") as member:
            chunk = b"\0" * (1 << 20)
            for _ in range(300):  # 300 MB of zeros, about 1 MB compressed
                member.write(chunk)
    data = buffer.getvalue()
    assert len(data) < 2 * 1024 * 1024
    started = time.monotonic()
    with pytest.raises(SpreadsheetError, match="文件疑似压缩炸弹，已拒绝"):
        read(data, "优惠券.xlsx")
    assert time.monotonic() - started < 0.5


def test_high_ratio_member_is_refused():
    data = _zip(
        {
            "[Content_Types].xml": b"<Types/>",
            "xl/workbook.xml": b"<workbook/>",
            "xl/sharedStrings.xml": b" " * (5 * 1024 * 1024),
        }
    )
    with pytest.raises(SpreadsheetError, match="压缩炸弹"):
        read(data, "a.xlsx")


def test_total_uncompressed_size_and_member_count_limits(monkeypatch):
    members = {
        "[Content_Types].xml": b"<Types/>",
        "xl/workbook.xml": b"<workbook/>",
        "xl/media/image1.bin": os.urandom(300_000),
    }
    data = _zip(members)
    monkeypatch.setattr(spreadsheets, "MAX_UNCOMPRESSED_BYTES", 200_000)
    with pytest.raises(SpreadsheetError, match="压缩炸弹"):
        read(data, "a.xlsx")
    monkeypatch.undo()
    monkeypatch.setattr(spreadsheets, "MAX_ZIP_MEMBERS", 2)
    with pytest.raises(SpreadsheetError, match="压缩炸弹"):
        read(data, "a.xlsx")


def test_zip_without_content_types_is_a_mismatch():
    data = _zip({"word/document.xml": b"<doc/>"})
    with pytest.raises(SpreadsheetError, match="文件内容与扩展名不符"):
        read(data, "a.xlsx")


def test_corrupt_xlsx_gives_chinese_error():
    data = b"PK\x03\x04" + b"\x00" * 200
    with pytest.raises(SpreadsheetError, match="损坏"):
        read(data, "a.xlsx")
    # a structurally valid zip whose workbook XML is garbage
    bad = _zip({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"not xml <<<"})
    with pytest.raises(SpreadsheetError, match="损坏"):
        read(bad, "a.xlsx")


def test_truncated_real_xlsx_gives_chinese_error():
    buffer = io.BytesIO()
    write_xlsx(buffer, headers=["a"], rows=[[i] for i in range(1000)])
    data = buffer.getvalue()
    with pytest.raises(SpreadsheetError):
        read(data[: len(data) // 2], "a.xlsx")


# --- xls ---------------------------------------------------------------------


def test_xls_round_trip():
    xlwt = pytest.importorskip("xlwt")
    book = xlwt.Workbook()
    sheet = book.add_sheet("Sheet1")
    date_style = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    for col, value in enumerate(["券码", "数量", "日期", "金额"]):
        sheet.write(0, col, value)
    sheet.write(1, 0, " X1 ")
    sheet.write(1, 1, 42)
    sheet.write(1, 2, dt.date(2024, 2, 29), date_style)
    sheet.write(1, 3, 3.75)
    buffer = io.BytesIO()
    book.save(buffer)
    assert read(buffer.getvalue(), "old.xls") == [
        ["券码", "数量", "日期", "金额"],
        ["X1", "42", "2024-02-29", "3.75"],
    ]


def test_xls_requires_ole2_signature():
    buffer = io.BytesIO()
    write_xlsx(buffer, headers=["a"], rows=[])
    with pytest.raises(SpreadsheetError, match="文件内容与扩展名不符"):
        read(buffer.getvalue(), "renamed.xls")
    with pytest.raises(SpreadsheetError, match="文件内容与扩展名不符"):
        read("名称,券码\n".encode(), "text.xls")


def test_corrupt_xls_gives_chinese_error():
    with pytest.raises(SpreadsheetError, match="损坏"):
        read(spreadsheets.OLE2_SIGNATURE + b"\x00" * 600, "a.xls")


def test_xls_content_in_xlsx_file_is_a_mismatch():
    with pytest.raises(SpreadsheetError, match="文件内容与扩展名不符"):
        read(spreadsheets.OLE2_SIGNATURE + b"\x00" * 600, "a.xlsx")


# --- csv / txt ---------------------------------------------------------------


def test_csv_gbk():
    data = "名称,券码\n满100减20, ABC123 \n".encode("gbk")
    assert read(data, "gbk.csv") == [["名称", "券码"], ["满100减20", "ABC123"]]


def test_csv_utf8_with_and_without_bom():
    text = '名称,券码\r\n"含,逗号",X1\r\n'
    expected = [["名称", "券码"], ["含,逗号", "X1"]]
    assert read(text.encode("utf-8-sig"), "a.csv") == expected
    assert read(text.encode("utf-8"), "a.csv") == expected


def test_csv_gb18030_only_characters():
    data = "名称\n𠀀\n".encode("gb18030")
    assert read(data, "a.csv") == [["名称"], ["𠀀"]]


def test_txt_utf16_excel_unicode_text_export():
    data = "券码\t金额\r\nA1\t5\r\n".encode("utf-16")
    assert read(data, "unicode.txt") == [["券码", "金额"], ["A1", "5"]]


def test_undecodable_text():
    with pytest.raises(SpreadsheetError, match="无法识别文件编码（支持UTF-8与GBK）"):
        read(b"abc\xff\xfe\xfd\n", "a.csv")


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"A1\nA2\n\nA3\n\n", [["A1"], ["A2"], [], ["A3"]]),
        (b"A1, 5\nA2,6\n", [["A1", "5"], ["A2", "6"]]),
        (b"A1\t5\nA2\t6,7\n", [["A1", "5"], ["A2", "6,7"]]),
        (" 券码一 \n券码二".encode("gbk"), [["券码一"], ["券码二"]]),
        # neither a tab nor a comma: separated by spaces (a run of them is one separator)
        (b"A1 5\r\nA2   6\n\n A3 \n", [["A1", "5"], ["A2", "6"], [], ["A3"]]),
        (b"A1 5\nA2 6\n", [["A1", "5"], ["A2", "6"]]),
    ],
)
def test_txt_delimiter_sniffing(data, expected):
    assert read(data, "codes.txt") == expected


def _whole_text_rows(data: bytes, encoding: str, delimiter: str | None) -> list[list[str]]:
    """The rows of a text file decoded all at once (how read_rows read text before it streamed)."""
    text = data.decode(encoding)
    if delimiter is None:
        return [[line.strip()] for line in text.splitlines()]
    if delimiter == " ":
        return [line.split() for line in text.splitlines()]
    return [
        [c.strip() for c in row]
        for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    ]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "utf-16"])
@pytest.mark.parametrize("seed", range(3))
def test_text_is_read_as_it_streams_with_the_rows_of_the_whole_text(encoding, seed):
    """Long texts (many decoder and read chunks) full of line ends of every kind, quotes and
    multi-byte characters: the streamed rows are those of the text decoded at once."""
    import random

    rng = random.Random(seed)
    pieces = ["\r\n", "\n", "\r", ",", "\t", '"', " ", "券码", "𠀀", "\u2028", "\x1c", "A1", "9"]
    text = "".join(rng.choice(pieces) for _ in range(60_000))
    whole = {"utf-8": "utf-8-sig", "utf-8-sig": "utf-8-sig"}.get(encoding, encoding)
    for filename, body, delimiter in (
        ("a.csv", text, ","),
        ("a.txt", text, "\t"),  # sniffed: a tab in the text
        ("a.txt", text.replace("\t", "").replace(",", ""), " "),  # spaces: split at runs of them
        ("a.txt", text.replace("\t", "").replace(",", "").replace(" ", ""), None),  # one cell
    ):
        data = body.encode(encoding)
        streamed = list(spreadsheets._text_rows(data, tab_or_comma=filename == "a.txt"))
        assert streamed == _whole_text_rows(data, whole, delimiter)


@pytest.mark.parametrize("name", ["pic.csv", "pic.txt", "pic.xlsx", "pic.xls"])
def test_renamed_png_is_rejected(name):
    with pytest.raises(SpreadsheetError, match="文件内容与扩展名不符"):
        read(PNG, name)


@pytest.mark.parametrize("name", ["setup.csv", "setup.xlsx"])
def test_renamed_exe_is_rejected(name):
    with pytest.raises(SpreadsheetError, match="文件内容与扩展名不符"):
        read(EXE, name)


def test_xlsx_renamed_to_csv_is_rejected():
    buffer = io.BytesIO()
    write_xlsx(buffer, headers=["a"], rows=[])
    with pytest.raises(SpreadsheetError, match="文件内容与扩展名不符"):
        read(buffer.getvalue(), "a.csv")


@pytest.mark.parametrize("name", ["a.csv", "a.xlsx", "a.xls", "a.txt"])
def test_empty_file(name):
    with pytest.raises(SpreadsheetError, match="^文件为空$"):
        read(b"", name)


def test_file_over_size_limit():
    with pytest.raises(SpreadsheetError, match="^文件超过1KB上限$"):
        read(b"a," * 1000, "a.csv", max_bytes=1024)
    assert read(b"a" * 1024, "a.csv", max_bytes=1024) == [["a" * 1024]]


def test_default_size_limit_message():
    with pytest.raises(SpreadsheetError, match="^文件超过20MB上限$"):
        read(b"a" * (MAX_UPLOAD_BYTES + 1), "a.csv")


def test_unsupported_extension():
    with pytest.raises(SpreadsheetError, match="不支持的文件类型"):
        read(b"a,b", "a.numbers")


def test_errors_are_raised_eagerly_and_are_refusals():
    with pytest.raises(Refused):
        read_rows(io.BytesIO(PNG), filename="a.csv")  # no iteration needed


def test_reads_from_start_of_an_already_read_stream():
    stream = io.BytesIO(b"a,b\n")
    stream.read()
    assert list(read_rows(stream, filename="a.csv")) == [["a", "b"]]


# --- csv writer --------------------------------------------------------------


def test_write_csv_round_trip_with_bom_and_neutralised_cells(tmp_path):
    path = tmp_path / "out.csv"
    rows = [
        ["=1+1", Decimal("12.50"), dt.datetime(2024, 5, 6, 7, 8, 9), None],
        ["-@x", -3, dt.date(2024, 1, 2), "含,逗号"],
    ]
    assert write_csv(path, headers=["券码", "金额", "时间", "备注"], rows=rows) == 2
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert list(csv.reader(io.StringIO(raw.decode("utf-8-sig")))) == [
        ["券码", "金额", "时间", "备注"],
        ["'=1+1", "12.50", "2024-05-06 07:08:09", ""],
        ["'-@x", "-3", "2024-01-02", "含,逗号"],
    ]
    assert read(raw, "out.csv")[1] == ["'=1+1", "12.50", "2024-05-06 07:08:09"]


def test_write_csv_to_text_and_binary_streams():
    binary = io.BytesIO()
    assert write_csv(binary, headers=["a"], rows=iter([["x"], ["+y"]])) == 2
    text = io.StringIO(newline="")
    assert write_csv(text, headers=["a"], rows=[["x"], ["+y"]]) == 2
    assert text.getvalue().encode("utf-8") == binary.getvalue()
    assert binary.getvalue() == b"\xef\xbb\xbfa\r\nx\r\n'+y\r\n"


def test_csv_chunks_stream_lazily():
    def rows():
        yield ["a"]
        raise RuntimeError("rows are consumed lazily")

    chunks = csv_chunks(headers=["h"], rows=rows())
    assert next(chunks) == b"\xef\xbb\xbf"
    assert next(chunks) == b"h\r\n"
    assert next(chunks) == b"a\r\n"
    with pytest.raises(RuntimeError):
        next(chunks)


def test_damage_inside_worksheet_surfaces_as_spreadsheet_error_while_iterating():
    buffer = io.BytesIO()
    write_xlsx(buffer, headers=["a"], rows=[[i] for i in range(5)])
    source = zipfile.ZipFile(buffer)
    damaged = io.BytesIO()
    with zipfile.ZipFile(damaged, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                content = content[: len(content) // 2] + b"<<<garbage"
            target.writestr(info.filename, content)
    rows = read_rows(io.BytesIO(damaged.getvalue()), filename="a.xlsx")
    with pytest.raises(SpreadsheetError, match="文件已损坏或格式不正确"):
        list(rows)


def test_xml_entity_expansion_is_refused():
    buffer = io.BytesIO()
    write_xlsx(buffer, headers=["a"], rows=[["x"]])
    source = zipfile.ZipFile(buffer)
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&lol2;</t></is></c></row>'
        b"</sheetData></worksheet>"
    )
    evil = io.BytesIO()
    with zipfile.ZipFile(evil, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                content = laughs
            target.writestr(info.filename, content)
    with pytest.raises(SpreadsheetError) as info:
        list(read_rows(io.BytesIO(evil.getvalue()), filename="a.xlsx"))
    assert "EntitiesForbidden" in repr(info.value.__cause__.__cause__)  # defusedxml refused it


def _cell_by_the_rule(value) -> str:
    """write_csv's rule for one cell, spelled out here on its own: a string starting with a
    formula character gets a leading quote, None is empty, booleans are TRUE/FALSE, dates are
    ISO, numbers are written as Python writes them."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, int | Decimal):
        return str(value)
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


@hypothesis_settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.lists(
            st.one_of(
                st.text(max_size=6),
                st.sampled_from(["=1+2", "-x", "+1", "@a", "\tt", "\rr", "a,b", 'q"q', "x\ny", ""]),
                st.integers(-5, 5),
                st.decimals(-10, 10, places=2),
                st.none(),
                st.booleans(),
                st.dates(),
            ),
            min_size=0,
            max_size=4,
        ),
        max_size=30,
    ),
)
def test_write_csv_writes_each_cell_by_the_rule(rows):
    # given any rows; when write_csv writes them
    out = io.StringIO(newline="")
    assert write_csv(out, headers=["h"], rows=rows) == len(rows)
    # then the text is the csv module's for the cells the rule makes, and reads back as them
    cells = [[_cell_by_the_rule(v) for v in row] for row in rows]
    expected = io.StringIO(newline="")
    csv.writer(expected).writerows([["h"], *cells])
    assert out.getvalue() == "\ufeff" + expected.getvalue()
    assert list(csv.reader(io.StringIO(out.getvalue()[1:], newline=""))) == [["h"], *cells]


def test_a_nul_postgresql_cannot_store_is_refused_by_row():
    # Excel's "Unicode text" (UTF-16) may hold a NUL; it must not reach the COPY that stages rows
    data = codecs.BOM_UTF16_LE + "手机号\n13800000000\na\x00b\n".encode("utf-16-le")
    rows = read_rows(io.BytesIO(data), filename="a.txt")
    with pytest.raises(SpreadsheetError, match="第3行含有空字符（NUL）"):
        list(rows)
