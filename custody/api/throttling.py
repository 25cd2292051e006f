import logging
import math
import threading
import time

from rest_framework.throttling import SimpleRateThrottle

logger = logging.getLogger(__name__)

# Once the shared cache failed, how long a process counts on its own before it tries it again.
SHARED_RETRY_SECONDS = 5.0


class LocalCounts:
    """One process's counts, kept while the shared cache is down or silent: the API keeps
    answering, and a key still has a budget, though in each web process (up to that many times
    its rate in all). Only the current window is kept."""

    def __init__(self):
        self.lock = threading.Lock()
        self.window: int | None = None
        self.counts: dict[str, int] = {}
        self.shared_down_until = 0.0

    def shared_is_down(self) -> bool:
        return time.monotonic() < self.shared_down_until

    def shared_failed(self, error: Exception) -> None:
        self.shared_down_until = time.monotonic() + SHARED_RETRY_SECONDS
        logger.warning(
            "Throttle cache unavailable (%s: %s); counting in this process for %s s",
            type(error).__name__,
            error,
            SHARED_RETRY_SECONDS,
        )

    def incr(self, key: str, window: int) -> int:
        with self.lock:
            if self.window is None or window > self.window:
                self.window, self.counts = window, {}
            self.counts[key] = self.counts.get(key, 0) + 1
            return self.counts[key]


_local = LocalCounts()


class PerKeyThrottle(SimpleRateThrottle):
    """One budget per API key (per user for session clients); 429 with Retry-After past it.

    Requests are counted in fixed windows by one atomic increment in the shared cache. DRF's
    own throttle reads and rewrites a list of every request's time: its cost grows with the
    rate, and two workers writing at once lose a count. A cache that fails never fails the
    request: the process counts on its own for a while (``LocalCounts``), with a warning.
    """

    scope = "partner"

    def get_cache_key(self, request, view):
        if request.auth is not None and hasattr(request.auth, "prefix"):
            ident = f"key:{request.auth.prefix}"
        elif request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            ident = f"ip:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def allow_request(self, request, view):
        # A view may name a budget of its own (``throttle_scope``): the public verification
        # pages, where one request recomputes a certificate's whole upstream ledger.
        scope = getattr(view, "throttle_scope", None)
        if scope and scope != self.scope:
            self.scope = scope
            self.rate = self.get_rate()
            self.num_requests, self.duration = self.parse_rate(self.rate)
        if self.rate is None:
            return True
        self.now = self.timer()
        window = int(self.now // self.duration)
        self.window_ends = (window + 1) * self.duration
        key = f"{self.get_cache_key(request, view)}:{window}"
        return self._count(key, window) <= self.num_requests

    def _count(self, key: str, window: int) -> int:
        if not _local.shared_is_down():
            try:
                return self._count_shared(key)
            except Exception as error:  # Redis down or silent: the API answers without it
                _local.shared_failed(error)
        return _local.incr(key, window)

    def _count_shared(self, key: str) -> int:
        try:
            return self.cache.incr(key)
        except ValueError:  # the window's first request
            if self.cache.add(key, 1, timeout=self.duration + 1):
                return 1
            return self.cache.incr(key)  # another worker added it first

    def wait(self):
        return max(1, math.ceil(self.window_ends - self.now))
