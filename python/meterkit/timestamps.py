"""RFC 3339 timestamps: any offset accepted on input, UTC with milliseconds on output
(``2026-11-25T10:00:00.000Z``), computed with integer arithmetic so that every instant the
protocol can express (years 0000–9999, leap seconds folded onto the next second) reads and
formats exactly as the TypeScript SDK's ``readTimestamp`` and ``Date#toISOString`` do.
"""

import re
import time
from datetime import datetime, timezone
from typing import Optional, Tuple

_RFC3339 = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)[Tt](\d\d):(\d\d):(\d\d)(?:\.(\d+))?(?:[Zz]|([+-])(\d\d):(\d\d))", re.ASCII
)
_MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
#: Years 0000–9999: what four-digit RFC 3339 years can say.
MIN_MS = -62_167_219_200_000
MAX_MS = 253_402_300_799_999


def _days_from_civil(y: int, m: int, d: int) -> int:
    # Howard Hinnant's algorithm: days since 1970-01-01 in the proleptic Gregorian calendar.
    y -= m <= 2
    era = y // 400  # floor division: the C original adjusts truncation for negatives
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _civil_from_days(z: int) -> Tuple[int, int, int]:
    z += 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + (3 if mp < 10 else -9)
    return yoe + era * 400 + (m <= 2), m, d


def parse_rfc3339(text: str) -> Optional[int]:
    """Milliseconds since the epoch, or None when ``text`` is not an RFC 3339 date-time."""
    m = _RFC3339.fullmatch(text) if len(text) <= 64 else None
    if m is None:
        return None
    year, month, day, hour, minute, second = (int(g) for g in m.group(1, 2, 3, 4, 5, 6))
    offset_hours = int(m.group(9) or 0)
    offset_minutes = int(m.group(10) or 0)
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    if not 1 <= month <= 12:
        return None
    month_days = 29 if month == 2 and leap else _MONTH_DAYS[month - 1]
    if day < 1 or day > month_days or hour > 23 or minute > 59 or second > 60 or offset_hours > 23 or offset_minutes > 59:
        return None
    # Precision past the millisecond is dropped; a leap second (:60) folds onto the next second.
    ms = int((m.group(7) or "")[:3].ljust(3, "0"))
    offset = (offset_hours * 60 + offset_minutes) * (-1 if m.group(8) == "-" else 1)
    days = _days_from_civil(year, month, day)
    return ((days * 24 + hour) * 60 + minute) * 60_000 + second * 1000 + ms - offset * 60_000


#: The formatted second (``2026-11-25T10:00:00.``) of the last timestamp, reused within that
#: second. One tuple, replaced whole: threads never see a second with another second's text.
_cache: Tuple[int, str] = (-(10**18), "")


def format_timestamp(ms: int) -> str:
    """``2026-11-25T10:00:00.000Z`` for epoch milliseconds within years 0000–9999."""
    global _cache
    if not MIN_MS <= ms <= MAX_MS:
        raise ValueError("timestamp outside years 0000-9999")
    second, milli = divmod(ms, 1000)
    cached = _cache
    if cached[0] == second:
        prefix = cached[1]
    else:
        days, rest = divmod(second, 86_400)
        y, mo, d = _civil_from_days(days)
        hh, rest = divmod(rest, 3600)
        mm, ss = divmod(rest, 60)
        prefix = "%04d-%02d-%02dT%02d:%02d:%02d." % (y, mo, d, hh, mm, ss)
        _cache = (second, prefix)
    return prefix + ("%03d" % milli) + "Z"


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def datetime_ms(value: datetime) -> int:
    """Epoch milliseconds of a datetime; a naive one is local time, as ``datetime.timestamp()`` has it."""
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        value = value.astimezone()  # local time zone, DST included
    delta = value - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def now_ms() -> int:
    return time.time_ns() // 1_000_000
