"""Bearer-key checks for reads and writes, and per-client rate limits."""

from __future__ import annotations

import hmac
import math
import threading
import time
from collections import OrderedDict

from service.config import Settings
from service.api.errors import ApiError


def _bearer(authorization: str | None) -> str | None:
    scheme, _, token = (authorization or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _matches(token: str, key: str) -> bool:
    return hmac.compare_digest(token.encode("utf-8", "surrogateescape"), key.encode())


def check_write(authorization: str | None, settings: Settings) -> None:
    if settings.admin_key is None:
        if settings.dev_allow_writes:
            return
        raise ApiError(403, "writes_disabled", "document writes are disabled: set CITEQA_ADMIN_KEY "
                                              "(or CITEQA_DEV_ALLOW_WRITES=1 for local development)")
    token = _bearer(authorization)
    if token is None:
        raise ApiError(401, "unauthorized", "document writes need an 'Authorization: Bearer <admin key>' header")
    if not _matches(token, settings.admin_key.get_secret_value()):
        raise ApiError(403, "forbidden", "the admin key is not valid")


def check_read(authorization: str | None, settings: Settings) -> None:
    if not settings.api_keys:
        return
    token = _bearer(authorization)
    if token is None:
        raise ApiError(401, "unauthorized", "this server needs an 'Authorization: Bearer <API key>' header")
    keys = [k.get_secret_value() for k in settings.api_keys]
    if settings.admin_key is not None:
        keys.append(settings.admin_key.get_secret_value())
    # Compare against every key so timing does not reveal which one nearly matched.
    if not any([_matches(token, key) for key in keys]):  # noqa: C419 - a list on purpose, no short-circuit
        raise ApiError(403, "forbidden", "the API key is not valid")


def is_write(method: str, path: str) -> bool:
    return method in ("POST", "PUT", "PATCH", "DELETE") and (path == "/v1/documents" or path.startswith("/v1/documents/"))


class RateLimiter:
    """Token buckets per (client, kind); least recently seen clients are forgotten first."""

    def __init__(self, per_minute: dict[str, int], max_clients: int = 10_000) -> None:
        self.per_minute = per_minute
        self.max_clients = max_clients
        self._buckets: OrderedDict[tuple[str, str], tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def check(self, client: str, kind: str) -> None:
        limit = self.per_minute.get(kind, 0)
        if limit <= 0:
            return
        now = time.monotonic()
        rate = limit / 60.0
        with self._lock:
            tokens, last = self._buckets.pop((client, kind), (float(limit), now))
            tokens = min(float(limit), tokens + (now - last) * rate)
            allowed = tokens >= 1
            self._buckets[(client, kind)] = (tokens - 1 if allowed else tokens, now)
            while len(self._buckets) > self.max_clients:
                self._buckets.popitem(last=False)
        if not allowed:
            retry = math.ceil((1 - tokens) / rate)
            raise ApiError(429, "rate_limited", f"too many {kind} requests from this client; retry in {retry} s",
                           headers={"Retry-After": str(retry)})
