"""Rate limits: so many requests a minute per caller, counted in fixed one-minute windows.

A client has its own limit (ApiClient.rate_limit_per_minute); a person using a token has
API_PERSON_RATE_LIMIT_PER_MINUTE. The count lives in the "api" cache: Redis when REDIS_URL is set, so
every web worker adds to one count (an atomic INCR), the process's memory otherwise (the demo runs one
web process). Past the limit the answer is 429 (rate-limited) with Retry-After: the seconds until the
window ends. A fixed window lets a caller spend its limit at the end of one minute and again at the
start of the next: twice the rate for a moment, which the limits are chosen to bear; a sliding log
(DRF's SimpleRateThrottle) would cost a list per caller and is not atomic across workers.
"""

import math
import time

from django.conf import settings
from django.core.cache import caches
from rest_framework.throttling import BaseThrottle

from api.models import ApiClient

WINDOW_SECONDS = 60


def _count(key: str) -> int:
    cache = caches["api"]
    for _attempt in range(3):
        cache.add(key, 0, timeout=WINDOW_SECONDS * 2)
        try:
            return cache.incr(key)
        except ValueError:  # the key expired between add and incr: add it again
            continue
    return 1


class PerMinuteThrottle(BaseThrottle):
    def allow_request(self, request, view) -> bool:
        if not request.user.is_authenticated:
            return True  # refused before this (401), or a public page (the schema)
        client = request.auth
        if isinstance(client, ApiClient):
            caller, limit = f"client:{client.pk}", client.rate_limit_per_minute
        else:
            caller, limit = f"user:{request.user.pk}", settings.API_PERSON_RATE_LIMIT_PER_MINUTE
        now = time.time()
        window = int(now // WINDOW_SECONDS)
        self.retry_after = max(1, math.ceil((window + 1) * WINDOW_SECONDS - now))
        return _count(f"rate:{caller}:{window}") <= limit

    def wait(self) -> int:
        return self.retry_after
