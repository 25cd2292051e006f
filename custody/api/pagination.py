import re

from rest_framework import pagination
from rest_framework.exceptions import ErrorDetail, NotFound, ValidationError

# Every ordering of the API is an integer column (an id, a seq): a position is one of those.
POSITION = re.compile(r"-?[0-9]{1,19}")
PAGE_SIZE = re.compile(r"0*[1-9][0-9]*")
INT64 = range(-(2**63), 2**63)


class CursorPagination(pagination.CursorPagination):
    """Stable pages under inserts: a partner resumes from the cursor it was given.

    A cursor that is not one the API gave (not base64, or a position that is no integer the
    column can hold) is a 400 at ``cursor``, not DRF's 404, nor a query the database refuses.
    A ``page_size`` that is not a whole number is a 400 too, not silently the default (a larger
    one than ``max_page_size`` is that maximum).
    """

    ordering = "-id"
    page_size_query_param = "page_size"
    max_page_size = 1000

    def get_page_size(self, request):
        size = request.query_params.get(self.page_size_query_param, "")
        if size and not PAGE_SIZE.fullmatch(size):
            message = f"A whole number from 1 to {self.max_page_size:,}."
            detail = ErrorDetail(message, code="invalid_page_size")
            raise ValidationError({self.page_size_query_param: [detail]})
        return super().get_page_size(request)

    def decode_cursor(self, request):
        try:
            cursor = super().decode_cursor(request)
        except NotFound:
            cursor = None
        else:
            if cursor is None or cursor.position is None or is_position(cursor.position):
                return cursor
        message = ErrorDetail("Not a cursor this API gave.", code="invalid_cursor")
        raise ValidationError({self.cursor_query_param: [message]})


def is_position(text: str) -> bool:
    return POSITION.fullmatch(text) is not None and int(text) in INT64
