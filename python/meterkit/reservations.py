"""Reservations: hold credits for a job before it starts, release them when it fails. Credits are
exact decimals (``str``, ``int`` or ``decimal.Decimal``; a float is refused). The id is fixed here
when the caller gives none, so a retried call holds once. Calls are retried a few times on network
errors, 408, 429 and 5xx with the batches' backoff, then raise the last error."""

import json
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Callable, Dict, Optional, Union
from urllib.parse import quote

from .errors import MeterkitDeliveryError, MeterkitValidationError
from .limits import ID_PATTERN, MAX_ID_LENGTH
from .retry import backoff_ms, is_retryable_status, parse_retry_after
from .transport import HttpTransport

Credits = Union[str, int, Decimal]
_DECIMAL = re.compile(r"\d+(\.\d+)?", re.ASCII)


@dataclass(frozen=True)
class Reservation:
    id: str
    customer_id: str
    #: The credits held, a decimal string.
    credits: str
    granted: bool
    #: Available credits after the hold, a decimal string.
    available: str
    expires_at: str


@dataclass(frozen=True)
class Release:
    id: str
    released: bool
    available: str


def credits_text(credits: object) -> str:
    """The decimal string of ``credits``; raises MeterkitValidationError for floats and bad values."""
    if isinstance(credits, bool) or isinstance(credits, float):
        raise MeterkitValidationError("credits", "must be a decimal string or decimal.Decimal, never a float (money is exact)")
    if isinstance(credits, int):
        text = str(credits)
    elif isinstance(credits, Decimal):
        text = format(credits, "f") if credits.is_finite() else ""
    elif isinstance(credits, str):
        text = credits
    else:
        raise MeterkitValidationError("credits", "must be a decimal string, int or decimal.Decimal")
    if _DECIMAL.fullmatch(text) is None:
        raise MeterkitValidationError("credits", f"must be a non-negative decimal such as \"12.5\" (got {text!r})")
    return text


class Reservations:
    def __init__(self, transport: HttpTransport, new_id: Callable[[], str], random: Callable[[], float],
                 clock: Callable[[], int], sleep: Callable[[float], Any], attempts: int = 4) -> None:
        self._transport = transport
        self._new_id = new_id
        self._random = random
        self._clock = clock
        self._sleep = sleep
        self._attempts = attempts

    def reserve(self, customer_id: str, credits: Credits, ttl_ms: Optional[int] = None, id: Optional[str] = None) -> Reservation:
        if not isinstance(customer_id, str) or customer_id == "":
            raise MeterkitValidationError("customer_id", "is required")
        text = credits_text(credits)
        if ttl_ms is not None and (isinstance(ttl_ms, bool) or not isinstance(ttl_ms, int) or ttl_ms <= 0):
            raise MeterkitValidationError("ttl_ms", "must be a positive whole number of milliseconds")
        if id is not None and (not isinstance(id, str) or not 0 < len(id) <= MAX_ID_LENGTH or ID_PATTERN.fullmatch(id) is None):
            raise MeterkitValidationError("id", f"must be 1–{MAX_ID_LENGTH} characters of A-Za-z0-9._:-")
        body: Dict[str, Any] = {"id": id if id is not None else f"res_{self._new_id()}", "customerId": customer_id, "credits": text}
        if ttl_ms is not None:
            body["ttlMs"] = ttl_ms
        r = self._call("/v1/reservations", json.dumps(body).encode())
        return Reservation(r["id"], r["customerId"], r["credits"], r["granted"], r["available"], r["expiresAt"])

    def release(self, id: str) -> Release:
        if not isinstance(id, str) or id == "":
            raise MeterkitValidationError("id", "is required")
        r = self._call(f"/v1/reservations/{quote(id, safe='')}/release", None)
        return Release(r["id"], r["released"], r["available"])

    def _call(self, path: str, body: Optional[bytes]) -> Dict[str, Any]:
        last = MeterkitDeliveryError("network", "not sent", 0)
        for attempt in range(self._attempts):
            answer = self._transport.call("POST", path, body)
            wait_ms: Optional[int] = None
            if answer.status is not None:
                try:
                    parsed = json.loads(answer.body)
                except ValueError:
                    parsed = None
                if 200 <= answer.status < 300 and isinstance(parsed, dict):
                    return parsed
                error = parsed.get("error") if isinstance(parsed, dict) else None
                error = error if isinstance(error, dict) else {}
                last = MeterkitDeliveryError(str(error.get("code", f"http_{answer.status}")),
                                             str(error.get("message", f"the collector answered {answer.status}")), 0, answer.status)
                if not is_retryable_status(answer.status):
                    raise last
                wait_ms = parse_retry_after(answer.retry_after, self._clock())
            else:
                last = MeterkitDeliveryError(answer.error, answer.message, 0)
            if attempt + 1 < self._attempts:
                self._sleep((wait_ms if wait_ms is not None else backoff_ms(attempt + 1, self._random)) / 1000)
        raise last


