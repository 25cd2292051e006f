"""Asset manifests as CSV: ``text/csv`` with a header row naming the columns."""

import csv
import io

from rest_framework import serializers
from rest_framework.parsers import BaseParser

from ..services import AssetLine
from .inputs import AssetLineInput

COLUMNS = list(AssetLineInput().fields)
MAX_ROWS = 100_000


class CSVParser(BaseParser):
    media_type = "text/csv"

    def parse(self, stream, media_type=None, parser_context=None):
        return stream.read().decode("utf-8-sig", errors="replace")


def manifest_lines(text: str) -> list[AssetLine]:
    """Parse and check every row; a bad row is a 400 naming its row and column."""
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or "category" not in reader.fieldnames:
        raise serializers.ValidationError(
            {"csv": [f"A header row with the columns {', '.join(COLUMNS)} (category required)."]}
        )
    unknown = sorted(set(reader.fieldnames) - set(COLUMNS))
    if unknown:
        raise serializers.ValidationError({"csv": [f"Unknown columns: {', '.join(unknown)}."]})
    lines, errors = [], {}
    for number, row in enumerate(reader):
        if number >= MAX_ROWS:
            raise serializers.ValidationError({"csv": [f"At most {MAX_ROWS:,} rows per upload."]})
        values = {key: value for key, value in row.items() if key and value not in (None, "")}
        line = AssetLineInput(data=values)
        if line.is_valid():
            lines.append(AssetLine(**line.validated_data))
        else:
            errors[f"rows[{number}]"] = line.errors
    if errors:
        raise serializers.ValidationError(errors)
    return lines
