"""Request limits of the partner API, applied before any view runs.

* ``BodyLimits``: a body over ``API_MAX_BODY_BYTES`` is a 413 problem document, told from its
  ``Content-Length`` before a byte of it is read. A chunked body (no ``Content-Length``), which
  Django would read as empty, is read up to the limit and handed on, or refused with a 413 as
  soon as it passes it; a server that cannot tell where such a body ends gets a 411. (Django's
  own ``RequestDataTooBig``, ``DATA_UPLOAD_MAX_MEMORY_SIZE``, is a 413 too: ``errors``.)
* ``CommonMiddleware``: Django's, except that an API request other than GET or HEAD to a path
  without its trailing slash is not redirected (a 301 turns a POST into a GET; with DEBUG,
  Django raises instead): it is a 404 problem document naming the path with its slash.
"""

import io

from django.core.handlers.wsgi import LimitedStream
from django.http import JsonResponse
from django.middleware import common
from django.urls import is_valid_path

from .errors import is_api, problem_page
from .parsers import body_limit, too_large_message

CHUNK = 64 * 1024


def too_large() -> JsonResponse:
    return problem_page(413, "body_too_large", too_large_message(body_limit()))


class BodyLimits:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if is_api(request):
            refused = self.refuse_or_read(request)
            if refused is not None:
                return refused
        return self.get_response(request)

    def refuse_or_read(self, request) -> JsonResponse | None:
        limit = body_limit()
        length = request.META.get("CONTENT_LENGTH")
        if length:
            try:
                declared = int(length)
            except ValueError:
                return None  # Django reads no body then
            return too_large() if declared > limit else None
        if "chunked" not in request.META.get("HTTP_TRANSFER_ENCODING", "").lower():
            return None
        if not request.META.get("wsgi.input_terminated"):
            return problem_page(
                411, "length_required", "Send the body with a Content-Length header."
            )
        body = bytearray()
        source = request.META["wsgi.input"]
        while chunk := source.read(min(CHUNK, limit + 1 - len(body))):
            body += chunk
            if len(body) > limit:
                return too_large()
        # Django read the missing Content-Length as an empty body: hand it the one just read.
        request._stream = LimitedStream(io.BytesIO(bytes(body)), len(body))
        request.META["CONTENT_LENGTH"] = str(len(body))
        return None


class CommonMiddleware(common.CommonMiddleware):
    def should_redirect_with_slash(self, request):
        if is_api(request) and request.method not in ("GET", "HEAD"):
            return False
        return super().should_redirect_with_slash(request)

    def process_response(self, request, response):
        if response.status_code == 404 and _write_without_slash(request):
            return problem_page(
                404,
                "not_found",
                f"No such resource. Paths end with a slash: {request.method} "
                f"{request.path}/ instead.",
            )
        return super().process_response(request, response)


def _write_without_slash(request) -> bool:
    path = request.path_info
    urlconf = getattr(request, "urlconf", None)
    return (
        is_api(request)
        and request.method not in ("GET", "HEAD")
        and not path.endswith("/")
        and not is_valid_path(path, urlconf)
        and bool(is_valid_path(f"{path}/", urlconf))
    )
