from rest_framework import pagination


class CursorPagination(pagination.CursorPagination):
    """Stable pages under inserts: a partner resumes from the cursor it was given."""

    ordering = "-id"
    page_size_query_param = "page_size"
    max_page_size = 1000
