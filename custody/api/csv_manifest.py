"""Asset manifests as CSV: ``text/csv`` in UTF-8, a header row naming the columns, then a row
per asset. A file the csv module would misread is a 400 naming the row: bytes that are not
UTF-8, a line ending in a lone CR, an unterminated quote, a cell over the csv module's field
size limit, more cells than the header has columns, a column named twice, too many rows."""

import csv
import io
import re
from datetime import datetime
from decimal import Decimal

from django.utils import timezone
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail
from rest_framework.parsers import BaseParser

from ..models import AssetCategory, SanitizationMethod
from ..services import AssetLine
from .inputs import MAX_MANIFEST_ROWS, AssetLineInput, has_offset
from .parsers import read_body

COLUMNS = list(AssetLineInput().fields)
MAX_ROWS = MAX_MANIFEST_ROWS
LONE_CR = re.compile(r"\r(?!\n)")


def refusal(field: str, message: str, code: str) -> serializers.ValidationError:
    return serializers.ValidationError({field: [ErrorDetail(message, code=code)]})


class CSVParser(BaseParser):
    media_type = "text/csv"

    def parse(self, stream, media_type=None, parser_context=None):
        body = read_body(stream)
        try:
            return body.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise refusal(
                "csv",
                f"The file is not UTF-8 (byte {body[exc.start]:#04x} at offset {exc.start}).",
                "not_utf8",
            ) from None


def manifest_lines(text: str) -> list[AssetLine]:
    """Parse and check every row; a bad row is a 400 naming its row and column."""
    if lone_cr := LONE_CR.search(text):
        line = text.count("\n", 0, lone_cr.start()) + 1
        raise refusal(
            "csv", f"Line {line} ends with a lone CR: end lines with LF or CRLF.", "line_endings"
        )
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    reading = "csv"  # where a line the csv module cannot read is reported: the header, a row
    try:
        header = _header(next(reader, []))
        lines, errors, check = [], {}, AssetLineInput()
        reading = "rows[0]"
        for number, cells in enumerate(cells for cells in reader if cells):
            row, reading = f"rows[{number}]", f"rows[{number + 1}]"
            if number >= MAX_ROWS:
                raise refusal("csv", f"At most {MAX_ROWS:,} rows per upload.", "too_many_rows")
            if len(cells) > len(header):
                message = f"{len(cells)} cells, but the header names {len(header)} columns."
                errors[row] = [ErrorDetail(message, code="extra_cells")]
                continue
            values = {name: cell for name, cell in zip(header, cells, strict=False) if cell}
            line = plain_line(values)
            if line is None:
                try:
                    line = AssetLine(**check.run_validation(values))
                except serializers.ValidationError as error:
                    errors[row] = error.detail
                    continue
            lines.append(line)
    except csv.Error as error:
        raise refusal(reading, f"Line {reader.line_num}: {error}.", "malformed_csv") from None
    if errors:
        raise serializers.ValidationError(errors)
    return lines


def _header(names: list[str]) -> list[str]:
    if "category" not in names:
        raise refusal(
            "csv",
            f"A header row with the columns {', '.join(COLUMNS)} (category required).",
            "header",
        )
    if unknown := sorted(set(names) - set(COLUMNS)):
        raise refusal("csv", f"Unknown columns: {', '.join(unknown)}.", "unknown_columns")
    if twice := sorted({name for name in names if names.count(name) > 1}):
        raise refusal("csv", f"Columns named twice: {', '.join(twice)}.", "duplicate_columns")
    return names


# The plainest form of each value, which AssetLineInput takes as it is.
CHOICES = {
    "category": frozenset(AssetCategory.values),
    "sanitization_method": frozenset(SanitizationMethod.values),
}
TEXTS = {
    name: field.max_length
    for name, field in AssetLineInput().fields.items()
    if type(field) is serializers.CharField
}
PLAIN_MASS = re.compile(r"[0-9]{1,11}(\.[0-9]{1,3})?")
GRAMS = Decimal("0.001")


def plain_line(values: dict[str, str]) -> AssetLine | None:
    """The line, when every cell is in the plainest form that ``AssetLineInput`` takes
    unchanged: checked here at a fraction of its cost (a 100,000-row file). Anything else
    (``None``) goes through ``AssetLineInput``, which accepts it or says what is wrong."""
    if "category" not in values:
        return None
    line = {}
    for name, cell in values.items():
        if name in CHOICES:
            if cell not in CHOICES[name]:
                return None
            line[name] = cell
        elif name in TEXTS:
            if len(cell) > TEXTS[name] or cell != cell.strip() or "\x00" in cell:
                return None
            line[name] = cell
        elif name == "weight_kg":
            if not PLAIN_MASS.fullmatch(cell):
                return None
            line[name] = Decimal(cell).quantize(GRAMS)
        elif name == "sanitized_at":
            if (moment := _plain_moment(cell)) is None:
                return None
            line[name] = moment
        else:
            return None
    return AssetLine(**line)


def _plain_moment(cell: str) -> datetime | None:
    if not has_offset(cell):
        return None
    try:
        moment = datetime.fromisoformat(cell)
        return moment.astimezone(timezone.get_current_timezone()) if moment.tzinfo else None
    except (ValueError, OverflowError):
        return None
