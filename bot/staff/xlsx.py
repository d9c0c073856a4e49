"""A minimal .xlsx writer and reader (one sheet of text), with the standard library only.

An .xlsx file is a zip of XML parts. The writer makes the smallest workbook Excel, LibreOffice
and Google Sheets open without complaint: inline strings, a bold header row that stays in view,
wrapped text, column widths. The reader takes the first sheet of any workbook those programs
save: shared strings, inline strings, rich text runs, numbers (dates typed into a cell come back
as Excel serial numbers; the caller converts them) and Excel's `_x000D_` escapes.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Sequence
from xml.etree import ElementTree
from xml.sax.saxutils import escape

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_NS = {"m": _MAIN}
# XML 1.0 allows tab, newline, carriage return and printable characters only.
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_ESCAPED = re.compile(r"_x([0-9A-Fa-f]{4})_")


class XlsxError(Exception):
    """The file is not a readable workbook; the message is Vietnamese, for staff."""


def _column(index: int) -> str:
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


def _column_index(ref: str) -> int:
    letters = re.match(r"[A-Z]+", ref.upper())
    if letters is None:
        raise XlsxError(f"Ô không hợp lệ: {ref}")
    value = 0
    for ch in letters.group(0):
        value = value * 26 + ord(ch) - 64
    return value - 1


_CONTENT_TYPES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>
<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>
<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>
</Types>"""

_ROOT_RELS = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="{_PKG_REL}">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>
</Relationships>"""

_WORKBOOK_RELS = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="{_PKG_REL}">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>
<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>
</Relationships>"""

_STYLES = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="{_MAIN}">
<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font><font><b/><sz val="11"/><name val="Calibri"/></font></fonts>
<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>
<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>
<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>
<cellXfs count="3">
<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>
<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" applyAlignment="1"><alignment vertical="top" wrapText="1"/></xf>
<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>
</cellXfs>
</styleSheet>"""


def write_xlsx(
    rows: Sequence[Sequence[str]], widths: Sequence[int] = (), sheet_name: str = "Sheet1"
) -> bytes:
    """A workbook with one sheet: the first row is the bold header, the rest wrap text."""
    sheet_rows = []
    for r, row in enumerate(rows, 1):
        style = 2 if r == 1 else 1
        cells = []
        for c, value in enumerate(row):
            text = _INVALID_XML.sub("", str(value))
            if not text:
                continue
            cells.append(
                f'<c r="{_column(c)}{r}" s="{style}" t="inlineStr">'
                f'<is><t xml:space="preserve">{escape(text)}</t></is></c>'
            )
        sheet_rows.append(f'<row r="{r}">{"".join(cells)}</row>')
    cols = "".join(
        f'<col min="{i}" max="{i}" width="{w}" customWidth="1"/>' for i, w in enumerate(widths, 1)
    )
    sheet = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        f'<worksheet xmlns="{_MAIN}" xmlns:r="{_REL}">'
        '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" '
        'activePane="bottomLeft" state="frozen"/></sheetView></sheetViews>'
        + (f"<cols>{cols}</cols>" if cols else "")
        + f"<sheetData>{''.join(sheet_rows)}</sheetData></worksheet>"
    )
    workbook = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        f'<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><sheets>'
        f'<sheet name="{escape(sheet_name[:31])}" sheetId="1" r:id="rId1"/></sheets></workbook>'
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _ROOT_RELS)
        archive.writestr("xl/workbook.xml", workbook)
        archive.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        archive.writestr("xl/styles.xml", _STYLES)
        archive.writestr("xl/worksheets/sheet1.xml", sheet)
    return out.getvalue()


def _unescape(text: str) -> str:
    text = _ESCAPED.sub(lambda m: chr(int(m.group(1), 16)), text)
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _text_of(node: ElementTree.Element) -> str:
    """Text of an <si> or <is>: a plain <t>, or rich text runs <r><t>..</t></r>."""
    return "".join(t.text or "" for t in node.iter(f"{{{_MAIN}}}t"))


def _first_sheet_path(archive: zipfile.ZipFile) -> str:
    try:
        workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))
        rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    except KeyError:
        return "xl/worksheets/sheet1.xml"
    sheet = workbook.find("m:sheets/m:sheet", _NS)
    if sheet is None:
        raise XlsxError("Bảng tính không có trang nào.")
    rel_id = sheet.get(f"{{{_REL}}}id")
    for rel in rels:
        if rel.get("Id") == rel_id:
            target = rel.get("Target", "")
            return target.lstrip("/") if target.startswith("/") else f"xl/{target}"
    return "xl/worksheets/sheet1.xml"


def read_xlsx(data: bytes) -> list[list[str]]:
    """The first sheet's cells as text, row by row (empty rows kept, trailing cells trimmed)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise XlsxError("Tệp không phải bảng tính .xlsx hợp lệ.") from exc
    with archive:
        try:
            shared: list[str] = []
            if "xl/sharedStrings.xml" in archive.namelist():
                root = ElementTree.fromstring(archive.read("xl/sharedStrings.xml"))
                shared = [_text_of(si) for si in root.findall("m:si", _NS)]
            sheet = ElementTree.fromstring(archive.read(_first_sheet_path(archive)))
        except (KeyError, ElementTree.ParseError) as exc:
            raise XlsxError("Không đọc được nội dung bảng tính .xlsx.") from exc
    rows: list[list[str]] = []
    for row in sheet.iterfind("m:sheetData/m:row", _NS):
        number = int(row.get("r") or len(rows) + 1)
        while len(rows) < number - 1:
            rows.append([])
        cells: list[str] = []
        for cell in row.iterfind("m:c", _NS):
            ref = cell.get("r")
            index = _column_index(ref) if ref else len(cells)
            while len(cells) < index:
                cells.append("")
            cells.append(_unescape(_cell_value(cell, shared)))
        while cells and not cells[-1]:
            cells.pop()
        rows.append(cells)
    return rows


def _cell_value(cell: ElementTree.Element, shared: list[str]) -> str:
    kind = cell.get("t", "n")
    if kind == "inlineStr":
        inline = cell.find("m:is", _NS)
        return _text_of(inline) if inline is not None else ""
    value = cell.findtext("m:v", default="", namespaces=_NS)
    if kind == "s":
        try:
            return shared[int(value)]
        except (ValueError, IndexError):
            return ""
    if kind == "b":
        return "TRUE" if value == "1" else "FALSE"
    if kind == "n" and value.endswith(".0"):
        return value[:-2]
    return value
