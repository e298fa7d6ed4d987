"""The retry policy, as in packages/core/src/backoff.ts and retry.ts: which answers are retried,
how long to wait (full-jitter exponential backoff, a pure function of the attempt number), and
``Retry-After``."""

import json
import math
import re
from typing import Any, Callable, List, NamedTuple, Optional

from .timestamps import _civil_from_days, _days_from_civil

BACKOFF_BASE_MS = 500
BACKOFF_CAP_MS = 60_000
#: Longest Retry-After honoured; a larger value is clamped to it.
MAX_RETRY_AFTER_MS = 60 * 60 * 1000

_DELTA_SECONDS = re.compile(r"\d+(\.\d+)?", re.ASCII)
_STATUSES = {"accepted", "duplicate", "queued", "conflict", "rejected"}


def backoff_ms(attempt: int, random: Callable[[], float], base_ms: int = BACKOFF_BASE_MS, cap_ms: int = BACKOFF_CAP_MS) -> int:
    """Delay before retry number ``attempt`` (1 = the first retry): uniform in
    [0, min(cap, base · 2^(attempt−1))) ("full jitter", AWS Architecture Blog, 2015)."""
    ceiling = min(cap_ms, base_ms * 2 ** max(0, min(attempt - 1, 52)))
    r = random()
    return math.floor((r if 0 <= r < 1 else 0) * ceiling)


def is_retryable_status(status: int) -> bool:
    """408, 429 and 5xx except 501 and 505; every other status is final."""
    return status == 408 or status == 429 or (500 <= status <= 599 and status not in (501, 505))


_MONTHS = "Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec"
_DAYS = "Mon|Tue|Wed|Thu|Fri|Sat|Sun"
# The three HTTP-date forms a recipient must accept (RFC 9110 §5.6.7), always in GMT.
_IMF_FIXDATE = re.compile(rf"(?:{_DAYS}), (\d\d) ({_MONTHS}) (\d{{4}}) (\d\d):(\d\d):(\d\d) GMT", re.ASCII)
_RFC850_DATE = re.compile(
    rf"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), (\d\d)-({_MONTHS})-(\d\d) (\d\d):(\d\d):(\d\d) GMT", re.ASCII)
_ASCTIME_DATE = re.compile(rf"(?:{_DAYS}) ({_MONTHS}) ([ \d]\d) (\d\d):(\d\d):(\d\d) (\d{{4}})", re.ASCII)
_MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def parse_http_date(text: str, now_ms: int) -> Optional[int]:
    """An HTTP-date in ms since the epoch, or None when ``text`` is none of its three forms."""
    m = _IMF_FIXDATE.fullmatch(text)
    if m is not None:
        day, month, year, clock = m.group(1), m.group(2), int(m.group(3)), m.group(4, 5, 6)
    elif (m := _RFC850_DATE.fullmatch(text)) is not None:
        # A two-digit year more than 50 years ahead is the most recent past year with those digits.
        this_year = _civil_from_days(now_ms // 86_400_000)[0]
        year = this_year - this_year % 100 + int(m.group(3))
        if year > this_year + 50:
            year -= 100
        day, month, clock = m.group(1), m.group(2), m.group(4, 5, 6)
    elif (m := _ASCTIME_DATE.fullmatch(text)) is not None:
        day, month, year, clock = m.group(2).strip(), m.group(1), int(m.group(6)), m.group(3, 4, 5)
    else:
        return None
    month_index = _MONTHS.split("|").index(month)
    d, hour, minute, second = int(day), int(clock[0]), int(clock[1]), int(clock[2])
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    month_days = 29 if month_index == 1 and leap else _MONTH_DAYS[month_index]
    if d < 1 or d > month_days or hour > 23 or minute > 59 or second > 60:
        return None
    return (((_days_from_civil(year, month_index + 1, d) * 24 + hour) * 60 + minute) * 60 + second) * 1000


def parse_retry_after(value: Optional[str], now_ms: int) -> Optional[int]:
    """``Retry-After`` as delta-seconds (a fraction is tolerated) or an HTTP-date, in ms from
    ``now_ms``; None if absent or anything else (then the backoff applies)."""
    if value is None:
        return None
    text = value.strip()
    if _DELTA_SECONDS.fullmatch(text):
        ms: float = float(text) * 1000
    else:
        at = parse_http_date(text, now_ms)
        if at is None:
            return None
        ms = at - now_ms
    return min(max(0, math.ceil(ms)), MAX_RETRY_AFTER_MS)


class Outcome(NamedTuple):
    """What one attempt at sending a batch came to: ``results``, ``retry``, ``split`` or ``fatal``."""

    kind: str
    results: Optional[List[Any]] = None
    code: str = ""
    message: str = ""
    status: Optional[int] = None
    retry_after_ms: Optional[int] = None


def read_batch_results(body: object) -> Optional[List[Any]]:
    results = body.get("results") if isinstance(body, dict) else None
    if isinstance(results, list) and all(isinstance(r, dict) and r.get("status") in _STATUSES for r in results):
        return results
    return None


def read_error(body: str, status: int) -> "tuple[str, str]":
    try:
        error = json.loads(body).get("error")
        if isinstance(error, dict) and isinstance(error.get("code"), str) and isinstance(error.get("message"), str):
            return error["code"], error["message"]
    except (ValueError, AttributeError):
        pass
    return f"http_{status}", f"HTTP {status}"


def classify(status: Optional[int], body: str, retry_after: Optional[str], event_count: int, now_ms: int,
             error: str = "", message: str = "") -> Outcome:
    """Maps one answer (``status`` None: a network error or timeout named by ``error``) to an Outcome."""
    if status is None:
        return Outcome("retry", code=error, message=message)
    if 200 <= status < 300:
        try:
            results = read_batch_results(json.loads(body))
            if results is not None and len(results) == event_count:
                return Outcome("results", results=results)
        except ValueError:
            pass
        # The batch may have been applied; resending is safe because ids deduplicate.
        return Outcome("retry", code="invalid_response", message=f"HTTP {status} with an unreadable body", status=status)
    if status == 413:
        return Outcome("split")
    code, msg = read_error(body, status)
    if is_retryable_status(status):
        return Outcome("retry", code=code, message=msg, status=status, retry_after_ms=parse_retry_after(retry_after, now_ms))
    return Outcome("fatal", code=code, message=msg, status=status)
