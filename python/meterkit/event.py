"""``track()``'s arguments, their cheap synchronous checks, and the event serialized once.

The UTF-8 JSON made here is what sits in the queue, goes into batch bodies and the disk buffer,
so an event's content (and the collector's duplicate-vs-conflict verdict) never changes across
retries. It is byte for byte what the TypeScript SDK's ``JSON.stringify`` writes for the same
event (numbers formatted the ECMAScript way, non-ASCII left as is), which the shared test vectors
check. Full validation is the collector's job; here we catch only programmer errors, fast.
"""

import json
import numbers
import os
import re
from datetime import datetime
from decimal import Decimal
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple, Union

from .errors import MeterkitValidationError
from .limits import CONTROL_CHARACTERS, ID_PATTERN, MAX_CUSTOMER_ID_LENGTH, MAX_EVENT_BYTES, MAX_EVENT_NAME_LENGTH, MAX_ID_LENGTH
from .timestamps import datetime_ms, format_timestamp, parse_rfc3339

JsonValue = Any
Timestamp = Union[datetime, str, None]


class SerializedEvent:
    """One event as it travels: its id, its UTF-8 JSON and that JSON's size."""

    __slots__ = ("id", "data", "bytes")

    def __init__(self, id: str, data: bytes) -> None:
        self.id = id
        self.data = data
        self.bytes = len(data)

    def wire(self) -> Dict[str, Any]:
        """The event as the collector sees it (what ``on_drop`` receives)."""
        return json.loads(self.data)


class QueuedEvent(SerializedEvent):
    """An event in this process's memory, numbered in ``track()`` order (``flush()`` waits by number)."""

    __slots__ = ("seq",)

    def __init__(self, id: str, data: bytes, seq: int) -> None:
        super().__init__(id, data)
        self.seq = seq


def _check_name(field: str, value: object, maximum: int) -> str:
    if not isinstance(value, str):
        raise MeterkitValidationError(field, "is required" if value is None else "must be a string")
    if not 0 < len(value) <= maximum or ID_PATTERN.fullmatch(value) is None:
        raise MeterkitValidationError(field, f"must be 1–{maximum} characters of A-Za-z0-9._:-")
    return value


def _utf16_length(text: str) -> int:
    """Length as JavaScript (and so the collector) counts it: characters past U+FFFF count twice."""
    return len(text) + sum(1 for c in text if ord(c) > 0xFFFF) if not text.isascii() else len(text)


# --- numbers the ECMAScript way ---------------------------------------------------------------

def js_number(value: float) -> str:
    """``Number.prototype.toString`` of a finite float: the same shortest digits as ``repr``,
    laid out by ECMAScript's rules (``1e-7``, ``0.000001``, ``100000000000000000000``)."""
    if value == 0:
        return "0"
    text = repr(value)
    if "e" not in text:
        return text[:-2] if text.endswith(".0") else text
    mantissa, exponent = text.split("e")
    sign = "-" if mantissa.startswith("-") else ""
    digits = mantissa.lstrip("-").replace(".", "").rstrip("0") or "0"
    k = len(digits)
    n = int(exponent) + 1  # the decimal point sits after n digits
    if k <= n <= 21:
        out = digits + "0" * (n - k)
    elif 0 < n <= 21:
        out = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        out = "0." + "0" * (-n) + digits
    else:
        e = n - 1
        out = (digits if k == 1 else digits[0] + "." + digits[1:]) + ("e+" if e > 0 else "e-") + str(abs(e))
    return sign + out


# Values json.dumps cannot lay out like JSON.stringify are written as placeholders, then replaced.
_RAW_TOKEN = "mkraw" + os.urandom(8).hex()


class _Raw:
    __slots__ = ("texts",)

    def __init__(self) -> None:
        self.texts: List[str] = []

    def placeholder(self, text: str) -> str:
        self.texts.append(text)
        return f"{_RAW_TOKEN}{len(self.texts) - 1}."


def _convert(value: object, path: str, depth: int, raw: _Raw) -> Tuple[bool, object]:
    """Checks a property value; answers (changed, value to encode). Raises for non-JSON values."""
    if value is None or value is True or value is False or type(value) is str:
        return False, value
    if type(value) is int:
        return False, value
    if type(value) is float:
        if value != value or value in (float("inf"), float("-inf")):
            raise MeterkitValidationError(path, "must be a finite number")
        if value == 0 or value.is_integer():
            # Below 2^53 an integral float's digits are exact; past it ECMAScript writes the
            # shortest digits padded with zeros, which int() would not.
            if abs(value) < 9007199254740992:
                return True, int(value)
            return True, raw.placeholder(js_number(value))
        text = repr(value)
        if "e" in text:
            return True, raw.placeholder(js_number(value))
        return False, value
    if depth > 32:
        return False, value  # deeper: json.dumps finds cycles and foreign types
    if isinstance(value, dict):
        changed = False
        out: Dict[str, object] = {}
        for key, v in value.items():
            if not isinstance(key, str):
                raise MeterkitValidationError(f"{path}.{key}", "keys must be strings")
            c, nv = _convert(v, f"{path}.{key}", depth + 1, raw)
            changed = changed or c
            out[key] = nv
        return (True, out) if changed else (False, value)
    if isinstance(value, (list, tuple)):
        changed = False
        items: List[object] = []
        for i, v in enumerate(value):
            c, nv = _convert(v, f"{path}[{i}]", depth + 1, raw)
            changed = changed or c
            items.append(nv)
        return (True, items) if changed else (False, value)
    if isinstance(value, bool):
        return True, bool(value)
    if isinstance(value, int):
        return True, int(value)
    if isinstance(value, str):
        return True, str(value)
    if isinstance(value, float):
        return True, _convert(float(value), path, depth, raw)[1]
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise MeterkitValidationError(path, "must be a finite number")
        return True, raw.placeholder(str(value))
    if isinstance(value, datetime):
        return True, format_timestamp(datetime_ms(value))  # as Date#toJSON does
    # Other numeric types (numpy scalars, fractions) register with the numbers ABCs.
    if isinstance(value, numbers.Integral):
        return True, int(value)
    if isinstance(value, numbers.Real):
        return True, _convert(float(value), path, depth, raw)[1]
    return False, _not_json(path, value)


def _not_json(path: str, value: object) -> None:
    raise MeterkitValidationError(path, f"is not JSON ({type(value).__name__}); use dict, list, str, int, float, bool or None")


_SURROGATE = re.compile("[\ud800-\udfff]")
#: Text JSON writes as it is: no quote, backslash, control character or lone surrogate.
_SAFE_TEXT = re.compile(r'[^"\\\x00-\x1f\ud800-\udfff]*')


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)
_encode_json = _ENCODER.encode


def _json_text(value: object, raw: Optional[_Raw]) -> str:
    try:
        text = _encode_json(value)
    except (TypeError, ValueError, RecursionError) as err:
        raise MeterkitValidationError("properties", f"cannot be serialized as JSON ({err})") from None
    if raw is not None:
        for i, t in enumerate(raw.texts):
            text = text.replace(f'"{_RAW_TOKEN}{i}."', t, 1)
    return text


def _utf8(text: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        # Lone surrogates: escaped, as JSON.stringify does.
        return _SURROGATE.sub(lambda m: "\\u%04x" % ord(m.group()), text).encode("utf-8")


_PLAIN = (str, int, bool, type(None))


def _needs_convert(properties: Mapping[str, object]) -> bool:
    """False when json.dumps writes every value as JSON.stringify would (the common case: flat
    properties of strings, ints and floats that are neither integral nor in exponent form)."""
    for key, v in properties.items():
        t = type(v)
        if t in _PLAIN and type(key) is str:
            continue
        if t is float and v == v and not v.is_integer() and "e" not in repr(v) and v not in (_INF, _NINF):
            continue
        return True
    return False


_INF = float("inf")
_NINF = float("-inf")


def _timestamp_ms(value: object, now_ms: int) -> int:
    if value is None:
        return now_ms
    if isinstance(value, datetime):
        return datetime_ms(value)
    if isinstance(value, str):
        ms = parse_rfc3339(value)
        if ms is None:
            raise MeterkitValidationError("timestamp", "must be a valid date (RFC 3339, e.g. 2026-11-25T10:00:00.000Z)")
        return ms
    raise MeterkitValidationError("timestamp", "must be a datetime or an RFC 3339 string")


def serialize_event(
    event: object,
    customer_id: object,
    properties: Optional[Mapping[str, JsonValue]],
    id: Optional[str],
    timestamp: Timestamp,
    reservation_id: Optional[str],
    now_ms: int,
    new_id: Callable[[int], str],
    seq: int,
) -> QueuedEvent:
    """Checks the event's shape and serializes it. Raises MeterkitValidationError for programmer
    errors only: missing or malformed event/customer_id/id, non-JSON properties, an event over
    MAX_EVENT_BYTES."""
    name = _check_name("event", event, MAX_EVENT_NAME_LENGTH)
    if not isinstance(customer_id, str):
        raise MeterkitValidationError("customer_id", "is required" if customer_id is None else "must be a string")
    if (
        len(customer_id) == 0
        or (len(customer_id) > MAX_CUSTOMER_ID_LENGTH // 2 and _utf16_length(customer_id) > MAX_CUSTOMER_ID_LENGTH)
        or CONTROL_CHARACTERS.search(customer_id) is not None
    ):
        raise MeterkitValidationError("customer_id", f"must be 1–{MAX_CUSTOMER_ID_LENGTH} characters, no control characters")
    event_id = new_id(now_ms) if id is None else _check_name("id", id, MAX_ID_LENGTH)
    if reservation_id is not None:
        _check_name("reservation_id", reservation_id, MAX_ID_LENGTH)
    raw: Optional[_Raw] = None
    props: object = properties
    if properties is not None:
        if not isinstance(properties, dict):
            raise MeterkitValidationError("properties", "must be a dict of JSON values")
        if _needs_convert(properties):
            raw = _Raw()
            _, props = _convert(properties, "properties", 1, raw)
    ms = _timestamp_ms(timestamp, now_ms)
    try:
        stamp = format_timestamp(ms)
    except ValueError:
        raise MeterkitValidationError("timestamp", "must be a valid date (RFC 3339, e.g. 2026-11-25T10:00:00.000Z)") from None
    # Ids, names and timestamps are plain ASCII with nothing to escape: written as they are. Key
    # order and layout are JSON.stringify's for { id, event, customerId, timestamp, properties, reservationId }.
    text = '{"id":"' + event_id + '","event":"' + name + '","customerId":' + (
        '"' + customer_id + '"' if customer_id.isalnum() or _SAFE_TEXT.fullmatch(customer_id) else _json_text(customer_id, None)
    ) + ',"timestamp":"' + stamp + '"'
    if props is not None:
        text += ',"properties":' + _json_text(props, raw)
    if reservation_id is not None:
        text += ',"reservationId":"' + reservation_id + '"'
    data = _utf8(text + "}")
    if len(data) > MAX_EVENT_BYTES:
        raise MeterkitValidationError("event", f"serialized size {len(data)} bytes is over the {MAX_EVENT_BYTES}-byte limit")
    return QueuedEvent(event_id, data, seq)
