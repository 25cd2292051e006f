"""Request bodies within limits: at most ``API_MAX_BODY_BYTES`` read (413 beyond; the
``BodyLimits`` middleware refuses most before any of it is read), and JSON nested at most
``MAX_DEPTH`` levels (422 ``too_deep``, naming where), checked on the text before it is parsed,
so that no parser or serializer recurses a thousand levels down."""

import json
import re
from itertools import accumulate

from django.conf import settings
from rest_framework import exceptions, parsers
from rest_framework.utils.json import strict_constant

from ..errors import DomainError, ErrorCode
from ..services.validation import MAX_DEPTH

# The tokens that open, close or separate JSON values, strings (and keys) as one token.
TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"(?:\s*:)?|[\[\]{},]', re.DOTALL)
NOT_STRUCTURE = bytes(set(range(256)) - set(b'[]{}"'))
SQUARE = bytes.maketrans(b"{}", b"[]")
QUOTED = re.compile(rb'"[^"]*"')
STEP = {ord("["): 1, ord("]"): -1}


class BodyTooLarge(exceptions.APIException):
    status_code = 413
    default_code = "body_too_large"
    default_detail = "The request body is too large."


def body_limit() -> int:
    return settings.API_MAX_BODY_BYTES


def too_large_message(limit: int) -> str:
    return f"The request body is larger than {limit:,} bytes (API_MAX_BODY_BYTES)."


def read_body(stream) -> bytes:
    """The body, read to at most the limit and one byte more: 413 if there is more."""
    limit = body_limit()
    body = stream.read(limit + 1)
    if len(body) > limit:
        raise BodyTooLarge(too_large_message(limit))
    return body


def too_deep_at(text: str, limit: int = MAX_DEPTH) -> str | None:
    """Where JSON ``text`` nests deeper than ``limit`` levels (the field path of the first
    value too deep, ``""`` for the root), or None. Only a body that is too deep is walked token
    by token; the rest is counted with bytes operations, on the brackets outside strings."""
    if text.count("[") + text.count("{") <= limit or not _deeper(text.encode(), limit):
        return None
    return _path_beyond(text, limit)


def _deeper(raw: bytes, limit: int) -> bool:
    brackets = _brackets_outside_strings(raw)
    nested = brackets
    for _ in range(limit):  # each pass takes away the innermost level
        nested = nested.replace(b"[]", b"")
        if not nested:
            return False
    return max(accumulate(map(STEP.__getitem__, brackets))) > limit


def _brackets_outside_strings(raw: bytes) -> bytes:
    """The brackets of ``raw`` (UTF-8 JSON) outside its strings, braces as square brackets.
    Without escaped backslashes and quotes, quotes alternate: each opens or closes a string.
    Only quotes and brackets are kept; a pair of adjacent quotes is an empty string, or two
    strings with no bracket between them: either way it goes, and what is left of the strings
    (those holding brackets) goes with a regular expression over what little remains."""
    unescaped = raw.replace(b"\\\\", b"").replace(b'\\"', b"")
    kept = unescaped.translate(SQUARE, NOT_STRUCTURE).replace(b'""', b"")
    return QUOTED.sub(b"", kept).replace(b'"', b"")


def _path_beyond(text: str, limit: int) -> str:
    open_values = []  # [kind, key token or index] of every container open at this point
    for match in TOKEN.finditer(text):
        token = match.group()
        if token == "[" or token == "{":
            if len(open_values) == limit:
                return _field(open_values)
            open_values.append([token, None if token == "{" else 0])
        elif token == "]" or token == "}":
            if open_values:
                open_values.pop()
        elif token == ",":
            if open_values and open_values[-1][0] == "[":
                open_values[-1][1] += 1
        elif token[-1] == ":" and open_values and open_values[-1][0] == "{":
            open_values[-1][1] = token
    return ""


def _key(token: str | None) -> str:
    """An object's key from its token (``"name" :``)."""
    if token is None:
        return ""
    quoted = token[: token.rindex('"') + 1]
    try:
        return json.loads(quoted)
    except ValueError:
        return quoted


def _field(open_values) -> str:
    field = ""
    for kind, part in open_values:
        if kind == "[":
            field += f"[{part}]"
        else:
            field += f".{_key(part)}" if field else _key(part)
    return field


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser (UTF-8, no NaN or Infinity), with the body size and depth limits."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = read_body(stream).decode(encoding)
        except UnicodeDecodeError as exc:
            raise exceptions.ParseError(f"JSON parse error - {exc}") from None
        where = too_deep_at(text)
        if where is not None:
            raise DomainError(
                ErrorCode.TOO_DEEP,
                f"JSON may nest objects and lists at most {MAX_DEPTH} levels deep.",
                field=where or None,
            )
        try:
            return json.loads(text, parse_constant=strict_constant if self.strict else None)
        except ValueError as exc:
            raise exceptions.ParseError(f"JSON parse error - {exc}") from None
